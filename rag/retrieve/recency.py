"""News-aware ranking: a passage dated shortly before the question's as-of date gains a little score."""

from __future__ import annotations

from dataclasses import dataclass

from rag.dates import days_before, days_between


@dataclass(frozen=True)
class Recency:
    """A bonus of ``weight`` (times the best score) on the as-of day, halving every ``half_life_days``."""

    half_life_days: float  # RAG_RECENCY_HALF_LIFE
    weight: float  # RAG_RECENCY_WEIGHT

    @property
    def enabled(self) -> bool:
        """A zero weight or half-life turns the bonus off."""
        return self.weight > 0 and self.half_life_days > 0

    def window_start(self, as_of: str) -> str:
        """The first day whose bonus is still worth a search of its own (a sixteenth of the full one)."""
        return days_before(as_of, round(4 * self.half_life_days))

    def bonus(self, date: str | None, as_of: str) -> float:
        """The score a passage dated ``date`` gains; undated or later passages gain nothing."""
        if not date:
            return 0.0
        age = days_between(date, as_of)
        return self.weight * 0.5 ** (age / self.half_life_days) if age >= 0 else 0.0
