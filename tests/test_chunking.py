"""Sentence splitting and chunking keep exact offsets and stable ids."""

from __future__ import annotations

import itertools

from rag.ingest.chunking import chunk_document
from rag.sentences import sentence_spans
from rag.types import Document, sha256_text


def make_doc(text: str, doc_id: str = "d1") -> Document:
    return Document(id=doc_id, title="T", source="s", text=text, sha256=sha256_text(text))


def test_sentences_respect_abbreviations_and_initials():
    text = "Mr. Sales met U.S. officials on Sept. 9. They talked. J. Smith left!  Then rain."
    found = [text[s:e] for s, e in sentence_spans(text)]
    assert found == ["Mr. Sales met U.S. officials on Sept. 9.", "They talked.", "J. Smith left!",
                     "Then rain."]


def test_chunks_slice_the_document_exactly_and_cover_it():
    text = " ".join(f"Sentence number {i} says something about topic {i % 7}." for i in range(300))
    doc = make_doc(text)
    chunks = chunk_document(doc, size=500, overlap=100)
    assert len(chunks) > 10
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert len(c.text) <= 500
        assert c.text.endswith(".")
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for a, b in itertools.pairwise(chunks):
        assert b.start <= a.end, "consecutive chunks leave no gap"
        assert a.end - b.start <= 100, "overlap stays within the limit"


def test_chunk_ids_are_stable_and_change_with_content():
    text = "One sentence here. " * 200
    first = [c.id for c in chunk_document(make_doc(text), 400, 50)]
    again = [c.id for c in chunk_document(make_doc(text), 400, 50)]
    changed = [c.id for c in chunk_document(make_doc(text + "A new ending."), 400, 50)]
    assert first == again
    assert len(set(first)) == len(first)
    assert first[-1] != changed[-1]


def test_a_sentence_longer_than_a_chunk_is_cut_at_whitespace():
    text = "word " * 600
    chunks = chunk_document(make_doc(text.strip()), size=300, overlap=0)
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(not c.text.startswith(" ") and c.text.startswith("word") for c in chunks)
    assert "".join(c.text + " " for c in chunks).split() == text.split()
