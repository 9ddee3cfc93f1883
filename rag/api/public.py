"""What the server shows of its own files: sources relative to the indexed folder or the upload area."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from rag.types import Answer


def public_source(source: str) -> str:
    """A source without the server's absolute path: URLs as they are, files relative to where they live.

    An uploaded file is ``uploads/NAME``; a file under the server's working folder is relative to it;
    any other file is ``FOLDER/NAME`` (the indexed folder and the file). A ``#id`` suffix is kept.
    """
    path, hashmark, fragment = source.partition("#")
    if "://" in path or not path.startswith("/"):
        return source
    file, here = Path(path), Path.cwd()
    shown = str(file.relative_to(here)) if here != Path("/") and file.is_relative_to(here) else "/".join(
        file.parts[-2:])
    return shown + hashmark + fragment


def public_answer(answer: Answer) -> dict:
    """An answer's JSON with every citation's source made public."""
    body = answer.to_dict()
    for citation in body["citations"]:
        citation["source"] = public_source(citation["source"])
    return body


def whole_text(text: str) -> str:
    """Text that UTF-8 can carry: a lone surrogate (half of an emoji's escape) is refused with a 422."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"holds a lone surrogate ({text[exc.start]!r}) at character {exc.start}; "
                         "send whole characters") from None
    return text


Source = Annotated[str, AfterValidator(public_source)]
Text = Annotated[str, AfterValidator(whole_text)]
