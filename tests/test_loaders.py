"""Loading each supported format into documents with titles, dates, pages and stable ids."""

from __future__ import annotations

import json

import pytest
from pdfs import make_pdf

from rag.errors import UnsupportedFile
from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import load_file, load_paths


def test_html_keeps_visible_text_title_and_date(tmp_path):
    page = tmp_path / "story.html"
    page.write_text(
        "<html><head><title>Bridge opens</title>"
        '<meta property="article:published_time" content="2021-03-04T10:00:00Z">'
        "<style>p{color:red}</style><script>var secret = 'hidden';</script></head>"
        "<body><h1>Ignored heading</h1><p>The new bridge opened today.</p>"
        "<noscript>enable js</noscript></body></html>")
    [doc] = load_file(page)
    assert doc.title == "Bridge opens" and doc.date == "2021-03-04"
    assert "The new bridge opened today." in doc.text
    assert "secret" not in doc.text and "color" not in doc.text and "enable js" not in doc.text


def test_pdf_text_keeps_page_numbers(tmp_path):
    path = tmp_path / "report.pdf"
    pages = ["The first page talks about rivers. " * 4, "The second page is on hills. " * 4]
    path.write_bytes(make_pdf(pages))
    [doc] = load_file(path)
    assert "rivers" in doc.text and "hills" in doc.text
    assert doc.pages == (0, doc.text.index("The second"))
    pages = {c.page for c in chunk_document(doc, size=100, overlap=0)}
    assert pages == {1, 2}


def test_markdown_title_and_text_date_header(tmp_path):
    md = tmp_path / "notes.md"
    md.write_text("# Weekly notes\n\nPublished: 2022-05-01\n\nAll quiet.")
    [doc] = load_file(md)
    assert (doc.title, doc.date) == ("Weekly notes", "2022-05-01")


def test_jsonl_gives_one_document_per_line_and_reports_bad_lines(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"id": "n1", "title": "One", "text": "First story.", "date": "2022-01-07",
             "url": "https://example.org/1"},
            {"id": "n2", "title": "Two", "text": "Second story."}]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n" + '{"id": "n3"}\n')
    report = load_paths([corpus])
    assert [d.id for d in report.documents] == ["n1", "n2"]
    assert report.documents[0].date == "2022-01-07"
    assert report.documents[0].source == "https://example.org/1"
    assert [name.rsplit(":", 1)[1] for name, _ in report.failures] == ["3", "4"]


def test_ids_are_stable_and_folders_are_walked_recursively(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("Deep text.")
    (tmp_path / "a" / ".hidden.txt").write_text("Hidden.")
    first = load_paths([tmp_path])
    second = load_paths([tmp_path])
    assert [d.id for d in first.documents] == [d.id for d in second.documents]
    assert [d.title for d in first.documents] == ["Deep"]


def test_utf16_text_is_decoded(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("Grüße aus Köln.".encode("utf-16"))
    assert load_file(path)[0].text == "Grüße aus Köln."


def test_unsupported_extension_names_the_supported_ones(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b")
    with pytest.raises(UnsupportedFile, match=r"'\.csv'.*\.pdf"):
        load_file(path)
