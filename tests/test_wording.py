"""How facts are worded: numbers, name forms, what a number counts, and the scorer features built on them."""

from __future__ import annotations

import numpy as np

from rag.answer.features import FEATURES, candidates, feature_matrix
from rag.answer.wording import asked_count, counts_asked, numbers_in, word_forms
from rag.types import Chunk, ScoredChunk

MUMBAI = ("The Mumbai attacks of November 2008 were carried out by a team of ten LeT gunmen. "
          "They killed 166 people, six of them American citizens. Pakistani agencies later arrested "
          "seven men. The Pathankot attack of January 2016 was aimed at an air base. "
          "The attack killed seven Indian troops.")


def test_numbers_in_words_and_digits_compare_equal():
    assert numbers_in("seven troops, 1,200 people in 2016") == {"7", "1200", "2016"}


def test_name_forms_cover_country_people_plural_and_possessive():
    assert word_forms("Chinese") & word_forms("China")
    assert word_forms("French") & word_forms("France")
    assert word_forms("Pakistani") & word_forms("Pakistan")
    assert word_forms("Kennedys") & word_forms("Kennedy")
    assert word_forms("Bishop's") & word_forms("Bishop")
    assert not word_forms("Japanese") & word_forms("China")


def test_a_how_many_question_asks_for_the_thing_it_counts():
    assert "people" in asked_count("How many people were killed in the Mumbai attacks?")
    assert "revenue" in asked_count("How much revenue did Zorblax report?")
    assert asked_count("Who led the delegation?") == set()
    assert asked_count("How much does a gallon of regular gas cost?") == set()  # an amount, not gallons


def test_a_sentence_counts_what_is_asked_only_when_its_number_counts_that_thing():
    asked = asked_count("How many people were killed in the Mumbai attacks?")
    assert counts_asked("They killed 166 people, six of them American citizens.", asked)
    assert not counts_asked("The attack killed seven Indian troops.", asked)
    assert not counts_asked("A team of ten gunmen came from Pakistan.", asked)
    assert not counts_asked("They killed 166 people.", set())


def _features(question: str) -> dict[str, dict[str, float]]:
    """Each candidate sentence of the Mumbai passage with its named features."""
    chunk = Chunk("c1", "d1", 0, MUMBAI, 0, len(MUMBAI), "Terror attacks in India", "news")
    found = candidates([ScoredChunk(chunk, 0.8)])
    rows = feature_matrix(question, found, np.full(len(found), 0.5))
    return {c.text: dict(zip(FEATURES, row)) for c, row in zip(found, rows)}


def test_the_counted_thing_and_name_forms_are_features_of_each_sentence():
    counted = _features("How many people were killed in the Mumbai attacks?")
    assert counted["They killed 166 people, six of them American citizens."]["counts_asked"] == 1.0
    assert counted["The attack killed seven Indian troops."]["counts_asked"] == 0.0
    # "Mumbai" stands in the sentence before; the Pathankot sentences never name it
    assert counted["They killed 166 people, six of them American citizens."]["names_in_context"] == 1.0
    assert counted["The attack killed seven Indian troops."]["names_in_context"] == 0.0
    arrested = _features("Who was arrested in Pakistan?")
    assert arrested["Pakistani agencies later arrested seven men."]["names_in_context"] == 1.0
