"""Checking a generated answer: every [n] must name a real passage that supports its sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.answer.citations import citation_id
from rag.answer.wording import (
    AUXILIARY,
    HOW_MANY,
    NOT_NAMES,
    WORD,
    bare,
    counted,
    forms_in,
    numbers_in,
    word_forms,
)
from rag.embedding import Embedder
from rag.sentences import sentence_spans
from rag.types import Citation, ScoredChunk, Sentence

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_NEGATION = re.compile(r"(?:\b(?:not|never|no longer|neither|nor)\b|n\s?['’]\s?t\b)(?!\s+(?:only|just)\b)",
                       re.I)
_CLAUSE = re.compile(r"[;:,.!?()]|\b(?:but|although|though|while|whereas|however)\b", re.I)
_LOWER = re.compile(r"[a-z][a-z'’-]*")
_FRAGMENT_WORDS = 4  # a claim of fewer words is a bare answer, not a sentence
# Words that state a fact as uncertain, and the words a claim that repeats it keeps one of.
_UNCERTAIN = re.compile(r"\b(?:unknown|uncertain|unclear|disputed|controversial|debated|unconfirmed|"
                        r"theor(?:y|ies)|believed?|legends?|folklore|allegedly|reportedly|rumou?red|"
                        r"speculat\w*|supposed(?:ly)?)\b", re.I)
_HEDGED = re.compile(rf"{_UNCERTAIN.pattern}|\b(?:may|might|possibly|perhaps|probably|according|likely)\b",
                     re.I)
_ROLE_WINDOW = 6  # words either side of a role word ("written by") where its holder is named
# Roles a small model mixes up: a songwriter stated as the singer, a producer as the director.
_ROLES = {
    "performs": frozenset("sing sings sang sung singing singer singers vocal vocals vocalist vocalists "
                          "perform performs performed performing performer recorded recording".split()),
    "writes": frozenset("write writes wrote written writing writer writers songwriter songwriters "
                        "lyricist lyrics compose composes composed composer".split()),
    "directs": frozenset("direct directs directed directing director directors".split()),
    "produces": frozenset("produce produces produced producing producer producers".split()),
}


@dataclass(frozen=True)
class Span:
    """One sentence of a passage, or two neighbouring ones, in document coordinates."""

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


@dataclass(frozen=True)
class Support:
    """The best passage text found for a claim, its similarity, and whether it holds the claim."""

    span: Span
    score: float
    holds: bool


@dataclass
class Checked:
    """A claim with the support found in each passage it cites (or the passage found for it)."""

    claim: Claim
    supports: list[Support]

    @property
    def supported(self) -> bool:
        """True when some passage supports the claim."""
        return any(s.holds for s in self.supports)


@dataclass
class Verified:
    """The checked answer: text with renumbered markers, citations, and each sentence's verdict."""

    text: str
    citations: list[Citation]
    unsupported: list[str]
    dropped: int  # markers removed because their passage does not exist
    sentences: list[Sentence] = field(default_factory=list)


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


def names_in(text: str, first: bool = False) -> set[str]:
    """Capitalised words: the names a text states, lower-cased. The first word counts when asked, or
    when the next word is capitalised too (a name opening the sentence: "Bennet Omalu was ...")."""
    words = WORD.findall(text)
    opens_with_name = len(words) > 1 and words[1][0].isupper() and words[1].lower() not in NOT_NAMES
    words = words[0 if first or opens_with_name else 1:]
    return {bare(w) for w in words if w[0].isupper() and w.lower() not in NOT_NAMES and len(w) > 1}


def bare_answer(claim: str) -> bool:
    """True for an answer without a sentence around it ("166.", "Mahaveer Singhvi."): a number or name."""
    return len(WORD.findall(claim)) < _FRAGMENT_WORDS and bool(numbers_in(claim) or names_in(claim, True))


def name_appears(name: str, source: str, source_forms: set[str]) -> bool:
    """True when the source states the name in some form (plural, possessive, country or people)."""
    return name[:5] in source.lower() or bool(word_forms(name) & source_forms)


def facts_match(claim: str, support: str, context: str = "", background: str = "") -> bool:
    """True when the claim's numbers appear in the supporting text (or its context) and its names
    there or in the background: what the paragraph said before, and the question.

    A paragraph names its subject once ("The Mumbai attacks ...") and its later sentences say "the
    attacks"; a claim may repeat what the question names ("a sapper in the Canadian Army").
    """
    source = f"{support} {context}"
    if not numbers_in(claim) <= numbers_in(source):
        return False
    named = f"{source} {background}"
    forms = forms_in(named)
    return all(name_appears(name, named, forms) for name in names_in(claim, bare_answer(claim)))


