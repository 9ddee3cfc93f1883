"""Candidate sentences of the retrieved passages and the features the sentence scorer reads."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

import numpy as np

from rag.answer.answer_types import OTHER, question_type, typed_spans
from rag.answer.wording import asked_count, counts_asked, forms_in, word_forms
from rag.embedding import Embedder
from rag.sentences import sentence_spans
from rag.types import ScoredChunk

FEATURES = ("similarity", "similarity_gap", "bm25", "overlap", "passage_rank", "passage_best",
            "type_match", "type_missing", "type_near", "first_in_passage", "length", "neighbour_similarity",
            "names_in_context", "counts_asked")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for from by with and or but is are was were be been being do does "
    "did what which who whom whose when where why how many much that this these those it its as "
    "into about than then there their they them he she his her we you your i me my our us not "
    "no has have had will would can could should may might s".split()
)
_HEADER = re.compile(r"^(date|title|published)\b", re.IGNORECASE)
_MARKUP = re.compile(r"^\s*(#{1,6}\s|[=*_~|+-]{3,}|>\s*$|[-*+]\s*$|\|)")
_SYMBOLS_ONLY = re.compile(r"^[\W_]+$")
_BOILERPLATE = re.compile(
    r"\b(skip to (main )?content|all rights reserved|cookie|subscribe|sign up|sign in|log in|"
    r"newsletter|advertisement|click here|read more|share this|follow us|terms of (use|service)|"
    r"privacy policy)\b|©", re.IGNORECASE)
_MIN_CHARS = 15
_HEADING_WORDS = 12
_K1, _B = 1.2, 0.75
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
_NEAR = 4  # words between an answer-typed span and a question word that still count as near


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, in document coordinates."""

    passage: ScoredChunk
    rank: int  # the passage's rank among those given to the answerer, from 0
    position: int  # the sentence's index within its passage, from 0
    start: int
    end: int
    text: str


