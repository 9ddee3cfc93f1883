"""Turning a follow-up question into a standalone retrieval query using the conversation."""

from __future__ import annotations

import re

_FOLLOW_UP = re.compile(
    r"^(and|but|also|what about|how about|and what|why|so)\b|\b(it|its|they|them|their|he|she|his|"
    r"her|this|that|those|these|there|the other|one|ones)\b", re.IGNORECASE)


def standalone_query(question: str, history: list[tuple[str, str]] | None) -> str:
    """The question alone, or with the previous question prepended when it reads as a follow-up.

    ``history`` holds (user, assistant) turns, oldest first.
    """
    if not history:
        return question
    previous = next((user for user, _ in reversed(history) if user.strip()), "")
    if previous and (len(question.split()) <= 6 or _FOLLOW_UP.search(question)):
        return f"{previous} {question}"
    return question
