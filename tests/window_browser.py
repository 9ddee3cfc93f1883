"""The real app served in a thread and driven by chromium: what the window tests and screenshots share."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import uvicorn
from conftest import PATHANKOT
from procs import wait_healthy

from rag.answer.citations import citation_id
from rag.answer.local_llm import free_port
from rag.api import create_app
from rag.conversations import ConversationStore
from rag.embedding import Embedder
from rag.engine import Engine
from rag.settings import Settings
from rag.types import Answer, Citation, Sentence

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
MUMBAI = "How many people were killed in the Mumbai attacks?"
NOTES = "notes"
FERRY_QUESTION = "When do the harbour ferries change their timetable?"
UNSUPPORTED = "The attackers were all caught the same day."
_FERRY_PLACES = ("North Quay", "Old Town Pier", "Lighthouse Point", "Market Steps", "Island Wharf",
                 "Cannery Landing", "Signal Hill Jetty", "University Dock", "Riverside Stage")

# Every element whose box must stay clear of the others; ancestors and descendants may overlap.
REGIONS = ["#header", "#tabs button[role=tab]", "#chat", "#chat button[aria-label=Clear]",
           "#chat .message-row", "#question", "#new-conversation", "#sources .count",
           "#sources .sources-scroll", "#sources .source", "#choice", "#citation-context h4",
           "#citation-context .meta", "#citation-context .document > p:last-child"]
_OVERLAPS_JS = """(selectors) => {
  const seen = new Set(), items = [];
  for (const s of selectors) for (const el of document.querySelectorAll(s)) {
    if (seen.has(el) || !el.getClientRects().length) continue;
    seen.add(el); items.push([s, el, visibleBox(el)]);
  }
  function visibleBox(el) {  // the element's box, clipped by every scrolling or clipping ancestor
    const r = el.getBoundingClientRect();
    let box = {l: r.left, t: r.top, r: r.right, b: r.bottom};
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowY === 'visible') continue;
      const q = a.getBoundingClientRect();
      box = {l: Math.max(box.l, q.left), t: Math.max(box.t, q.top), r: Math.min(box.r, q.right),
             b: Math.min(box.b, q.bottom)};
    }
    return box;
  }
  const clashes = [];
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    const [s1, e1, a] = items[i], [s2, e2, b] = items[j];
    if (e1.contains(e2) || e2.contains(e1)) continue;
    const w = Math.min(a.r, b.r) - Math.max(a.l, b.l), h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
    if (w > 1 && h > 1) clashes.push(`${s1} overlaps ${s2} (${Math.round(w)}x${Math.round(h)} px)`);
  }
  return {clashes, checked: items.length,
          pageWider: document.documentElement.scrollWidth > window.innerWidth + 1};
}"""


@dataclass
class Served:
    url: str
    engine: Engine
    conversations: ConversationStore


def write_notes(folder: Path) -> Path:
    """Nine short harbour notes with long titles, in one jsonl file: a ferry question retrieves them all."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({
        "id": f"ferry-{n}",
        "title": f"Harbour ferry timetable changes at {place}, as announced by the regional transport "
                 f"council after the spring consultation (notice {n + 1})",
        "date": f"2024-03-{n + 1:02d}",
        "text": f"The harbour ferries at {place} change their timetable on {n + 4} April. "
                f"Boats from {place} will leave every {15 + n} minutes in the morning."})
        for n, place in enumerate(_FERRY_PLACES)]
    path = folder / "harbour-notes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def serve(folder: Path, seeds: Path, embedder: Embedder) -> Iterator[Served]:
    """The whole app (API and window) by uvicorn in a thread on a free port, over two collections."""
    settings = Settings.load(environ={}, index_dir=folder / "index", seeds_dir=seeds,
                             data_dir=folder / "data")
    notes = Engine(replace(settings, collection=NOTES), embedder)
    notes.index([write_notes(folder / "notes")])
    notes.close()
    engine = Engine(settings, embedder)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.config.port}"
    try:
        wait_healthy(url, 120)
        yield Served(url, engine, ConversationStore.in_folder(settings.data_dir))
    finally:
        server.should_exit = True
        thread.join(30)
        engine.close()


def save_many_sources(served: Served, k: int = 8) -> str:
    """A saved conversation whose answer quotes the first sentence of each of ``k`` real passages."""
    hits = served.engine.for_collection(NOTES).search(FERRY_QUESTION, k)
    citations = []
    for n, hit in enumerate(hits, 1):
        c = hit.chunk
        end = c.start + c.text.index(".") + 1
        citations.append(Citation(
            n=n, id=citation_id(c.id, c.start, end), doc_id=c.doc_id, title=c.title, source=c.source,
            date=c.date, quote=c.text[:end - c.start], start=c.start, end=end, chunk_id=c.id,
            score=hit.similarity or 0.0, passage=c.text, passage_start=c.start))
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return served.conversations.add(None, Answer(FERRY_QUESTION, text, True, citations), NOTES)


def save_checked_answer(served: Served) -> str:
    """A saved conversation holding a generated answer: a supported sentence, then an unsupported one."""
    real = served.engine.ask(PATHANKOT)
    quote = real.citations[0].quote
    answer = replace(real, answer=f"{quote} [1] {UNSUPPORTED}", backend="openai", unsupported=[UNSUPPORTED],
                     sentences=[Sentence(quote, True, [1]), Sentence(UNSUPPORTED, False, [])])
    return served.conversations.add(None, answer)


def overlaps(page) -> dict:
    """Which of the window's regions overlap on screen (clipped by their scrolling boxes)."""
    return page.evaluate(_OVERLAPS_JS, REGIONS)


def ask(page, question: str) -> None:
    """Type a question and send it."""
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
