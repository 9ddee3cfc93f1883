"""Publication dates: found in free text in the forms news uses, always handed on as ISO dates."""

from __future__ import annotations

import re
from datetime import date, timedelta

_NUMERIC = re.compile(r"(?<!\d)(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?!\d)")  # 2022-06-16, 2022/06/16, 2022.6.16


def find_date(text: str) -> str | None:
    """The first real calendar date in ``text`` as YYYY-MM-DD (month 13 or 30 Feb are not dates)."""
    for match in _NUMERIC.finditer(text):
        year, _, month, day = match.groups()
        try:
            return date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            continue
    return None


def days_between(earlier: str, later: str) -> int:
    """Whole days from one ISO date to another (negative when ``earlier`` is after ``later``)."""
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def days_before(iso: str, days: int) -> str:
    """The ISO date ``days`` days before ``iso``."""
    return (date.fromisoformat(iso) - timedelta(days=days)).isoformat()


def date_number(date: str | None) -> int:
    """2020-09-12 -> 20200912 (0 for none): dates compared as numbers, as stores filter them."""
    return int(date.replace("-", "")) if date else 0
