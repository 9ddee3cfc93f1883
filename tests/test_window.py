"""The chat window in real chromium over the real app (encoder, Chroma, SQLite): layout, conversations,
documents and collections, at a laptop's and a phone's width."""

from __future__ import annotations

import shutil

import pytest
from conftest import PATHANKOT, SEEDS
from window_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FERRY_QUESTION,
    LAPTOP,
    MUMBAI,
    NOTES,
    PHONE,
    UNSUPPORTED,
    ask,
    overlaps,
    save_checked_answer,
    save_many_sources,
    serve,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
LONG = 60_000  # ms: the first answer on a loaded machine


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("window")
    shutil.copytree(SEEDS, folder / "seeds")
    with serve(folder, folder / "seeds", embedder) as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_window(served, browser):
    """Open the window in a fresh browser context (its own storage) at a viewport size."""
    contexts = []

    def opened(viewport=LAPTOP):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.goto(served.url, wait_until="load")
        expect(page.locator("#collection input")).to_have_value("documents", timeout=LONG)
        return page

    yield opened
    for context in contexts:
        context.close()


def assert_clear(page, sources: int) -> bool:
    """No regions overlap and the page is no wider than the screen; True when the sources box scrolls."""
    expect(page.locator("#sources .source")).to_have_count(sources)
    found = overlaps(page)
    assert found["clashes"] == [] and not found["pageWider"], found
    box = page.locator("#sources .sources-scroll")
    assert box.evaluate("e => getComputedStyle(e).overflowY") == "auto"
    return box.evaluate("e => e.scrollHeight > e.clientHeight")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_an_answer_and_its_opened_document_keep_their_boxes(open_window, viewport):
    page = open_window(viewport)
    page.locator("#chat-tab").get_by_text(MUMBAI).click()  # the bundled example fills the box
    expect(page.locator("#question textarea")).to_have_value(MUMBAI)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#sources .source").first).to_be_visible(timeout=LONG)
    page.locator("#choice label").last.click()
    expect(page.locator("#citation-context mark.quote")).to_be_visible()
    page.wait_for_function("""() => {  // the opened document scrolls inside its box to the quote
      const q = document.querySelector('#citation-context mark.quote').getBoundingClientRect();
      const box = document.querySelector('#citation-context .document').getBoundingClientRect();
      return q.top >= box.top && q.bottom <= box.bottom; }""", timeout=10_000)
    assert_clear(page, page.locator("#choice label").count())
    page.locator("#new-conversation").click()
    expect(page.locator("#sources .source")).to_have_count(0)
    expect(page.locator("#chat .message-row")).to_have_count(0)
    expect(page.locator("#choice label")).to_have_count(0)


@pytest.mark.parametrize("sources", [3, 8])
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_sources_with_long_titles_stay_in_their_panel(served, open_window, viewport, sources):
    conversation = save_many_sources(served, sources)
    page = open_window(viewport)
    page.get_by_role("tab", name="Conversations").click()
    page.locator("#conversation-list label").filter(has_text=FERRY_QUESTION).first.click()
    page.locator("#open-conversation").click()
    expect(page.locator("#choice label")).to_have_count(sources, timeout=LONG)
    expect(page.locator("#collection input")).to_have_value(NOTES)
    page.locator("#choice label").last.click()
    expect(page.locator("#citation-context h4")).to_contain_text("regional transport council")
    scrolls = assert_clear(page, sources)
    assert scrolls or sources < 8, "eight sources should scroll inside the sources box"
    served.conversations.delete(conversation)


def test_the_words_that_answer_are_bold_in_the_quote_and_stay_so_after_a_reload(open_window):
    page = open_window()
    ask(page, PATHANKOT)
    bold = page.locator("#sources mark.quote b.answer")
    expect(bold).to_have_text("seven", timeout=LONG)
    assert int(bold.evaluate("e => getComputedStyle(e).fontWeight")) >= 600
    page.reload(wait_until="load")
    expect(bold).to_have_text("seven", timeout=LONG)  # the span came back from the saved conversation


def test_a_reopened_answer_strikes_its_unsupported_sentence_and_bolds_the_answer(served, open_window):
    conversation = save_checked_answer(served)
    page = open_window()
    page.get_by_role("tab", name="Conversations").click()
    page.locator("#conversation-list label").filter(has_text=PATHANKOT).first.click()
    page.locator("#open-conversation").click()
    struck = page.locator("#chat .unsupported del")
    expect(struck).to_have_text(UNSUPPORTED, timeout=LONG)
    assert struck.evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
    expect(page.locator("#chat .unsupported")).to_contain_text("not supported by your documents")
    expect(page.locator("#chat")).to_contain_text("The attack killed seven Indian troops. [1]")
    expect(page.locator("#sources mark.quote b.answer")).to_have_text("seven")
    served.conversations.delete(conversation)


