"""Markdown read as its author meant it: front matter sets title and date, markup is never text.

The document text keeps the file's length and line breaks: front matter and markup characters
(``#``, ``*``, ``_``, backticks, link targets, bullets, rules) are replaced by spaces. Offsets into
the document are therefore offsets into the file, and a quote never holds a markup character.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from rag.dates import find_date

_RULE = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)  # python-frontmatter's YAML boundary
_KEPT_BLOCKS = ("fence", "code_block")  # code is the author's text; raw HTML blocks are markup


@dataclass(frozen=True)
class MarkdownText:
    """A Markdown file's text with markup blanked, and what its front matter and first heading say."""

    text: str
    title: str | None
    date: str | None


def read_markdown(source: str) -> MarkdownText:
    """Blank the front matter and the markup of ``source``; title and date from front matter or h1."""
    meta, body_start = _front_matter(source)
    body = _blank(source, [(0, body_start)]) if body_start else source
    tokens = _parser().parse(body)
    keep = _content_spans(body, tokens)
    text = _blank(body, _gaps(keep, len(body)))
    title = meta.get("title") or _first_heading(tokens)
    date = meta.get("date") or meta.get("published")
    return MarkdownText(text, str(title).strip() if title else None,
                        find_date(str(date)) if date else None)


def _front_matter(source: str) -> tuple[dict, int]:
    """The YAML front matter's fields and where the body starts after it; ({}, 0) when there is none."""
    import frontmatter

    head = len(source) - len(source.lstrip("\ufeff \t\r\n"))
    if not source.startswith("---", head):
        return {}, 0
    rules = list(_RULE.finditer(source, head))
    if len(rules) < 2 or rules[0].start() != head:
        return {}, 0
    try:
        meta, _ = frontmatter.parse(source[head:rules[1].end()])
    except Exception:  # not YAML after all (e.g. a rule, a line, a rule): the text stays as it is
        return {}, 0
    return (meta, rules[1].end()) if meta else ({}, 0)


def _parser():
    """CommonMark with tables and strikethrough."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _content_spans(body: str, tokens) -> list[tuple[int, int]]:
    """Spans of ``body`` that are the author's text, found by aligning each token's text to its lines."""
    lines = _line_starts(body)
    spans: list[tuple[int, int]] = []
    for token in tokens:
        if token.map is None:
            continue
        begin, end = lines[token.map[0]], lines[min(token.map[1], len(lines) - 1)]
        if token.type == "inline":
            pieces = [c.content for c in token.children or () if c.type in ("text", "code_inline")]
        elif token.type in _KEPT_BLOCKS:
            pieces = [token.content]
        else:
            continue
        cursor = begin
        for piece in pieces:
            cursor = _align(body, piece, cursor, end, spans)
    return spans


def _align(body: str, piece: str, cursor: int, end: int, spans: list[tuple[int, int]]) -> int:
    """Find ``piece`` in ``body[cursor:end]`` and record where; returns the cursor after it.

    A piece whose source had escapes or entities (``\\*``, ``&amp;``) is not found whole: its
    characters are then matched one by one, in order, so the escaping characters stay blank.
    """
    found = body.find(piece, cursor, end)
    if found >= 0:
        spans.append((found, found + len(piece)))
        return found + len(piece)
    for char in piece:
        at = body.find(char, cursor, end)
        if at >= 0:
            spans.append((at, at + 1))
            cursor = at + 1
    return cursor


def _line_starts(text: str) -> list[int]:
    """Offset where each line starts, plus the text's end."""
    return [0] + [m.end() for m in re.finditer("\n", text)] + [len(text)]


def _gaps(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The parts of ``[0, length)`` that no span covers."""
    gaps, at = [], 0
    for start, end in sorted(spans):
        if start > at:
            gaps.append((at, start))
        at = max(at, end)
    return gaps + ([(at, length)] if at < length else [])


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with every character inside the spans, except line breaks, replaced by a space."""
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] not in "\r\n":
                chars[i] = " "
    return "".join(chars)


def _first_heading(tokens) -> str | None:
    """The text of the first level-1 heading."""
    for token, following in itertools.pairwise(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            return "".join(c.content for c in following.children or () if c.type in ("text", "code_inline"))
    return None