def contradicts(claim: str, passage: str) -> bool:
    """True when the passage denies what the claim asserts about the same subject.

    "Bishop does not sing lead vocals" contradicts "Elvin Bishop sings the song": a negated clause
    whose subject shares a name with the claim and whose verb the claim states without a negation.
    """
    if _NEGATION.search(claim):
        return False
    names = names_in(claim) | {bare(w) for w in WORD.findall(claim)[:1]}
    verbs = {f for w in _LOWER.findall(claim.lower()) if w not in AUXILIARY for f in word_forms(w)}
    for clause in _CLAUSE.split(passage):
        negation = _NEGATION.search(clause or "")
        if not negation:
            continue
        subject_forms = forms_in(clause[:negation.start()])
        after = [w for w in _LOWER.findall(clause[negation.end():].lower()) if w not in AUXILIARY][:1]
        if after and word_forms(after[0]) & verbs and any(word_forms(n) & subject_forms for n in names):
            return True
    return False


def misbinds_number(claim: str, support: str) -> bool:
    """True when the claim's number counts one thing and the support gives it to another.

    "166 American citizens died" against "They killed 166 people, six of them American citizens":
    the support has 166, but what it counts (people) is not what the claim counts, and another
    number (six) counts that.
    """
    stated = counted(support)
    for value, things in counted(claim):
        same = [forms for v, forms in stated if v == value]
        if not things or not same or any(things & forms for forms in same):
            continue
        if any(things & forms for v, forms in stated if v != value):
            return True
    return False


def swaps_role(claim: str, support: str) -> bool:
    """True when the claim states a role the support does not, and the support states another one
    ("Carole King sings it" against "a song written by Gerry Goffin and Carole King"), or when the
    support gives the claimed role only to other names ("Kylie Minogue wrote it" against "recorded by
    Kylie Minogue ... written by Cathy Dennis and Rob Davis")."""
    said = {w.lower() for w in WORD.findall(claim)}
    stated = {w.lower() for w in WORD.findall(support)}
    claimed = [words for words in _ROLES.values() if said & words]
    if any(not stated & words for words in claimed) and any(
            stated & words for words in _ROLES.values() if words not in claimed):
        return True
    return any(_held_by_others(words, names_in(claim, True), support) for words in claimed)


def _held_by_others(role: frozenset[str], names: set[str], support: str) -> bool:
    """True when every word of the role in the support stands near other names and none of ``names``
    (within its clause: the text between ". ", "; ", "! " or "? ")."""
    near = []
    for clause in re.split(r"[.;!?]\s", support):
        words = WORD.findall(clause)
        near += [{bare(w) for w in words[max(0, i - _ROLE_WINDOW):i + _ROLE_WINDOW + 1] if w[0].isupper()}
                 for i, w in enumerate(words) if w.lower() in role]
    return bool(near) and all(around and not around & names for around in near)


def drops_hedge(claim: str, support: str) -> bool:
    """True when the support states its fact as uncertain and the claim states it as certain ("The word
    came from the tar exports" against "the exact etymology is unknown, but most folklore believe ...")."""
    return bool(_UNCERTAIN.search(support)) and not _HEDGED.search(claim)


def as_statement(claim: str, question: str) -> str:
    """A bare number answer with what the question counts ("166" + "how many American citizens
    died" -> "166 American citizens died"); any other claim as it is."""
    asked = HOW_MANY.search(question)
    return f"{claim} {asked.group(1)}" if asked and bare_answer(claim) and numbers_in(claim) else claim