def test_a_conversation_is_saved_survives_a_reload_and_reopens(served, open_window):
    page = open_window()
    ask(page, "Who led the US delegation?")
    expect(page.locator("#chat")).to_contain_text("Nathan Sales", timeout=LONG)
    expect(page.locator("#sources")).to_contain_text("Nathan Sales", timeout=LONG)  # the turn ended
    ask(page, "And the Indian one?")
    expect(page.locator("#chat")).to_contain_text("Mahaveer Singhvi", timeout=LONG)
    expect(page.locator("#sources")).to_contain_text("Singhvi")
    page.reload(wait_until="load")
    expect(page.locator("#chat")).to_contain_text("Mahaveer Singhvi", timeout=LONG)
    expect(page.locator("#sources mark.quote").first).to_contain_text("Singhvi")
    page.locator("#new-conversation").click()
    expect(page.locator("#chat .message-row")).to_have_count(0)

    page.get_by_role("tab", name="Conversations").click()
    saved = page.locator("#conversation-list label").filter(has_text="Who led the US delegation?")
    saved.click()
    expect(page.locator("#conversation-size")).to_contain_text("2 questions")
    page.locator("#conversation-title textarea").fill("Delegations")
    page.locator("#rename-conversation").click()
    expect(page.locator("#conversation-list")).to_contain_text("Delegations")
    page.locator("#open-conversation").click()
    expect(page.locator("#chat")).to_contain_text("Nathan Sales")
    expect(page.locator("#chat .message-row")).to_have_count(4)
    expect(page.locator("#sources mark.quote").first).to_contain_text("Singhvi")

    page.get_by_role("tab", name="Conversations").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#delete-conversation").click()
    expect(page.locator("#conversation-list")).to_contain_text("Delegations")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-conversation").click()
    expect(page.locator("#conversation-list")).not_to_contain_text("Delegations")
    assert "Delegations" not in [s.title for s in served.conversations.list()]


def test_upload_reports_progress_per_file_then_a_confirmed_delete(served, open_window, tmp_path):
    big = tmp_path / "almanac.txt"
    big.write_text(" ".join(f"On day {n} the tide tables for the harbour listed {n % 7 + 2} high waters."
                            for n in range(3000)), encoding="utf-8")
    small = tmp_path / "lighthouse.txt"
    small.write_text("The lighthouse keeper counted forty-two ships in March.", encoding="utf-8")
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x90\x00")
    page = open_window()
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(big), str(small), str(bad)])
    report = page.locator("#upload-report")
    expect(report).to_contain_text("almanac.txt: indexing…", timeout=LONG)
    expect(report).to_contain_text("lighthouse.txt: waiting")
    expect(report).to_contain_text("lighthouse.txt: added (1 passage embedded)", timeout=LONG * 3)
    expect(report).to_contain_text("almanac.txt: added (")
    expect(report).to_contain_text("tool.exe: not indexed: 'tool.exe': unsupported file type .exe")
    listing = page.locator("#document-list")
    expect(listing).to_contain_text("Lighthouse")
    doc_id = next(r.id for r in served.engine.documents() if r.title == "Lighthouse")
    expect(listing.locator("code", has_text=doc_id)).to_be_visible()

    page.locator("#document-choice input").fill("Lighthouse")
    page.get_by_role("option", name=f"Lighthouse ({doc_id})").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#delete-document").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-document").click()
    expect(report).to_contain_text("Deleted Lighthouse (1 passage).")
    expect(listing).not_to_contain_text("Lighthouse")
    assert "Lighthouse" not in [r.title for r in served.engine.documents()]


def test_the_collection_choice_switches_documents_and_answers(open_window):
    page = open_window()
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#document-list")).to_contain_text("India and US press Pakistan")
    page.locator("#collection input").click()
    page.get_by_role("option", name=NOTES).click()
    expect(page.locator("#document-list")).to_contain_text("Harbour ferry timetable changes")
    expect(page.locator("#document-list")).not_to_contain_text("India and US press Pakistan")
    page.get_by_role("tab", name="Chat").click()
    ask(page, "How often do boats leave Old Town Pier in the morning?")
    expect(page.locator("#sources")).to_contain_text("Old Town Pier", timeout=LONG)
    expect(page.locator("#sources .source").first).to_contain_text("Harbour ferry timetable")
