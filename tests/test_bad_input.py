"""A corpus of bad inputs: each reported by name with its reason, and no good document lost."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pdfs import make_pdf
from procs import rag_cmd, rag_env

import rag.ingest.loaders


def _encrypted_pdf() -> bytes:
    """A PDF that needs a password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Secret budget figures."]))))
    writer.encrypt(user_password="hunter2", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _bad_corpus(root: Path) -> dict[str, str]:
    """Write the bad files; returns file name -> the reason expected in the report."""
    (root / "empty.txt").write_text("")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (root / "truncated.pdf").write_bytes(make_pdf(["A page that is cut off."])[:120])
    (root / "encrypted.pdf").write_bytes(_encrypted_pdf())
    with (root / "huge.txt").open("w") as handle:  # 50 MB of text
        handle.write("All work and no play makes a very long file indeed. " * 1_000_000)
    (root / "scripts.html").write_text(
        "<html><head><script>" + "var x = 1;" * 5000 + "</script></head><body><script>"
        "document.write('only scripts here')</script><noscript>js needed</noscript></body></html>")
    os.mkfifo(root / "pipe.txt")
    (root / "dangling.md").symlink_to(root / "no-such-target.md")
    (root / "slides.pptx").write_bytes(b"PK\x03\x04 not for us")
    return {"empty.txt": "no text in file", "binary.txt": "binary content",
            "truncated.pdf": "broken PDF", "encrypted.pdf": "encrypted PDF",
            "huge.txt": "over the 20 MB limit", "scripts.html": "no text in file",
            "pipe.txt": "not a regular file", "dangling.md": "not a regular file",
            "slides.pptx": "unsupported file type", "vanished.txt": "file disappeared"}


def _good_corpus(root: Path) -> dict[str, str]:
    """Good files, some in awkward encodings or places; returns file name -> a phrase it holds."""
    (root / "latin1.txt").write_bytes("Le café de la gare ouvre à midi.".encode("latin-1"))
    (root / "utf16.txt").write_bytes("Die Brücke über den Fluss ist offen.".encode("utf-16"))
    (root / "mixed.html").write_text("<html><head><title>Ferry</title><script>var hidden = 1;</script>"
                                     "</head><body><p>The ferry sails at dawn.</p></body></html>")
    (root / "notes.txt").mkdir()  # a folder named like a file: walked, not read
    (root / "notes.txt" / "inner.md").write_text("# Inner\n\nThe inner note talks about glaciers.")
    (root / "report.pdf").write_bytes(make_pdf(["The harbour reopened in May."]))
    return {"latin1.txt": "Le café de la gare", "utf16.txt": "Die Brücke über den Fluss",
            "mixed.html": "The ferry sails at dawn.", "inner.md": "glaciers",
            "report.pdf": "The harbour reopened"}


def test_each_bad_input_is_reported_by_name_and_no_good_document_is_lost(tmp_path, engine, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bad = _bad_corpus(corpus)
    good = _good_corpus(corpus)
    vanishing = corpus / "vanished.txt"
    vanishing.write_text("This file is listed, then deleted before it is read.")
    listed = rag.ingest.loaders.iter_files

    def iter_then_delete(paths):  # the file disappears after the walk listed it
        files = list(listed(paths))
        vanishing.unlink()
        return iter(files)

    monkeypatch.setattr(rag.ingest.loaders, "iter_files", iter_then_delete)
    report = engine.index([corpus])

    reasons = {Path(name).name: reason for name, reason in report.failed}
    assert set(reasons) == set(bad)
    for name, expected in bad.items():
        assert expected in reasons[name], (name, reasons[name])
    texts = {Path(r.file).name: r for r in engine.store.records().values()}
    assert set(texts) == set(good)
    for name, phrase in good.items():
        chunks = engine.store.document_chunks(texts[name].id)
        assert phrase in " ".join(c.text for c in chunks), name
    assert not any("hidden" in c.text or "var x" in c.text for c in engine.store.all_chunks())


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv")
def test_an_unreadable_file_is_reported_when_permissions_bite(tmp_path):
    # Root reads any file whatever its mode; without the DAC capabilities it obeys modes like anyone.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "secret.txt").write_text("Locked away.")
    (corpus / "secret.txt").chmod(0o000)
    (corpus / "open.txt").write_text("Anyone may read this.")
    done = subprocess.run(["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
                           *rag_cmd("index", corpus, "--index", tmp_path / "index")],
                          env=rag_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr  # a failed file fails the run, after the others landed
    assert f"skipped {corpus}/secret.txt: cannot read file: Permission denied" in done.stderr
    assert done.stdout.startswith("added 1, updated 0, unchanged 0, removed 0, failed 1;")