class Verifier:
    """Checks each sentence of a generated answer against the passages it cites."""

    def __init__(self, embedder: Embedder, min_support: float) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def verify(self, text: str, passages: list[ScoredChunk], question: str = "") -> Verified:
        """Drop markers for missing passages, check each citation, renumber, flag unsupported sentences."""
        return cite(self.check(text, passages, question), passages)

    def check(self, text: str, passages: list[ScoredChunk], question: str = "") -> list[Checked]:
        """Each sentence of the answer with the support its passages give it.

        A bare answer ("166.", "Mahaveer Singhvi.") is compared together with the question it answers.
        """
        claims = split_claims(text, len(passages))
        sentences, pairs = _passage_spans(passages)
        spans = sentences + pairs
        if not claims or not spans:
            return [Checked(c, []) for c in claims]
        meant = [f"{question} {c.text}" if bare_answer(c.text) else c.text for c in claims]
        vectors = self.embedder.embed(meant + [s.text for s in spans])
        similarity = vectors[:len(claims)] @ vectors[len(claims):].T
        return [self._check(c, question, similarity[i], spans, len(sentences), passages)
                for i, c in enumerate(claims)]

    def _check(self, claim: Claim, question: str, similarity: np.ndarray, spans: list[Span], singles: int,
               passages: list[ScoredChunk]) -> Checked:
        """The support each cited passage gives; a sentence whose cited passages do not support it, or
        that cites none, gets the passage that does, if one does (its markers are replaced)."""
        def support(allowed: set[int] | None) -> Support:
            return self._support(claim.text, question, similarity, spans, singles, passages, allowed)
        cited = [support({n}) for n in claim.cited]
        if any(s.holds for s in cited):
            return Checked(claim, cited)
        found = support(None)
        return Checked(claim, [found] if found.holds else cited)

    def _support(self, claim: str, question: str, similarity: np.ndarray, spans: list[Span], singles: int,
                 passages: list[ScoredChunk], allowed: set[int] | None) -> Support:
        """The best supporting sentence (else pair of neighbouring sentences) among the allowed passages."""
        statement = as_statement(claim, question)
        order = [i for i in np.argsort(-similarity) if allowed is None or spans[i].passage in allowed]
        if drops_hedge(claim, spans[order[0]].text):  # the closest sentence says it is not certain
            return Support(spans[order[0]], float(similarity[order[0]]), False)
        groups = ([i for i in order if i < singles], [i for i in order if i >= singles])
        for group in groups:
            for i in group:
                span, score = spans[i], float(similarity[i])
                if score < self.min_support:
                    break
                chunk = passages[span.passage - 1].chunk
                before = chunk.text[:span.start - chunk.start]
                before = before[before.rfind("\n") + 1:]  # the paragraph so far
                if (facts_match(claim, span.text, f"{span.previous} {chunk.title} {chunk.date or ''}",
                                f"{before} {question}")
                        and not contradicts(claim, chunk.text) and not misbinds_number(statement, span.text)
                        and not swaps_role(claim, f"{span.previous} {span.text}")):
                    return Support(span, score, True)
        best = groups[0][0]  # a cited passage always has a sentence: the closest one is shown
        return Support(spans[best], float(similarity[best]), False)


def cite(checked: list[Checked], passages: list[ScoredChunk]) -> Verified:
    """The answer text with markers renumbered in order of first use, its citations and verdicts."""
    builder = _Builder(passages)
    texts, sentences = [], []
    for c in checked:
        marks = list(dict.fromkeys(builder.add(s) for s in c.supports))
        texts.append(c.claim.text + "".join(f" [{m}]" for m in marks))
        sentences.append(Sentence(c.claim.text, c.supported, marks))
    return Verified(" ".join(texts), builder.citations, [c.claim.text for c in checked if not c.supported],
                    sum(len(c.claim.dropped) for c in checked), sentences)


class _Builder:
    """Numbers citations in order of first use; one number per quoted span."""

    def __init__(self, passages: list[ScoredChunk]) -> None:
        self.passages = passages
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[int, int, int, bool], int] = {}

    def add(self, support: Support) -> int:
        """The citation number for a supporting span."""
        span = support.span
        key = (span.passage, span.start, span.end, support.holds)
        if key not in self._numbers:
            chunk = self.passages[span.passage - 1].chunk
            n = len(self.citations) + 1
            self._numbers[key] = n
            self.citations.append(Citation(
                n=n, id=citation_id(chunk.id, span.start, span.end), doc_id=chunk.doc_id,
                title=chunk.title, source=chunk.source, date=chunk.date, quote=span.text,
                start=span.start, end=span.end, chunk_id=chunk.id, score=round(support.score, 4),
                passage=chunk.text, passage_start=chunk.start, page=chunk.page, verified=support.holds))
        return self._numbers[key]


def _passage_spans(passages: list[ScoredChunk]) -> tuple[list[Span], list[Span]]:
    """Every sentence of every passage, and every two neighbouring sentences of a paragraph (a fact
    may span both)."""
    singles, pairs = [], []
    for n, p in enumerate(passages, start=1):
        chunk = p.chunk
        sentences = sentence_spans(chunk.text)
        previous = ""
        for i, (start, end) in enumerate(sentences):
            text = chunk.text[start:end]
            singles.append(Span(n, chunk.start + start, chunk.start + end, text, previous))
            if i + 1 < len(sentences) and "\n" not in chunk.text[end:sentences[i + 1][0]]:  # one paragraph
                stop = sentences[i + 1][1]
                pairs.append(Span(n, chunk.start + start, chunk.start + stop, chunk.text[start:stop],
                                  previous))
            previous = text
    return singles, pairs
