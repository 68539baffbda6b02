"""The bank's rules that come from configuration, and the clock."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Callable
from zoneinfo import ZoneInfo

from banking_core.models import CHANNELS


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class BankPolicy:
    max_failed_attempts: int = 3
    timezone: ZoneInfo = ZoneInfo("America/Mexico_City")
    daily_limits: dict = dataclasses.field(
        default_factory=lambda: {"phone": 2_000_000, "web": 5_000_000, "agent": 2_000_000,
                                 "domiciliacion": 5_000_000}
    )
    clabe_bank_code: str = "999"
    clabe_plaza_code: str = "180"

    @classmethod
    def from_settings(cls, settings) -> "BankPolicy":
        return cls(
            max_failed_attempts=settings.max_failed_attempts,
            timezone=ZoneInfo(settings.bank_timezone),
            daily_limits={c: settings.daily_limit(c) for c in CHANNELS},
            clabe_bank_code=settings.clabe_bank_code,
            clabe_plaza_code=settings.clabe_plaza_code,
        )

    def start_of_local_day(self, now: dt.datetime) -> dt.datetime:
        """Midnight of `now`'s day in the bank's time zone, as UTC: daily limits
        reset at the customer's midnight, not UTC's."""
        local = now.astimezone(self.timezone)
        midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=self.timezone)
        return midnight.astimezone(dt.timezone.utc)


Clock = Callable[[], dt.datetime]
