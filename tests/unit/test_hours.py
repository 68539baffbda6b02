import datetime as dt

import pytest

from config.hours import parse_hours
from ivr.readers.es_mx import hours as say_hours

MONDAY = dt.datetime(2026, 11, 23)  # a Monday


def at(day_offset, hour, minute=0):
    return MONDAY + dt.timedelta(days=day_offset, hours=hour, minutes=minute)


def test_windows_open_and_close_at_their_minutes():
    hours = parse_hours("mon-fri 08:00-20:00; sat 09:00-14:00")
    assert hours.open_at(at(0, 8)) and hours.open_at(at(4, 19, 59))
    assert not hours.open_at(at(0, 7, 59)) and not hours.open_at(at(0, 20))
    assert hours.open_at(at(5, 9)) and not hours.open_at(at(5, 14))
    assert not hours.open_at(at(6, 12))  # Sunday


def test_a_day_range_may_wrap_past_sunday_and_24_00_ends_the_day():
    hours = parse_hours("sat-mon 00:00-24:00")
    assert hours.open_at(at(5, 23, 59)) and hours.open_at(at(6, 0)) and hours.open_at(at(0, 12))
    assert not hours.open_at(at(1, 12))


@pytest.mark.parametrize("text", ["", "lun-vie 08:00-20:00", "mon 20:00-08:00",
                                  "mon 08:00-25:00", "mon 8-20", "mon-fri"])
def test_malformed_hours_are_refused(text):
    with pytest.raises(ValueError):
        parse_hours(text)


def test_hours_are_said_in_spanish():
    assert say_hours(parse_hours("mon-fri 08:00-20:00; sat 09:00-14:00")) == \
        "de lunes a viernes de las ocho de la mañana a las ocho de la noche y sábado de " \
        "las nueve de la mañana a las dos de la tarde"
