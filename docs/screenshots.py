"""Regenerate the window's screenshots in docs/: ``PYTHONPATH=.:tests python3 docs/screenshots.py``.

Serves the real app over the seed article and a small notes collection (as the browser tests do), drives
chromium through each state, and saves palette-compressed PNGs; prints each file's size.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

from conftest import PATHANKOT
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from window_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LAPTOP,
    MUMBAI,
    PHONE,
    ask,
    save_checked_answer,
    save_many_sources,
    serve,
)

from rag.embedding import shared_embedder
from rag.settings import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
WAIT = 120_000  # ms
COLORS = 96  # palette size: UI text stays sharp, files stay small


def save(png: bytes, name: str) -> None:
    """Write a screenshot as a palette PNG and say how large it is."""
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(COLORS, method=Image.Quantize.MEDIANCUT)
    path = DOCS / name
    image.save(path, optimize=True)
    print(f"{path.relative_to(PROJECT_ROOT)}: {path.stat().st_size / 1024:.0f} KB")


def open_page(browser, url: str, viewport: dict):
    """A fresh page (own storage) with the window loaded."""
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(url, wait_until="load")
    expect(page.locator("#collection input")).to_have_value("documents", timeout=WAIT)
    return page


def answered(browser, url: str, viewport: dict):
    """The Mumbai example answered, its first citation opened in its document."""
    page = open_page(browser, url, viewport)
    ask(page, MUMBAI)
    expect(page.locator("#sources .source").first).to_be_visible(timeout=WAIT)
    page.locator("#choice label").first.click()
    expect(page.locator("#citation-context mark.quote")).to_be_visible()
    return page


def shoot(browser, served, folder: Path) -> None:
    """Every state of the window, one file each."""
    save(answered(browser, served.url, LAPTOP).screenshot(full_page=True), "window-chat.png")
    phone = answered(browser, served.url, PHONE)
    save(phone.screenshot(full_page=True), "window-phone.png")

    save_many_sources(served, 8)
    page = open_page(browser, served.url, LAPTOP)
    page.get_by_role("tab", name="Conversations").click()
    page.locator("#conversation-list label").first.click()
    save(page.screenshot(), "window-conversations.png")
    page.locator("#open-conversation").click()
    expect(page.locator("#choice label")).to_have_count(8, timeout=WAIT)
    expect(page.locator("#sources .source").first).to_be_visible()  # back on the chat tab
    save(page.screenshot(), "window-many-sources.png")

    save_checked_answer(served)
    page = open_page(browser, served.url, LAPTOP)
    page.get_by_role("tab", name="Conversations").click()
    page.locator("#conversation-list label").filter(has_text=PATHANKOT).first.click()
    page.locator("#open-conversation").click()
    expect(page.locator("#chat .unsupported del")).to_be_visible(timeout=WAIT)
    save(page.screenshot(), "window-unsupported.png")

    upload = folder / "lighthouse.txt"
    upload.write_text("The lighthouse keeper counted forty-two ships in March.", encoding="utf-8")
    page = open_page(browser, served.url, LAPTOP)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(upload)])
    expect(page.locator("#upload-report")).to_contain_text("added (1 passage embedded)", timeout=WAIT)
    expect(page.locator("#document-list")).to_contain_text("Lighthouse")
    save(page.screenshot(full_page=True), "window-documents.png")


def main() -> None:
    """Serve, shoot, clean up."""
    with tempfile.TemporaryDirectory(prefix="rag-screens-") as tmp:
        folder = Path(tmp)
        shutil.copytree(PROJECT_ROOT / "seeds", folder / "seeds")
        with serve(folder, folder / "seeds", shared_embedder()) as served, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                shoot(browser, served, folder)
            finally:
                browser.close()


if __name__ == "__main__":
    main()
