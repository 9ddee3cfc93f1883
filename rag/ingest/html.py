"""HTML to visible text, with the title and publication date when the page states them."""

from __future__ import annotations

from rag.dates import find_date

_INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "iframe")
_DATE_META = ("article:published_time", "og:published_time", "date", "pubdate", "publishdate",
              "dc.date", "dcterms.date", "published", "datepublished")


def html_to_document_fields(markup: str) -> tuple[str | None, str | None, str]:
    """(title, date, visible text) of an HTML page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title = _title(soup)
    date = _date(soup)
    for tag in soup(list(_INVISIBLE)):
        tag.decompose()
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    return title, date, "\n".join(line for line in lines if line)


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