def candidates(passages: list[ScoredChunk]) -> list[Candidate]:
    """Sentences of the passages, each span once; headings, markup, boilerplate and fragments left out."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Candidate] = []
    for rank, p in enumerate(passages):
        chunk = p.chunk
        kept = 0
        for start, end in sentence_spans(chunk.text):
            key = (chunk.doc_id, chunk.start + start, chunk.start + end)
            if key in seen or not is_statement(chunk.text, start, end, chunk.title):
                continue
            seen.add(key)
            out.append(Candidate(p, rank, kept, key[1], key[2], chunk.text[start:end]))
            kept += 1
    return out


def is_statement(text: str, start: int, end: int, title: str) -> bool:
    """True for a sentence that can be quoted: not a heading, markup line, header, nav or boilerplate."""
    sentence = text[start:end]
    if len(sentence) < _MIN_CHARS or _HEADER.match(sentence) or _MARKUP.match(sentence):
        return False
    if _SYMBOLS_ONLY.match(sentence) or _BOILERPLATE.search(sentence):
        return False
    if _normal(sentence) == _normal(title):  # an HTML <h1> repeating the title
        return False
    return not _is_heading_line(text, start, end, sentence)


def _is_heading_line(text: str, start: int, end: int, sentence: str) -> bool:
    """A whole short line without closing punctuation: a heading, menu entry or caption."""
    line_start = start == 0 or text[start - 1] == "\n"
    line_end = end == len(text) or text[end:end + 1] == "\n"
    unpunctuated = sentence[-1] not in ".!?\"'”’)"
    return line_start and line_end and unpunctuated and len(sentence.split()) <= _HEADING_WORDS


def _normal(text: str) -> str:
    """Lower-cased words only."""
    return " ".join(_WORD.findall(text.lower()))


@cache
def _stemmer():
    """The Snowball English stemmer (the one BM25 uses)."""
    import Stemmer

    return Stemmer.Stemmer("english")


def content_words(text: str) -> list[str]:
    """Stemmed lower-cased words of a text, without stop words."""
    return _stemmer().stemWords([w for w in _WORD.findall(text.lower()) if w not in _STOP])


def similarities(embedder: Embedder, query: str, found: list[Candidate]) -> np.ndarray:
    """Cosine similarity of each candidate sentence to the query."""
    vectors = embedder.embed([query] + [c.text for c in found])
    return vectors[1:] @ vectors[0]


def feature_matrix(query: str, found: list[Candidate], similarity: np.ndarray) -> np.ndarray:
    """One row of FEATURES per candidate sentence."""
    asked = content_words(query)
    words = [content_words(c.text) for c in found]
    kind = question_type(query)
    bm25 = _bm25(asked, words)
    passage_best = _passage_best(found, similarity)
    neighbours = _neighbour_similarity(found, similarity)
    names = _names_in_context(query, found)
    count = asked_count(query)
    rows = []
    for i, c in enumerate(found):
        spans = typed_spans(c.text, kind, query) if kind != OTHER else []
        overlap = len(set(asked) & set(words[i])) / max(1, len(set(asked)))
        rows.append((similarity[i], similarity[i] - similarity.max(), bm25[i], overlap,
                     1.0 / (1 + c.rank), passage_best[i], float(bool(spans)),
                     float(kind != OTHER and not spans), float(_near(c.text, spans, set(asked))),
                     float(c.position == 0), math.log(1 + len(words[i])), neighbours[i], names[i],
                     float(counts_asked(c.text, count))))
    return np.array(rows, dtype=np.float64).reshape(len(found), len(FEATURES))


def _near(sentence: str, spans: list[tuple[int, int]], asked: set[str]) -> bool:
    """True when an answer-typed span stands within a few words of a word of the question."""
    for start, end in spans:
        around = sentence[:start].split()[-_NEAR:] + sentence[end:].split()[:_NEAR]
        if asked & set(content_words(" ".join(around))):
            return True
    return False


def _bm25(asked: list[str], sentences: list[list[str]]) -> np.ndarray:
    """BM25 of each sentence against the question, with document frequencies over these sentences."""
    n = len(sentences)
    frequency = Counter(w for s in sentences for w in set(s))
    average = sum(len(s) for s in sentences) / max(1, n)
    scores = np.zeros(n)
    for i, s in enumerate(sentences):
        counts = Counter(s)
        norm = _K1 * (1 - _B + _B * len(s) / max(average, 1e-9))
        for w in set(asked):
            if counts[w]:
                idf = math.log(1 + (n - frequency[w] + 0.5) / (frequency[w] + 0.5))
                scores[i] += idf * counts[w] * (_K1 + 1) / (counts[w] + norm)
    return scores


def _passage_best(found: list[Candidate], similarity: np.ndarray) -> np.ndarray:
    """For each candidate, the highest similarity of any sentence in its passage."""
    best: dict[int, float] = {}
    for c, s in zip(found, similarity):
        best[c.rank] = max(best.get(c.rank, -1.0), float(s))
    return np.array([best[c.rank] for c in found])


def _names_in_context(query: str, found: list[Candidate]) -> np.ndarray:
    """Share of the question's names (capitalized words past its first) that the sentence, the one
    before it or its passage's title states in some form ("Pakistani" for "Pakistan").

    A sentence about another event often matches the question's wording but not its names ("The
    attack killed seven Indian troops." for a question about Mumbai); the sentence before it counts
    because a sentence often names its subject only there ("They killed 166 people."), and the title
    because news names the event there.
    """
    names = [word_forms(w) for w in _NAME.findall(query.split(None, 1)[-1]) if w.lower() not in _STOP]
    if not names:
        return np.ones(len(found))
    text = {(c.rank, c.position): c.text for c in found}
    shares = []
    for c in found:
        context = forms_in(f"{c.passage.chunk.title} {text.get((c.rank, c.position - 1), '')} {c.text}")
        shares.append(sum(bool(forms & context) for forms in names) / len(names))
    return np.array(shares)


def _neighbour_similarity(found: list[Candidate], similarity: np.ndarray) -> np.ndarray:
    """For each candidate, the higher similarity of the sentences just before and after it.

    A sentence alone in its passage (a one-line note) stands as its own context.
    """
    at = {(c.rank, c.position): float(s) for c, s in zip(found, similarity)}
    out = []
    for c in found:
        around = [at[k] for k in ((c.rank, c.position - 1), (c.rank, c.position + 1)) if k in at]
        out.append(max(around) if around else at[(c.rank, c.position)])
    return np.array(out)
