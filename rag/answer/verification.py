"""Checking a generated answer: every [n] must name a real passage that supports its sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.answer.citations import citation_id
from rag.embedding import Embedder
from rag.sentences import sentence_spans
from rag.types import Citation, ScoredChunk

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                      "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
                      "million": "1000000", "billion": "1000000000", "dozen": "12"})
_NOT_NAMES = frozenset(
    "i a an the this that these those it its he she they we you his her their our in on at of for to "
    "and or but as by with from after before during when while if however also yes no according "
    "in the".split())


@dataclass(frozen=True)
class Span:
    """One sentence of a passage, in document coordinates."""

    passage: int  # 1-based number of the passage in the prompt
    start: int
    end: int
    text: str
    previous: str = ""  # the sentence before it, which often names what "it" or "the attack" is


@dataclass
class Claim:
    """One sentence of the generated answer and the passages it cites."""

    text: str
    cited: list[int]
    dropped: list[int] = field(default_factory=list)  # markers naming passages that do not exist


@dataclass
class Verified:
    """The checked answer: text with renumbered markers, citations, and unsupported sentences."""

    text: str
    citations: list[Citation]
    unsupported: list[str]
    dropped: int  # markers removed because their passage does not exist


def split_claims(text: str, passages: int) -> list[Claim]:
    """Sentences of a generated answer with their [n] markers; markers after a period stay with it."""
    pieces: list[tuple[str, list[str]]] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        leading = _LEADING_MARKERS.match(sentence)
        if leading and pieces:
            pieces[-1][1].append(leading.group())
            sentence = sentence[leading.end():]
        pieces.append((sentence, []))
    claims = []
    for sentence, extra in pieces:
        numbers = [int(n) for group in _MARKERS.findall(sentence + " ".join(extra))
                   for n in re.split(r"\s*[,;]\s*", group)]
        claim = _MARKERS.sub("", sentence).strip()
        claim = re.sub(r"\s+([.!?,;:])", r"\1", claim)
        if not claim.strip(" .!?"):
            continue
        cited = list(dict.fromkeys(n for n in numbers if 1 <= n <= passages))
        claims.append(Claim(claim, cited, [n for n in numbers if not 1 <= n <= passages]))
    return claims


def numbers_in(text: str) -> set[str]:
    """Numbers a text states, in digits ("seven" and "7" are the same)."""
    found = {m.group().replace(",", "").rstrip(".") for m in _NUMBER.finditer(text)}
    found |= {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    return found


def names_in(text: str) -> set[str]:
    """Capitalised words after the first: the names a claim states, lower-cased."""
    words = _WORD.findall(text)[1:]
    return {w.lower().strip("'’-") for w in words
            if w[0].isupper() and w.lower() not in _NOT_NAMES and len(w) > 1}


def facts_match(claim: str, support: str, context: str = "") -> bool:
    """True when the claim's numbers and names all appear in the supporting text (or its context)."""
    source = f"{support} {context}"
    if not numbers_in(claim) <= numbers_in(source):
        return False
    lowered = source.lower()
    return all(name[:5] in lowered for name in names_in(claim))


class Verifier:
    """Checks each sentence of a generated answer against the passages it cites."""

    def __init__(self, embedder: Embedder, min_support: float) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def verify(self, text: str, passages: list[ScoredChunk]) -> Verified:
        """Drop markers for missing passages, check each citation, renumber, flag unsupported sentences."""
        claims = split_claims(text, len(passages))
        spans = _passage_spans(passages)
        if not claims or not spans:
            return Verified(text.strip(), [], [c.text for c in claims], sum(len(c.dropped) for c in claims))
        vectors = self.embedder.embed([c.text for c in claims] + [s.text for s in spans])
        similarity = vectors[:len(claims)] @ vectors[len(claims):].T
        builder = _Builder(passages)
        sentences = [self._check(c, similarity[i], spans, passages, builder) for i, c in enumerate(claims)]
        unsupported = [c.text for c, (_, ok) in zip(claims, sentences) if not ok]
        return Verified(" ".join(s for s, _ in sentences), builder.citations, unsupported,
                        sum(len(c.dropped) for c in claims))

    def _check(self, claim: Claim, similarity: np.ndarray, spans: list[Span],
               passages: list[ScoredChunk], builder: _Builder) -> tuple[str, bool]:
        """The claim with renumbered markers, and whether any citation supports it."""
        marks: list[int] = []
        supported = False
        for n in claim.cited:
            span, score, ok = self._support(claim.text, similarity, spans, passages, {n})
            marks.append(builder.add(span, score, ok))
            supported |= ok
        if not claim.cited:  # an uncited sentence: attach the passage that supports it, if one does
            span, score, ok = self._support(claim.text, similarity, spans, passages, None)
            if ok:
                marks.append(builder.add(span, score, ok))
                supported = True
        suffix = "".join(f" [{m}]" for m in dict.fromkeys(marks))
        return claim.text + suffix, supported

    def _support(self, claim: str, similarity: np.ndarray, spans: list[Span],
                 passages: list[ScoredChunk], allowed: set[int] | None) -> tuple[Span | None, float, bool]:
        """The best supporting sentence among the allowed passages, its similarity, and whether it holds."""
        best: tuple[Span | None, float] = (None, -1.0)
        for i in np.argsort(-similarity):
            span = spans[i]
            if allowed is not None and span.passage not in allowed:
                continue
            score = float(similarity[i])
            if best[0] is None:
                best = (span, score)
            if score < self.min_support:
                break
            chunk = passages[span.passage - 1].chunk
            if facts_match(claim, span.text, f"{span.previous} {chunk.title} {chunk.date or ''}"):
                return span, score, True
        return best[0], best[1], False


class _Builder:
    """Numbers citations in order of first use; one number per quoted span."""

    def __init__(self, passages: list[ScoredChunk]) -> None:
        self.passages = passages
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[int, int, int, bool], int] = {}

    def add(self, span: Span | None, score: float, verified: bool) -> int:
        """The citation number for a span (its passage's opening sentence when none matched)."""
        assert span is not None
        key = (span.passage, span.start, span.end, verified)
        if key not in self._numbers:
            chunk = self.passages[span.passage - 1].chunk
            n = len(self.citations) + 1
            self._numbers[key] = n
            self.citations.append(Citation(
                n=n, id=citation_id(chunk.id, span.start, span.end), doc_id=chunk.doc_id,
                title=chunk.title, source=chunk.source, date=chunk.date, quote=span.text,
                start=span.start, end=span.end, chunk_id=chunk.id, score=round(score, 4),
                passage=chunk.text, passage_start=chunk.start, page=chunk.page, verified=verified))
        return self._numbers[key]


def _passage_spans(passages: list[ScoredChunk]) -> list[Span]:
    """Every sentence of every passage, numbered by passage, in document coordinates."""
    spans = []
    for n, p in enumerate(passages, start=1):
        chunk = p.chunk
        previous = ""
        for start, end in sentence_spans(chunk.text):
            text = chunk.text[start:end]
            spans.append(Span(n, chunk.start + start, chunk.start + end, text, previous))
            previous = text
    return spans
