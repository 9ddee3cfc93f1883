"""How answers and questions word their facts: numbers in any spelling, the forms of a name, what a
number counts. Shared by the sentence scorer's features and the verifier, so both read a text alike."""

from __future__ import annotations

import re

WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[A-Za-z][A-Za-z'’-]*")  # numbers in digits, and words
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                      "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
                      "million": "1000000", "billion": "1000000000", "dozen": "12"})
NOT_NAMES = frozenset(
    "i a an the this that these those it its he she they we you his her their our in on at of for to "
    "and or but as by with from after before during when while if however also yes no according "
    "in the".split())
# Endings that turn a country into its people or a name into its plural ("China"/"Chinese" share "chin").
_ENDINGS = ("ians", "ian", "ans", "ese", "ish", "an", "ia", "es", "a", "i", "s", "y")
_IRREGULAR = {"french": "france", "dutch": "netherlands", "british": "britain", "swiss": "switzerland",
              "spanish": "spain", "english": "england", "welsh": "wales", "irish": "ireland",
              "scottish": "scotland", "danish": "denmark", "swedish": "sweden", "finnish": "finland",
              "polish": "poland", "turkish": "turkey", "greek": "greece", "thai": "thailand",
              "filipino": "philippines", "norwegian": "norway", "icelandic": "iceland",
              "portuguese": "portugal", "peruvian": "peru", "arab": "arabia", "kiwi": "zealand"}
_IRREGULAR.update({country: people for people, country in list(_IRREGULAR.items())})
AUXILIARY = frozenset("be is are was were been being do does did have has had can could will would "
                      "shall should may might must also actually even ever".split())
_COUNTED_WORDS = 4  # words after a number that say what it counts ("six of them American citizens")
HOW_MANY = re.compile(r"\bhow (?:many|much)\s+(.*)", re.I)
_ASKED_COUNT_WORDS = 1  # "how many [people were] killed": the thing counted comes right after


def numbers_in(text: str) -> set[str]:
    """Numbers a text states, in digits ("seven" and "7" are the same)."""
    return {value for token in _TOKEN.findall(text) if (value := _number_value(token))}


def bare(word: str) -> str:
    """A word lower-cased without its possessive ending or stray apostrophes."""
    return re.sub(r"['’]s$", "", word.lower()).strip("'’-")


def word_forms(word: str) -> set[str]:
    """A word and its stems: "Chinese" and "China" both give "chin", "Kennedys" gives "kennedy"."""
    word = bare(word)
    forms = {word, *([_IRREGULAR[word]] if word in _IRREGULAR else [])}
    forms |= {word[:-len(e)] for e in _ENDINGS if word.endswith(e) and len(word) - len(e) >= 4}
    return forms


def forms_in(text: str) -> set[str]:
    """The forms of every word of a text."""
    return {f for w in WORD.findall(text) for f in word_forms(w)}


def counted(text: str) -> list[tuple[str, set[str]]]:
    """Each number of a text with the forms of the words after it, up to the next number: what it counts."""
    tokens = _TOKEN.findall(text)
    values = [_number_value(t) for t in tokens]
    out = []
    for i, value in enumerate(values):
        if value is None:
            continue
        after = []
        for token, other in zip(tokens[i + 1:i + 1 + _COUNTED_WORDS], values[i + 1:]):
            if other is not None:
                break
            if token.lower() not in NOT_NAMES and token.lower() not in AUXILIARY:
                after.append(token)
        out.append((value, {f for w in after for f in word_forms(w)}))
    return out


def asked_count(question: str) -> set[str]:
    """The forms of what a "how many / how much" question counts ("people" in "how many people died");
    empty for other questions."""
    asked = HOW_MANY.search(question)
    words = WORD.findall(asked.group(1)) if asked else []
    if not words or words[0].lower() in AUXILIARY:  # "how much does a gallon cost" asks an amount
        return set()
    words = [w for w in words if w.lower() not in NOT_NAMES | AUXILIARY]
    return forms_in(" ".join(words[:_ASKED_COUNT_WORDS]))


def counts_asked(sentence: str, asked: set[str]) -> bool:
    """True when a number of the sentence counts what the question asks about ("166 people")."""
    return bool(asked) and any(asked & things for _, things in counted(sentence))


def _number_value(token: str) -> str | None:
    """A token's number in digits, or None for a word that is no number."""
    if token[0].isdigit():
        return token.replace(",", "").rstrip(".")
    return _NUMBER_WORDS.get(token.lower())
