"""HTML to its main text (no navigation, footers or ads), with the title and date the page states."""

from __future__ import annotations

import re

from rag.dates import find_date

_INVISIBLE = ("script", "style", "noscript", "template", "svg", "iframe")
_DATE_META = ("article:published_time", "og:published_time", "date", "pubdate", "publishdate",
              "dc.date", "dcterms.date", "published", "datepublished")
_TABLE_RULE = re.compile(r"^\|?[\s:|-]*-[\s:|-]*\|?$")  # the |---|---| line under a table's header


def html_to_document_fields(markup: str) -> tuple[str | None, str | None, str]:
    """(title, date, main text) of an HTML page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title, date = _title(soup), _date(soup)
    for tag in soup(list(_INVISIBLE)):  # trafilatura keeps <noscript> text
        tag.decompose()
    return title, date, main_text(str(soup))


def main_text(markup: str) -> str:
    """The page's main content as lines of plain text, by trafilatura; "" when there is none.

    Precision first, so menus and footers stay out; a page too small for that falls back to recall.
    """
    import trafilatura

    options = {"include_comments": False, "include_tables": True, "include_images": False}
    text = (trafilatura.extract(markup, favor_precision=True, **options)
            or trafilatura.extract(markup, favor_recall=True, **options) or "")
    return "\n".join(line for line in map(_plain_line, text.splitlines()) if line)


def _plain_line(line: str) -> str:
    """A line of trafilatura's output without its Markdown-ish list bullets and table rules."""
    line = " ".join(line.split())
    if _TABLE_RULE.match(line):
        return ""
    if line.startswith("|") and line.endswith("|"):
        return line.strip("| ")
    return line[2:] if line.startswith("- ") else line


def _title(soup) -> str | None:
    """The page title, or its first h1."""
    for tag in (soup.title, soup.find("h1")):
        if tag is not None and tag.get_text(strip=True):
            return " ".join(tag.get_text(" ", strip=True).split())
    return None


def _date(soup) -> str | None:
    """An ISO date from meta tags or a <time datetime> element."""
    for meta in soup.find_all("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _DATE_META and (found := find_date(meta.get("content") or "")):
            return found
    time_tag = soup.find("time", attrs={"datetime": True})
    return find_date(time_tag["datetime"]) if time_tag is not None else None
