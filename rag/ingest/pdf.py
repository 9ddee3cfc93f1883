"""PDF to text, one page after another, remembering where each page starts."""

from __future__ import annotations

from pathlib import Path

from rag.errors import EmptyDocument, UnreadableFile
from rag.types import Document, sha256_text


def load_pdf(path: Path, doc_id: str) -> Document:
    """A Document from a PDF's text layer; broken, encrypted or image-only PDFs are errors."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError


    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("encrypted PDF (needs a password)")
        page_texts = [(page.extract_text() or "").strip() for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except UnreadableFile:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise UnreadableFile(f"broken PDF: {exc}") from exc
    starts, parts, offset = [], [], 0
    for text in page_texts:
        starts.append(offset)
        parts.append(text)
        offset += len(text) + 2
    text = "\n\n".join(parts)
    if not text.strip():
        raise EmptyDocument("no text layer in PDF (scanned image?)")
    source = str(path.resolve())
    return Document(id=doc_id, title=str(title or path.stem), source=source, text=text,
                    sha256=sha256_text(text), date=None, file=source, pages=tuple(starts))
