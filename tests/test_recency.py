"""Dates in the forms news uses, and ranking as of a day: later passages out, recent ones up."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rag.answer.extractive import dated_quotes
from rag.dates import days_between, find_date
from rag.engine import Engine
from rag.eval.harness import answer_text
from rag.retrieve.recency import Recency
from rag.store.chroma import OVERFETCH, where
from rag.types import Citation, Filters

QUESTION = "How much does a gallon of regular gas cost on average in the US?"
STORIES = [  # without an as-of date the older story ranks first (BM25 likes its wording)
    {"id": "new", "title": "Gas prices", "date": "2022/06/12",
     "text": "According to AAA, the average price of a gallon of regular gas in the US is $5."},
    {"id": "old", "title": "Gas at the pump", "date": "2021/03/01",
     "text": "Regular gas now costs $2.70 a gallon on average across the US, AAA said on Monday."},
    {"id": "undated", "title": "Cars", "text": "Electric cars need no gasoline at all."},
]


@pytest.mark.parametrize(("text", "iso"), [
    ("2022/06/16", "2022-06-16"),
    ("2020-09-12T08:30:00Z", "2020-09-12"),
    ("published 2020.9.2 in Delhi", "2020-09-02"),
    ("2022/13/01, then 2022/02/30, then 2022/02/28", "2022-02-28"),
    ("no date here, just 12345", None),
])
def test_find_date_reads_the_forms_news_uses_and_refuses_impossible_days(text, iso):
    assert find_date(text) == iso


def test_the_bonus_halves_every_half_life_and_ignores_later_or_undated_passages():
    recency = Recency(half_life_days=7, weight=0.2)
    assert recency.bonus("2022-06-16", "2022-06-16") == pytest.approx(0.2)
    assert recency.bonus("2022-06-09", "2022-06-16") == pytest.approx(0.1)
    assert recency.bonus("2022-06-17", "2022-06-16") == 0.0
    assert recency.bonus(None, "2022-06-16") == 0.0
    assert days_between(recency.window_start("2022-06-16"), "2022-06-16") == 28
    assert not Recency(weight=0).enabled


def test_as_of_is_the_last_day_a_passage_may_carry():
    assert Filters(until="2022-06-30", as_of="2022-06-16").latest == "2022-06-16"
    assert Filters(until="2022-06-01", as_of="2022-06-16").latest == "2022-06-01"
    assert Filters().latest is None


@pytest.fixture
def news(engine: Engine, tmp_path) -> Engine:
    """An engine over three stories in a jsonl file with slash dates, as news feeds write them."""
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in STORIES), encoding="utf-8")
    engine.index([path])
    return engine


def _ids(engine: Engine, filters: Filters = Filters()) -> list[str]:
    return [r.chunk.doc_id for r in engine.search(QUESTION, k=3, filters=filters)]


def test_slash_dates_travel_with_the_passages(news: Engine):
    assert {r.chunk.doc_id: r.chunk.date for r in news.search(QUESTION, k=3)} == {
        "old": "2021-03-01", "new": "2022-06-12", "undated": None}
    assert news.ask(QUESTION, filters=Filters(as_of="2022-06-16")).answer.startswith("As of 12 Jun 2022: ")


def test_the_answer_as_of_a_day_quotes_that_week_s_story_with_its_date(news: Engine):
    answer = news.ask(QUESTION, filters=Filters(as_of="2022-06-16"))
    assert [c.doc_id for c in answer.citations] == ["new"]  # last year's figure is another event
    assert answer.answer.startswith("As of 12 Jun 2022: According to AAA")
    assert "$2.70" not in answer.answer
    assert answer_text(answer) == " ".join(c.quote for c in answer.citations)  # what rag eval scores
    assert "As of" not in answer_text(answer)


def test_each_day_s_quotes_get_their_own_date():
    def cite(n: int, date: str | None, quote: str) -> Citation:
        return Citation(n, f"c{n}", "d", "Gas", "feed", date, quote, 0, len(quote), "c", 1.0, quote, 0)

    text = dated_quotes([cite(1, "2022-06-12", "Gas costs $5."), cite(2, "2022-06-12", "A record."),
                         cite(3, "2021-03-01", "Gas costs $2.70."), cite(4, None, "Cars need none.")])
    assert text == ("As of 12 Jun 2022: Gas costs $5. [1] A record. [2] "
                    "As of 1 Mar 2021: Gas costs $2.70. [3] Cars need none. [4]")


def test_as_of_ranks_the_recent_story_first_and_leaves_out_later_ones(news: Engine):
    assert _ids(news)[0] == "old"
    assert _ids(news, Filters(as_of="2022-06-16"))[0] == "new"
    assert "new" not in _ids(news, Filters(as_of="2022-06-01"))
    assert "undated" in _ids(news, Filters(as_of="2022-06-16"))  # undated passages stay, unboosted
    news.settings = replace(news.settings, recency_weight=0.0)
    assert _ids(news, Filters(as_of="2022-06-16"))[0] == "old"  # no bonus: as-of only cuts off


def test_a_changed_date_alone_reindexes_the_document(news: Engine, tmp_path):
    path = tmp_path / "news.jsonl"
    moved = [dict(s, date="2022/06/14") if s["id"] == "old" else s for s in STORIES]
    path.write_text("".join(json.dumps(s) + "\n" for s in moved), encoding="utf-8")
    report = news.index([path])
    assert (report.updated, report.unchanged) == (1, 2)
    assert news.store.records()["old"].date == "2022-06-14"
    assert {r.chunk.doc_id: r.chunk.date for r in news.search(QUESTION, k=3)}["old"] == "2022-06-14"
    recent = news.store.lexical_search(QUESTION, 3, Filters(since="2022-06-13"))  # BM25 has the new date
    assert [h.chunk.doc_id for h in recent] == ["old"]


def test_dense_search_filters_like_chroma_whether_or_not_it_falls_back(news: Engine, settings):
    news.index([settings.seeds_dir])  # three 2020 chunks beside the three stories
    ranges = [Filters(since="2020-01-01", until="2020-12-31"), Filters(since="2022-01-01"),
              Filters(until="2021-12-31"), Filters(as_of="2022-06-16")]
    fell_back = 0
    for question in (QUESTION, "Who led the Indian delegation at the Pathankot talks?"):
        vector = news.embedder.embed_query(question)
        for k in (1, 2):
            for filters in ranges:
                expected = [r.chunk.id for r in news.store._query(vector, k, where(filters))]
                got = [r.chunk.id for r in news.store.dense_search(vector, k, filters)]
                assert got == expected, (question, k, filters)
                pool = news.store.dense_search(vector, OVERFETCH * k)
                passed = sum(map(filters.admits, (r.chunk.date for r in pool)))
                fell_back += len(pool) == OVERFETCH * k and passed < k
    assert fell_back  # some cases had too few hits in the pool and needed Chroma's filter
