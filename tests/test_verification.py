"""Verification of generated answers on crafted text, against the real seed passages and MiniLM."""

from __future__ import annotations

import pytest

from rag.answer.verification import Verifier, numbers_in, split_claims
from rag.engine import Engine
from rag.types import ScoredChunk

TROOPS = "seven Indian troops"


@pytest.fixture
def passages(seeded: Engine) -> list[ScoredChunk]:
    """The seed's passages, the one that reports the Pathankot dead placed first."""
    found = seeded.search("Pathankot attack Indian Air Force base troops killed", k=5)
    found.sort(key=lambda p: TROOPS not in p.chunk.text)
    assert TROOPS in found[0].chunk.text and TROOPS not in found[-1].chunk.text
    return found


@pytest.fixture
def verifier(seeded: Engine) -> Verifier:
    """The verifier with the default support threshold."""
    return Verifier(seeded.embedder, seeded.settings.min_support)


def test_a_correct_citation_is_verified_and_resolves(seeded, passages, verifier):
    checked = verifier.verify("The Pathankot attack killed seven Indian troops [1].", passages)
    assert checked.unsupported == [] and checked.dropped == 0
    [citation] = checked.citations
    assert citation.verified and citation.quote == "The attack killed seven Indian troops."
    assert seeded.lookup(citation.id).quote == citation.quote
    assert checked.text == "The Pathankot attack killed seven Indian troops. [1]"


def test_a_marker_for_a_passage_that_does_not_exist_is_dropped(passages, verifier):
    checked = verifier.verify("The Pathankot attack killed seven Indian troops [9].", passages)
    assert checked.dropped == 1
    assert "[9]" not in checked.text
    # the sentence is still true, so the passage that supports it is attached instead
    assert [c.verified for c in checked.citations] == [True]
    assert TROOPS in checked.citations[0].quote


def test_a_citation_to_a_passage_that_says_something_else_is_flagged(passages, verifier):
    other = len(passages)
    checked = verifier.verify(f"The Pathankot attack killed seven Indian troops [{other}].", passages)
    [citation] = checked.citations
    assert not citation.verified
    assert citation.chunk_id == passages[-1].chunk.id  # still points at the passage it named
    assert checked.unsupported == ["The Pathankot attack killed seven Indian troops."]


def test_a_changed_number_is_not_verified(passages, verifier):
    checked = verifier.verify("The Pathankot attack killed nine Indian troops [1].", passages)
    [citation] = checked.citations
    assert not citation.verified
    assert checked.unsupported == ["The Pathankot attack killed nine Indian troops."]


def test_each_sentence_is_checked_on_its_own(passages, verifier):
    text = ("The Pathankot attack killed seven Indian troops [1]. "
            "The Mumbai attacks were carried out by ten LeT gunmen from Pakistan [1][2].")
    checked = verifier.verify(text, passages)
    assert checked.unsupported == []
    verified = [c for c in checked.citations if c.verified]
    assert any("ten LeT gunmen" in c.quote for c in verified)
    assert all(c.quote in c.passage for c in checked.citations)


def test_markers_after_the_period_stay_with_their_sentence():
    claims = split_claims("Seven died. [1] The base was hit [2][5]. Done [1, 3].", passages=3)
    assert [(c.text, c.cited, c.dropped) for c in claims] == [
        ("Seven died.", [1], []), ("The base was hit.", [2], [5]), ("Done.", [1, 3], [])]


def test_numbers_in_words_and_digits_compare_equal():
    assert numbers_in("seven troops, 1,200 people in 2016") == {"7", "1200", "2016"}
