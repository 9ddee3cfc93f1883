"""Turning a follow-up question into a standalone retrieval query using the conversation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_FOLLOW_UP = re.compile(
    r"^(and|but|also|what about|how about|and what|why|so)\b|\b(it|its|they|them|their|he|she|his|"
    r"her|this|that|those|these|there|the other|one|ones)\b", re.IGNORECASE)


# "And the Indian one?" after "Who led the American delegation?": the word that changes, and where.
_ANOTHER_ONE = re.compile(
    r"^\s*(?:and|but|what about|how about)\s+(?:the\s+)?(?P<which>[\w'’-]+)\s+ones?\s*\??\s*$", re.IGNORECASE)
_MODIFIED_NOUN = re.compile(
    r"\bthe\s+(?P<which>[\w'’-]+)\s+(?!(?:of|in|on|at|for|to|and|or|by|with)\b)[a-z]\w*")


def standalone_query(question: str, history: list[tuple[str, str]] | None) -> str:
    """The question alone, or with the previous question prepended when it reads as a follow-up.

    "And the Indian one?" after "Who led the American delegation?" becomes "Who led the Indian
    delegation?": the previous question with its modifier swapped, since both joined would still
    ask about the American one first. ``history`` holds (user, assistant) turns, oldest first.
    """
    if not history:
        return question
    previous = next((user for user, _ in reversed(history) if user.strip()), "")
    if previous and (another := _ANOTHER_ONE.match(question)):
        modified = list(_MODIFIED_NOUN.finditer(previous))
        if modified:
            at = modified[-1]
            return f"{previous[:at.start('which')]}{another['which']}{previous[at.end('which'):]}"
    if previous and (len(question.split()) <= 6 or _FOLLOW_UP.search(question)):
        return f"{previous} {question}"
    return question


def message_text(content: object) -> str:
    """The text of a message's content: a string, or a list of typed parts whose text parts are joined."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    return " ".join(p.get("text") or "" for p in parts
                    if isinstance(p, dict) and p.get("type", "text") == "text")


def history_pairs(items: Iterable[object]) -> list[tuple[str, str]]:
    """Earlier turns as (user, assistant) pairs, from pairs or OpenAI-style ``{role, content}`` messages.

    Messages are paired in order: a user message, then the next assistant message; system and tool
    messages, and a user message without a reply, are left out.
    """
    turns, pending = [], None
    for item in items:
        if not isinstance(item, Mapping):
            user, assistant = item
            turns.append((str(user), str(assistant)))
        elif item.get("role") == "user":
            pending = message_text(item.get("content"))
        elif item.get("role") == "assistant" and pending is not None:
            turns.append((pending, message_text(item.get("content"))))
            pending = None
    return turns
