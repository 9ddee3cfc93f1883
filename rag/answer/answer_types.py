"""What a question asks for (a number, a date, a name, a place) and where a sentence states it.

No NER model ships with the app, so types are read from surface forms that hold in edited English:
numbers are digits or number words, dates name a month, weekday or year, and names, places and
other named entities are runs of capitalized words that the question does not already contain.
"""

from __future__ import annotations

import re

NUMBER, DATE, PERSON, PLACE, ENTITY, OTHER = "number", "date", "person", "place", "entity", "other"

_QUESTION_TYPES = (
    (DATE, re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\b(which|what) (days?|years?|months?|"
                      r"dates?|decade|century)\b|\bhow long ago\b|\bsince when\b", re.I)),
    (NUMBER, re.compile(r"\bhow (many|much|old|long|far|tall|big|large|high|deep|often)\b|"
                        r"\bwhat (percentage|percent|share|number|amount|proportion|price)\b|"
                        r"\bwhat is the (population|cost|price|number|rate|value|size)\b", re.I)),
    (PERSON, re.compile(r"\bwho(m|se)?\b", re.I)),
    (PLACE, re.compile(r"\bwhere\b|\b(which|what) (country|countries|city|cities|state|states|town|"
                       r"region|continent|island|place|nation|capital|province|county)\b", re.I)),
    (ENTITY, re.compile(r"\bwhich\b|\bwhat (is|was|are|were) the name\b|\bname (of|the)\b", re.I)),
)

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAYS = r"\d{1,2}(?:st|nd|rd|th)?(?:\s*(?:-|–|and|to)\s*\d{1,2}(?:st|nd|rd|th)?)?"
_YEAR = r"(?:1[5-9]\d\d|20\d\d)s?"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+{_DAYS}(?:,?\s+{_YEAR})?|{_DAYS}\s+{_MONTH}(?:,?\s+{_YEAR})?|"
    rf"{_MONTH},?\s+{_YEAR}|(?:early|mid|late)[- ]{_YEAR}|{_YEAR}|"
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|\d{4}-\d\d-\d\d)\b")
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                 r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
                 r"eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|"
                 r"once|twice")
_NUMBER = re.compile(
    rf"(?:[$€£¥]\s?)?\b\d[\d,.]*(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand))?"
    rf"|\b(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*\b", re.I)
_CAPITALIZED = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|the|de|van|von|al|bin|and|for)?\s*[A-Z][\w'’.-]*)*")
_QUOTED = re.compile(r"[\"“]([^\"“”]{2,60})[\"”]")
_CALENDAR = re.compile(rf"{_MONTH}|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday")
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|into|across|outside|inside|of)\s+(?:the\s+)?$", re.I)
_NOT_NAMES = frozenset(
    "The A An This That These Those It Its He She They We I In On At For From By With As But And Or "
    "If When Where Who What Which How Why After Before During Since While Mr Mrs Ms Dr".split())


def question_type(question: str) -> str:
    """The kind of answer a question asks for: number, date, person, place, entity or other."""
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return OTHER


def typed_spans(sentence: str, kind: str, question: str) -> list[tuple[int, int]]:
    """Spans of ``sentence`` that could be the asked-for thing, in sentence order, none already asked."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    if kind == NUMBER:  # a year or a day of the month is a date, not an amount
        dates = _matches(_DATE, sentence)
        spans = [s for s in _matches(_NUMBER, sentence) if not any(_overlap(s, d) for d in dates)]
    elif kind == DATE:
        spans = _matches(_DATE, sentence)
    elif kind in (PERSON, PLACE, ENTITY):
        spans = _names(sentence, asked, kind)
    else:
        return []
    spans = [_trimmed(sentence, span) for span in spans]
    return [(s, e) for s, e in spans if e > s and not _asked(sentence[s:e], asked)]


def _matches(pattern: re.Pattern, sentence: str) -> list[tuple[int, int]]:
    """Every match of a pattern, as spans."""
    return [m.span() for m in pattern.finditer(sentence) if m.group().strip()]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True when two spans share a character."""
    return a[0] < b[1] and b[0] < a[1]


def _trimmed(sentence: str, span: tuple[int, int]) -> tuple[int, int]:
    """A span without trailing punctuation ("Pakistan." -> "Pakistan")."""
    start, end = span
    while end > start and sentence[end - 1] in ".,;:!?'’\"”) ":
        end -= 1
    return start, end


def _names(sentence: str, asked: set[str], kind: str) -> list[tuple[int, int]]:
    """Runs of capitalized words (and, for entities, quoted titles) that are names, not sentence openers."""
    spans = []
    for m in _CAPITALIZED.finditer(sentence):
        words = m.group().split()
        while words and words[0] in _NOT_NAMES:
            words = words[1:]
        if not words or any(w.lower().strip(".'’") in asked for w in words) or _CALENDAR.fullmatch(words[0]):
            continue
        start = sentence.index(words[0], m.start())
        if kind == PLACE and not _PLACE_CUE.search(sentence[:start]):
            continue
        spans.append((start, m.end()))
    if kind == ENTITY:
        spans += [m.span(1) for m in _QUOTED.finditer(sentence)]
    return sorted(spans)


def _asked(text: str, asked: set[str]) -> bool:
    """True when every word of a span already appears in the question."""
    words = [w.lower() for w in re.findall(r"\w+", text)]
    return bool(words) and all(w in asked for w in words)
