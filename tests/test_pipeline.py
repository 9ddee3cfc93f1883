"""The pipeline: one stream of typed events per question, stages chosen by settings, measured by rag eval."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag import pipeline
from rag.engine import Engine
from rag.eval.data import read_eval_set
from rag.eval.harness import EvalOptions, evaluate
from rag.pipeline import Final, TextPiece, final_answer
from rag.settings import PROJECT_ROOT

SEED_SET = PROJECT_ROOT / "tests" / "evalset" / "seeds"
QUESTION = "Which terrorist groups did both sides name?"


class Reverse:
    """A rerank stage for the test: the retriever's order, reversed."""

    def __init__(self, settings, embedder) -> None:
        self.settings = settings

    def rerank(self, query, passages):
        return passages[::-1]


@pytest.fixture
def reverse_stage(monkeypatch):
    """The test's stage registered under "reverse": the one line a new stage adds."""
    monkeypatch.setitem(pipeline.RERANKERS, "reverse", "test_pipeline:Reverse")


def test_the_stream_is_text_pieces_then_the_final_answer_that_ask_returns(seeded: Engine):
    *pieces, last = seeded.ask_stream(QUESTION)
    assert pieces and all(isinstance(p, TextPiece) for p in pieces) and isinstance(last, Final)
    assert final_answer(iter([*pieces, last])) == last.answer == seeded.ask(QUESTION)
    assert [p.kind for p in pieces] == ["text"] * len(pieces) and last.kind == "answer"
    assert last.to_json()["citations"][0]["quote"] in pieces[0].text


def test_a_declined_question_streams_the_decline_alone(seeded: Engine):
    *pieces, last = seeded.ask_stream("Who won the 1998 football world cup final?")
    assert not last.answer.answered and [p.text for p in pieces] == [last.answer.answer]


def test_a_rerank_stage_runs_between_retrieval_and_answering(seeded: Engine, reverse_stage):
    plain = seeded.pipeline.rank("Pathankot attack", 3)
    reranked = seeded.configured(rerank=("reverse",)).pipeline.rank("Pathankot attack", 3)
    assert [r.chunk.id for r in reranked] == [r.chunk.id for r in plain][::-1]


def test_rag_eval_measures_a_new_stage_without_further_wiring(settings, embedder, reverse_stage, tmp_path):
    eval_set = read_eval_set(SEED_SET)
    options = EvalOptions(("dense",), answers=False)
    runs = {}
    for stages in ((), ("reverse",)):
        tried = replace(settings, index_dir=tmp_path / "index", rerank=stages)
        runs[stages] = evaluate(eval_set, tried, options, embedder, show_progress=False)[0]
    assert runs[()]["retrieval"]["ndcg@10"] > runs[("reverse",)]["retrieval"]["ndcg@10"]
