"""Sentence spans in text, as (start, end) character offsets."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen rep rev inc ltd co corp vs etc "
    "no fig jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n a.m p.m approx".split()
)
# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by space, or at a line break.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\n")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the sentences in ``text[start:end]``, whitespace trimmed, in document coordinates."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    begin = start
    for match in _BOUNDARY.finditer(text, start, end):
        if match.group() != "\n" and _is_abbreviation(text, begin, match.start()):
            continue
        _append_trimmed(text, begin, match.end(), spans)
        begin = match.end()
    _append_trimmed(text, begin, end, spans)
    return spans


def _is_abbreviation(text: str, begin: int, dot: int) -> bool:
    """True when the period at ``dot`` ends an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    word = text[max(begin, dot - 12):dot].rsplit(None, 1)[-1:] or [""]
    token = word[0].lstrip("(\"'“‘").lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()) or _next_is_lower(text, dot)


def _next_is_lower(text: str, dot: int) -> bool:
    """A period followed by a lowercase word rarely ends a sentence."""
    rest = text[dot + 1:dot + 4].lstrip()
    return bool(rest) and rest[0].islower()


def _append_trimmed(text: str, begin: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Add ``text[begin:end]`` without surrounding whitespace, if anything is left."""
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    if end > begin:
        spans.append((begin, end))
