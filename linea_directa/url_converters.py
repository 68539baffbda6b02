"""URL converters shared by every blueprint of the app.

Werkzeug's `<int:…>` matches `\\d+` (any Unicode digit) and converts with
int(): `/escritorio/llamadas/١٢` reached hand-off 12, and twenty nines reached
the database as an integer SQLite cannot hold (a 500). Ids in our URLs are
ASCII digits that fit a BIGINT, like every other number the bank reads
(banking_core/digits.py).
"""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from banking_core.digits import MAX_INT_DIGITS


class AsciiIntegerConverter(IntegerConverter):
    regex = rf"[0-9]{{1,{MAX_INT_DIGITS}}}"


def init_app(app) -> None:
    """Replaces `int` before any blueprint is registered (rules bind their
    converter when they are added)."""
    app.url_map.converters["int"] = AsciiIntegerConverter
