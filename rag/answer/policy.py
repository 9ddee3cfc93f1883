"""What a generated answer shows: no filler, unsupported sentences marked or removed, fallbacks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.extractive import NOT_FOUND, ExtractiveAnswerer, content_words
from rag.answer.verification import Checked, Verifier, cite
from rag.types import Answer, ScoredChunk

NOT_SUPPORTED = "not supported by your documents"
NO_SUPPORT_NOTICE = ("None of the language model's sentences is supported by your documents; "
                     "showing the extractive answer instead.")
DECLINED_NOTICE = ("The language model found no answer in the passages, but they hold sentences that "
                   "answer the question; showing the extractive answer instead.")
# Words that talk about the passages rather than the world: a sentence made only of them states no fact.
_ABOUT_PASSAGES = frozenset(content_words(
    "information info passage passages paragraph document documents text texts source sources context "
    "found find can be given provided mentioned mention mentions stated states state says said answer "
    "answers question questions based above below following specifically directly explicitly clearly "
    "detail details also further more additional relevant"))  # stemmed as content_words stems
_PASSAGE_NUMBER = re.compile(r"\b(?:passage|paragraph|document|source)s?\s+\[?\d+\]?", re.I)


def declines(text: str) -> bool:
    """True when the model said the passages do not answer."""
    plain = " ".join(text.lower().split())
    return plain.startswith(NOT_FOUND.lower()[:30]) or "do not contain an answer" in plain


def states_no_fact(sentence: str) -> bool:
    """True for filler such as "This information is found in passage [1].": only talk about passages."""
    return not set(content_words(_PASSAGE_NUMBER.sub(" ", sentence))) - _ABOUT_PASSAGES


@dataclass(frozen=True)
class AnswerPolicy:
    """Turns a model's text into the answer shown: checked, marked or trimmed, or extractive instead."""

    verifier: Verifier
    extractive: ExtractiveAnswerer
    strict: bool = False  # remove unsupported sentences instead of marking them

    def answer(self, question: str, query: str, text: str, passages: list[ScoredChunk],
               backend: str) -> Answer:
        """The answer to show for the model's text."""
        if declines(text):
            return self.extractive_instead(question, query, passages, DECLINED_NOTICE)
        checked = [c for c in self.verifier.check(text, passages, query)
                   if not states_no_fact(c.claim.text)]
        if not any(c.supported for c in checked):
            answer = self.extractive_instead(question, query, passages, NO_SUPPORT_NOTICE)
            answer.unsupported = [c.claim.text for c in checked]
            return answer
        return self.shown(question, checked, passages, backend)

    def shown(self, question: str, checked: list[Checked], passages: list[ScoredChunk],
              backend: str) -> Answer:
        """The checked sentences, unsupported ones flagged, or dropped when strict."""
        kept = [c for c in checked if c.supported or not self.strict]
        verified = cite(kept, passages)
        return Answer(question=question, answer=verified.text, answered=True, citations=verified.citations,
                      backend=backend, sentences=verified.sentences,
                      unsupported=[c.claim.text for c in checked if not c.supported])

    def extractive_instead(self, question: str, query: str, passages: list[ScoredChunk],
                           notice: str) -> Answer:
        """The extractive answer with a notice saying why; a plain decline when it declines too."""
        answer = self.extractive.answer(question, passages, query)
        if answer.answered:
            answer.notice = notice
        return answer
