"""Files as people write them, indexed for real: Markdown markup, HTML menus and PDF pages."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from pdfs import make_pdf

from rag.answer.citations import citation_id
from rag.cli import main
from rag.ingest.loaders import load_file
from rag.sentences import sentence_spans

MARKDOWN = """---
title: Harbour works report
date: 2021-06-14
author: Port office
---

# Dredging the *old* harbour

The **harbour authority** dredged `Basin 3` to a depth of _nine metres_ in May.
See [the survey](https://example.org/survey-2021.pdf) for the soundings.

- The dredger *Marlin* removed 40,000 cubic metres of silt.
- Silt went to the __reclamation site__ at Point Kerr.

---

> Work on **Basin 4** starts in *September*.
"""
MARKUP = re.compile(r"[*_`#>\[\]]|\]\(|https?://|^-|---")

NAV = "Home | News | Contact"
FOOTER = "Copyright 2023 Riverside Gazette"
HTML_PAGES = {
    "ferry.html": f"""<html><head><title>Ferry returns</title>
<meta name="date" content="2023-04-02"></head><body>
<header><nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/contact">Contact</a></nav></header>
<article><h1>Ferry returns</h1>
<p>The river ferry returned to service on Saturday after a winter of repairs to its engines.</p>
<p>Crossings now run every twenty minutes between the old quay and the market steps.</p>
</article>
<footer><p>{FOOTER}</p><ul><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms</a></li></ul>
</footer></body></html>""",
    "budget.html": f"""<html><head><title>Budget vote</title></head><body>
<div id="menu"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/contact">Contact</a></li></ul></div>
<main><h2>Council budget</h2>
<p>The council approved a budget of 12 million pounds for road repairs on Tuesday evening.</p>
<p>Opposition members asked for more money for the library service, which was refused.</p></main>
<div class="footer">{FOOTER}. All rights reserved.</div></body></html>""",
}
PDF_PAGES = ["Rainfall in the valley was low this spring. The reservoir fell to half its volume.",
             "Farmers switched to drip irrigation in June. Wheat yields held steady all the same.",
             "The water board plans a second reservoir. Construction starts in two thousand thirty."]


def test_markdown_front_matter_sets_title_and_date_and_is_not_text(tmp_path):
    path = tmp_path / "harbour.md"
    path.write_text(MARKDOWN)
    [doc] = load_file(path)
    assert (doc.title, doc.date) == ("Harbour works report", "2021-06-14")
    assert len(doc.text) == len(MARKDOWN)  # offsets into the document are offsets into the file
    assert "author:" not in doc.text and "Port office" not in doc.text
    assert all(kept in (" ", original) for kept, original in zip(doc.text, MARKDOWN))
    sentences = [doc.text[start:end] for start, end in sentence_spans(doc.text)]
    assert [s for s in sentences if MARKUP.search(s)] == []
    assert " ".join(sentences[0].split()) == "Dredging the old harbour"
    assert " ".join(sentences[2].split()) == "See the survey for the soundings."


def test_markdown_without_front_matter_takes_its_first_heading(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("Some intro.\n\n# The *real* title\n\n---\n\nText after a rule.\n")
    [doc] = load_file(path)
    assert doc.title == "The real title" and doc.date is None
    assert "---" not in doc.text and "Text after a rule." in doc.text


def test_quotes_from_markdown_hold_no_markup_and_point_into_the_file(tmp_path, engine):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harbour.md").write_text(MARKDOWN)
    engine.index([folder])
    quotes = []
    for question in ("How deep was Basin 3 dredged?", "How much silt did the dredger remove?",
                     "Where did the silt from the harbour go?", "When does work on Basin 4 start?"):
        answer = engine.ask(question)
        assert answer.answered, question
        assert "  " not in answer.answer  # blanked markup is not shown as gaps
        quotes += answer.citations
    for c in quotes:
        assert not MARKUP.search(c.quote), c.quote
        in_file = MARKDOWN[c.start:c.end]
        assert all(kept in (" ", original) for kept, original in zip(c.quote, in_file))
        assert engine.lookup(c.id).quote == c.quote
    assert {c.title for c in quotes} == {"Harbour works report"}


@pytest.fixture
def html_engine(tmp_path, engine):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, page in HTML_PAGES.items():
        (folder / name).write_text(page)
    report = engine.index([folder])
    assert report.added == 2 and not report.failed
    return engine


def test_html_navigation_and_footers_are_not_indexed(html_engine):
    chunks = [c for r in html_engine.documents() for c in html_engine.store.document_chunks(r.id)]
    lines = [line for c in chunks for line in c.text.splitlines()]
    assert any("ferry returned to service" in line for line in lines)
    assert any("12 million pounds" in line for line in lines)
    leaked = [line for line in lines if re.search(r"\b(Home|Contact|Copyright|Privacy|Terms)\b", line)]
    assert leaked == []
    titles = {r.title: r.date for r in html_engine.documents()}
    assert titles == {"Ferry returns": "2023-04-02", "Budget vote": None}


def test_html_footer_cannot_be_quoted(html_engine):
    answer = html_engine.ask("Who holds the copyright of the Riverside Gazette?")
    assert all("Copyright" not in c.quote for c in answer.citations)


def test_every_sentence_of_a_pdf_cites_its_own_page(tmp_path, engine, rag_env):
    path = tmp_path / "water.pdf"
    path.write_bytes(make_pdf(PDF_PAGES))
    engine.index([path])
    [record] = engine.documents()
    checked = 0
    for chunk in engine.store.document_chunks(record.id):
        for start, end in sentence_spans(chunk.text):
            sentence = chunk.text[start:end]
            page = next(n for n, text in enumerate(PDF_PAGES, start=1) if sentence in text)
            found = engine.lookup(citation_id(chunk.id, chunk.start + start, chunk.start + end))
            assert (found.quote, found.page) == (sentence, page)
            checked += 1
    assert checked == 6
    answer = engine.ask("When do farmers use drip irrigation?")
    assert answer.citations[0].page == 2
    engine.close()
    shown = CliRunner().invoke(main, ["show", answer.citations[0].id])
    assert shown.exit_code == 0 and ", page 2)" in shown.stdout
