"""Metrics on small cases computed by hand."""

from __future__ import annotations

import math

import pytest

from rag.eval import metrics


def test_document_ranking_keeps_best_chunk_rank_and_drops_the_query_document():
    chunks = ["d1", "q", "d2", "d1", "d3", "d2"]
    assert metrics.document_ranking(chunks, exclude="q") == ["d1", "d2", "d3"]


def test_recall_at_k():
    relevant = {"a": 1, "b": 1, "z": 0}
    assert metrics.recall_at_k(["x", "a", "y", "b"], relevant, 2) == 0.5
    assert metrics.recall_at_k(["x", "a", "y", "b"], relevant, 4) == 1.0
    assert metrics.recall_at_k(["x"], {}, 5) == 0.0


def test_ndcg_at_10_one_relevant_at_rank_3():
    # DCG = 1/log2(4) = 0.5; ideal DCG = 1/log2(2) = 1
    assert metrics.ndcg_at_k(["x", "y", "a"], {"a": 1}) == pytest.approx(0.5)


def test_ndcg_at_10_two_relevant_with_graded_gains():
    # ranks 1 and 3 hold gains 1 and 2: DCG = 1 + 2/2 = 2; ideal: 2 + 1/log2(3)
    ideal = 2 + 1 / math.log2(3)
    assert metrics.ndcg_at_k(["a", "x", "b"], {"a": 1, "b": 2}) == pytest.approx(2 / ideal)


def test_ndcg_ignores_relevant_documents_past_the_cutoff():
    ranking = [f"x{i}" for i in range(10)] + ["a"]
    assert metrics.ndcg_at_k(ranking, {"a": 1}) == 0.0


def test_mrr_at_10():
    assert metrics.mrr_at_k(["x", "y", "a", "b"], {"a": 1, "b": 1}) == pytest.approx(1 / 3)
    assert metrics.mrr_at_k(["x"] * 10 + ["a"], {"a": 1}) == 0.0


def test_answer_in_text_normalizes_case_punctuation_and_articles():
    assert metrics.answer_in_text(["The Squid Game"], "Netflix renewed “Squid Game”, a hit.")
    assert metrics.answer_in_text(["$5"], "a gallon costs about 5 dollars")
    assert not metrics.answer_in_text(["Game"], "Gameplay changed")  # whole words only
    assert not metrics.answer_in_text([""], "anything")


def test_token_f1_takes_the_best_gold_answer():
    # prediction "seven soldiers died" vs "seven": P=1/3, R=1, F1=0.5
    assert metrics.token_f1("seven soldiers died", ["seven", "nine"]) == pytest.approx(0.5)
    assert metrics.token_f1("nothing", ["seven"]) == 0.0
    assert metrics.token_f1("Seven.", ["seven"]) == 1.0


def test_citation_precision_and_recall_against_gold_sentences():
    gold = ["They see three women washing clothes and singing .",
            "Delmar is convinced the women were Sirens ."]
    quotes = ["They see three women washing clothes and singing.", "The film was released in 2000."]
    assert metrics.citation_precision_recall(quotes, gold) == (0.5, 0.5)
    assert metrics.citation_precision_recall([], gold) == (0.0, 0.0)


def test_percentile_interpolates_between_ranks():
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 50) == 25.0
    assert metrics.percentile(values, 95) == pytest.approx(38.5)
    assert metrics.percentile([7.0], 95) == 7.0
    assert metrics.percentile([], 50) == 0.0


def test_query_selection_is_a_fixed_sample_in_file_order():
    from rag.eval.data import EvalQuery
    from rag.eval.harness import EvalOptions, select_queries

    queries = [EvalQuery(str(i), f"q{i}") for i in range(20)]
    first = select_queries(queries, EvalOptions(sample_queries=5))
    assert first == select_queries(queries, EvalOptions(sample_queries=5))
    assert len(first) == 5 and [int(q.id) for q in first] == sorted(int(q.id) for q in first)
    assert select_queries(queries, EvalOptions(limit_queries=3)) == queries[:3]
