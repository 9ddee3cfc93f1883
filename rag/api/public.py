"""Validators for request text and response sources (sources are made public in rag.serialize)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from rag.serialize import public_source


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
