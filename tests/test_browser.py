"""Browser tests: the participant and presenter pages in Chromium, driven by Playwright.

They need Playwright for Python (``pip install playwright``) and a Chromium at
/usr/bin/chromium (Debian's ``apt-get install chromium``; Playwright's own
browser download is not used). Without them the tests are skipped, unless
``POLLHUB_BROWSER_TESTS=required``, when they fail instead.

Screenshots of both pages (phone 360x740 and desktop 1280x800) go to
``$POLLHUB_ARTIFACTS/screenshots`` (default ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import re
import shutil
import urllib.request
from typing import Dict, Iterator, List, Optional

import pytest

from pollhub import Hub, PollClient, PollServer

from .conftest import wait_until

try:
    from playwright.sync_api import Browser, Error as PlaywrightError, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

CHROMIUM = os.environ.get("POLLHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REQUIRED = os.environ.get("POLLHUB_BROWSER_TESTS", "") == "required"
WAIT = 10_000  # ms: the longest any single expectation waits
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
LOCKED_MESSAGE = "This page needs the presenter link printed by the server when it started"


def screenshot_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("POLLHUB_ARTIFACTS", "test-artifacts")).resolve() / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    missing = None
    if sync_playwright is None:
        missing = "Playwright for Python is not installed (pip install playwright)"
    elif not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if REQUIRED:
            pytest.fail(f"POLLHUB_BROWSER_TESTS=required but {missing}")
        pytest.skip(missing)
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser test screenshots: {folder}")
    expect.set_options(timeout=WAIT)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Pages:
    """Opens pages in fresh browser contexts (separate storage) and records every request."""

    def __init__(self, browser: "Browser", server: PollServer) -> None:
        self.browser = browser
        self.origin = f"http://127.0.0.1:{server.port}"
        self.ws_origin = f"ws://127.0.0.1:{server.port}"
        self.requests: List[str] = []
        self.contexts: list = []
        self.errors: List[str] = []

    def new(self, path: str = "/", viewport: Optional[Dict[str, int]] = None, **options: object) -> "Page":
        context = self.browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True, **options)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        if path:
            page.goto(self.origin + path)
        return page

    def participant(self, **options: object) -> "Page":
        page = self.new("/", **options)
        expect(page.locator("#status")).to_have_text("Connected", timeout=WAIT)
        return page

    def presenter(self, token: str = "secret", **options: object) -> "Page":
        page = self.new(f"/present#token={token}", **options)
        expect(page.locator("#app")).to_be_visible(timeout=WAIT)
        return page

    def close(self) -> None:
        for context in self.contexts:
            try:
                context.close()
            except PlaywrightError:
                pass


@pytest.fixture
def pages(browser: "Browser", server: PollServer) -> Iterator[Pages]:
    opened = Pages(browser, server)
    yield opened
    opened.close()
    # The pages never throw and never log errors (a refused WebSocket while
    # the server is down is the browser's own message, not the page's).
    errors = [e for e in opened.errors if "WebSocket" not in e and "ERR_CONNECTION_REFUSED" not in e]
    assert errors == []


def server_export(pages: Pages, kind: str, token: str = "secret") -> bytes:
    """The server's ``/export.csv`` or ``/export.json`` (``kind``), fetched with the admin token in a header."""
    request = urllib.request.Request(f"{pages.origin}/export.{kind}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=WAIT / 1000) as reply:
        return reply.read()


def downloaded(page: "Page", button: str) -> "tuple[str, bytes]":
    """Click a download button; the file's suggested name and content."""
    with page.expect_download() as info:
        page.click(button)
    return info.value.suggested_filename, pathlib.Path(info.value.path()).read_bytes()


def shot(page: "Page", name: str) -> pathlib.Path:
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")  # bars at their final length
    return path


def option(page: "Page", option_id: str):
    return page.locator(f'#options .option[data-option="{option_id}"]')


def count(page: "Page", option_id: str):
    return option(page, option_id).locator(".option-count")


def poll_item(page: "Page", poll_id: str):
    return page.locator(f'#poll-list [data-poll="{poll_id}"]')


def no_horizontal_scroll(page: "Page", width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url}: scrollWidth {scroll_width} > {width}"


# 1 --------------------------------------------------------------------------------


def test_two_participants_see_each_others_votes(hub: Hub, pages: Pages) -> None:
    hub.create_poll("Lunch?", ["Pizza", "Salad", "Sushi"])
    ann = pages.participant()
    bob = pages.participant()
    expect(ann.locator("#question")).to_have_text("Lunch?")
    expect(ann.locator("#hint")).to_have_text("Tap an option to vote.")

    option(ann, "pizza").click()
    expect(ann.locator("#your-vote")).to_have_text("Your vote: Pizza")
    expect(option(ann, "pizza")).to_have_attribute("aria-pressed", "true")
    expect(ann.locator("[aria-live=polite]")).to_contain_text("Your vote: Pizza")
    expect(count(bob, "pizza")).to_have_text("1 vote", timeout=2000)

    option(bob, "salad").click()
    expect(count(ann, "salad")).to_have_text("1 vote", timeout=2000)
    expect(option(ann, "salad").locator(".option-pct")).to_have_text("50%", timeout=2000)
    expect(ann.locator("#total")).to_have_text("2 votes in total")
    expect(bob.locator("#your-vote")).to_have_text("Your vote: Salad")

    # Bob changes his mind: a single poll moves his vote, the total stays.
    option(bob, "pizza").click()
    expect(count(ann, "pizza")).to_have_text("2 votes", timeout=2000)
    expect(count(ann, "salad")).to_have_text("0 votes", timeout=2000)
    expect(ann.locator("#total")).to_have_text("2 votes in total")
    assert hub.results() == {"pizza": 2, "salad": 0, "sushi": 0}


# 2 --------------------------------------------------------------------------------


def test_reload_keeps_the_one_vote(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Tea or coffee?", ["Tea", "Coffee"])
    page = pages.participant()
    option(page, "coffee").click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: Coffee")
    voter = page.evaluate("localStorage.getItem('pollhub-voter')")
    assert voter and len(voter) == 32

    page.reload()
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#your-vote")).to_have_text("Your vote: Coffee")
    expect(option(page, "coffee")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#total")).to_have_text("1 vote in total")
    assert page.evaluate("localStorage.getItem('pollhub-voter')") == voter

    option(page, "coffee").click()  # the same choice again changes nothing
    option(page, "tea").click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: Tea")
    expect(page.locator("#total")).to_have_text("1 vote in total")
    assert hub.poll(poll.id).total == 1


# 3 --------------------------------------------------------------------------------


def test_presenter_creates_a_poll_and_the_participant_follows(hub: Hub, pages: Pages, server: PollServer) -> None:
    participant = pages.participant()
    expect(participant.locator("#waiting")).to_contain_text("Waiting for the next question")

    presenter = pages.presenter()
    assert "secret" not in presenter.url  # the token left the address bar
    assert presenter.evaluate("sessionStorage.getItem('pollhub-token')") == "secret"
    expect(presenter.locator("#participants")).to_have_text("1")

    presenter.fill("#new-question", "Best   season?")
    presenter.fill("#new-options", "Spring\nSummer\n\n  Autumn \nWinter\n")
    expect(presenter.locator("#options-hint")).to_have_text("4 options")
    presenter.click("#create")
    expect(participant.locator("#question")).to_have_text("Best season?", timeout=2000)
    expect(participant.locator("#options .option")).to_have_count(4)
    expect(presenter.locator("#chart-question")).to_have_text("Best season?")
    expect(presenter.locator("#new-question")).to_have_value("")  # the form is ready for the next one
    first = hub.current
    assert first == "best-season"

    # A second poll, not shown at once; then "Show" makes it current.
    presenter.fill("#new-question", "Cats or dogs?")
    presenter.fill("#new-options", "Cats\nDogs")
    presenter.check('input[name="kind"][value="counter"]')
    presenter.uncheck("#show-now")
    presenter.click("#create")
    item = poll_item(presenter, "cats-or-dogs")
    expect(item).to_contain_text("Cats or dogs?")
    expect(item.locator(".badge-current")).to_be_hidden()
    assert hub.current == first
    item.get_by_role("button", name="Show", exact=True).click()
    expect(participant.locator("#question")).to_have_text("Cats or dogs?", timeout=2000)
    expect(participant.locator("#poll-kind")).to_have_text("Tap to count")
    expect(item.locator(".badge-current")).to_be_visible()
    expect(item.get_by_role("button", name="Show", exact=True)).to_be_hidden()
    assert hub.current == "cats-or-dogs"

    # A counter poll counts every tap.
    for _ in range(3):
        option(participant, "dogs").click()
    expect(count(participant, "dogs")).to_have_text("3 votes", timeout=2000)
    expect(participant.locator("#hint")).to_have_text("You tapped 3 times. Keep going!")
    shot(participant, "participant-desktop-counter")
    expect(presenter.locator('#bars [data-option="dogs"] .bar-count')).to_have_text("3 votes")
    expect(presenter.locator("#chart-total")).to_have_text("3")
    expect(participant.locator("#your-vote")).to_be_hidden()


# 4 --------------------------------------------------------------------------------


def test_closing_the_poll_disables_voting(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Ready?", ["Yes", "No"])
    participant = pages.participant()
    option(participant, "yes").click()
    expect(participant.locator("#your-vote")).to_have_text("Your vote: Yes")
    presenter = pages.presenter()
    item = poll_item(presenter, poll.id)

    item.get_by_role("button", name="Close voting").click()
    expect(participant.locator("#closed")).to_have_text("Voting is closed", timeout=2000)
    expect(option(participant, "yes")).to_be_disabled()
    expect(option(participant, "no")).to_be_disabled()
    expect(participant.locator("#your-vote")).to_have_text("Your vote: Yes")
    expect(presenter.locator("#chart-state")).to_have_text("Voting closed")
    assert hub.poll(poll.id).open is False

    item.get_by_role("button", name="Open voting").click()
    expect(option(participant, "no")).to_be_enabled(timeout=2000)
    expect(participant.locator("#closed")).to_be_hidden()


# 5 --------------------------------------------------------------------------------


def test_page_reconnects_after_a_server_restart(hub: Hub, pages: Pages, server: PollServer) -> None:
    poll = hub.create_poll("Still there?", ["Yes", "No"])
    page = pages.participant(viewport=PHONE)
    option(page, "yes").click()
    expect(page.locator("#total")).to_have_text("1 vote in total")

    port = server.port
    server.stop()
    expect(page.locator("#status")).to_have_text("Reconnecting…")
    expect(option(page, "no")).to_be_disabled()
    expect(page.locator("#hint")).to_have_text("Reconnecting… voting resumes in a moment.")
    shot(page, "participant-phone-reconnecting")
    hub.vote(poll.id, "no", voter="carol")
    hub.vote(poll.id, "no", voter="dave")
    restarted = PollServer(hub, port=port, token="secret", max_vote_rate=0)
    restarted.start()
    try:
        expect(page.locator("#status")).to_have_text("Connected", timeout=15_000)
        expect(count(page, "no")).to_have_text("2 votes")
        expect(count(page, "yes")).to_have_text("1 vote")
        expect(page.locator("#total")).to_have_text("3 votes in total")
        expect(page.locator("#your-vote")).to_have_text("Your vote: Yes")
        expect(option(page, "no")).to_be_enabled()
    finally:
        pages.close()
        restarted.stop()


# 6 --------------------------------------------------------------------------------


def test_screenshots_and_no_horizontal_scrolling(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll(
        "Which feature should we build next for the conference app?",
        ["Offline schedule", "Speaker Q&A", "Live captions", "Dark mode"],
    )
    for i, option_id in enumerate(["offline-schedule"] * 5 + ["speaker-q-a"] * 9 + ["live-captions"] * 4 + ["dark-mode"] * 2):
        hub.vote(poll.id, option_id, voter=f"v{i}")
    hub.create_poll("How was the talk?", ["Great", "Good", "Meh"])
    hub.create_poll("Applause meter", ["Clap", "Cheer"], kind="counter")

    total = 20
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        for scheme in ("light", "dark"):
            total += 1  # each page is a new voter
            suffix = "" if scheme == "light" else "-dark"
            participant = pages.participant(viewport=viewport, color_scheme=scheme)
            option(participant, "speaker-q-a").click()
            expect(participant.locator("#your-vote")).to_have_text("Your vote: Speaker Q&A")
            expect(participant.locator("#total")).to_have_text(f"{total} votes in total")
            shot(participant, f"participant-{name}{suffix}")
            no_horizontal_scroll(participant, viewport["width"])

            presenter = pages.presenter(viewport=viewport, color_scheme=scheme)
            expect(presenter.locator("#chart-question")).to_have_text(poll.question)
            expect(presenter.locator("#join-host")).not_to_be_empty()
            expect(presenter.locator("#qr")).to_have_js_property("complete", True)
            shot(presenter, f"presenter-{name}{suffix}")
            no_horizontal_scroll(presenter, viewport["width"])
            if name == "desktop" and scheme == "light":
                presenter.click("#fullscreen")  # projector view: the stage alone
                expect(presenter.locator(".sidebar")).to_be_hidden()
                shot(presenter, "presenter-desktop-projector")
                presenter.click("#fullscreen")
                expect(presenter.locator(".sidebar")).to_be_visible()

    hub.close_poll(poll.id)
    participant = pages.participant(viewport=PHONE)
    expect(participant.locator("#closed")).to_be_visible()
    shot(participant, "participant-phone-closed")
    no_horizontal_scroll(participant, PHONE["width"])

    hub.delete_poll(poll.id)  # no current poll now
    expect(participant.locator("#waiting")).to_be_visible()
    shot(participant, "participant-phone-waiting")

    locked = pages.new("/present", viewport=PHONE)
    expect(locked.locator("#locked")).to_be_visible()
    shot(locked, "presenter-phone-locked")
    no_horizontal_scroll(locked, PHONE["width"])


def test_long_questions_and_many_options_fit_a_phone(hub: Hub, pages: Pages) -> None:
    labels = [f"Option {i}: " + "a rather long label that has to wrap " * 2 for i in range(1, 13)]
    labels.append("https://example.org/an/extremely/long/address/without/any/spaces/at/all/to/break/on")
    hub.create_poll("Q" * 150 + " " + "and a very long question that goes on " * 3, labels)
    participant = pages.participant(viewport=PHONE)
    expect(participant.locator("#options .option")).to_have_count(13)
    option(participant, "option-3-a-rather-long-label-that-has-to").click()
    expect(participant.locator("#your-vote")).to_contain_text("Your vote: Option 3")
    no_horizontal_scroll(participant, PHONE["width"])
    shot(participant, "participant-phone-long")
    presenter = pages.presenter(viewport=PHONE)
    expect(presenter.locator("#bars .bar")).to_have_count(13)
    no_horizontal_scroll(presenter, PHONE["width"])
    presenter.set_viewport_size(DESKTOP)
    presenter.click("#fullscreen")
    expect(presenter.locator("#chart-total")).to_have_text("1")
    shot(presenter, "presenter-desktop-projector-long")


# 7 --------------------------------------------------------------------------------


CONTROLS = "button:visible, input:visible, textarea:visible, select:visible"


def test_presenter_without_a_token_shows_the_message_and_no_controls(hub: Hub, pages: Pages) -> None:
    hub.create_poll("Secret?", ["Yes", "No"])
    page = pages.new("/present")
    expect(page.locator("#locked")).to_contain_text(LOCKED_MESSAGE)
    expect(page.locator("#app")).to_be_hidden()
    assert page.locator(CONTROLS).count() == 0
    shot(page, "presenter-desktop-locked")

    wrong = pages.new("/present#token=wrong")
    expect(wrong.locator("#locked")).to_contain_text(LOCKED_MESSAGE)
    expect(wrong.locator("#app")).to_be_hidden()
    assert wrong.locator(CONTROLS).count() == 0
    assert "wrong" not in wrong.url
    # Forgotten once the server answers the hello (a wrong token's answer may come after a delay).
    wait_until(lambda: wrong.evaluate("sessionStorage.getItem('pollhub-token')") is None, timeout=WAIT / 1000)
    assert hub.poll().open  # nothing happened to the poll


# 8 --------------------------------------------------------------------------------


def test_pages_request_nothing_but_the_server(hub: Hub, pages: Pages) -> None:
    hub.create_poll("Local only?", ["Yes", "No"])
    participant = pages.participant()
    option(participant, "yes").click()
    expect(participant.locator("#your-vote")).to_have_text("Your vote: Yes")
    presenter = pages.presenter()
    expect(presenter.locator("#qr")).to_have_js_property("complete", True)
    expect(presenter.locator("#join-host")).not_to_be_empty()
    presenter.click("#qr-button")
    expect(presenter.locator("#qr-dialog")).to_be_visible()
    presenter.click("#qr-close")
    pages.new("/present")
    assert pages.requests, "no requests recorded"
    foreign = [
        url
        for url in pages.requests
        if not (url.startswith(pages.origin + "/") or url.startswith(pages.ws_origin + "/") or url.startswith("data:"))
    ]
    assert foreign == []
    assert pages.ws_origin + "/ws" in pages.requests
    assert pages.origin + "/static/style.css" in pages.requests


# More ------------------------------------------------------------------------------


def test_presenter_downloads_csv_and_json(hub: Hub, pages: Pages) -> None:
    """The page downloads the server's export (token in a header, never in a URL), formulas guarded."""
    poll = hub.create_poll('Say "cheese", please', ["Brie, soft", "Gouda", "=SUM(A1)"])
    hub.vote(poll.id, "brie-soft", voter="a")
    hub.vote(poll.id, "gouda", voter="b")
    hub.vote(poll.id, "gouda", voter="c")
    presenter = pages.presenter()
    expect(presenter.locator("#chart-total")).to_have_text("3")

    name, body = downloaded(presenter, "#download-csv")
    assert re.fullmatch(r"pollhub-results-\d{8}-\d{4}\.csv", name)
    assert body == server_export(pages, "csv")
    assert list(csv.reader(io.StringIO(body.decode("utf-8")))) == [
        ["poll", "question", "kind", "open", "option", "label", "votes", "voters"],
        [poll.id, 'Say "cheese", please', "single", "true", "brie-soft", "Brie, soft", "1", "3"],
        [poll.id, 'Say "cheese", please', "single", "true", "gouda", "Gouda", "2", "3"],
        [poll.id, 'Say "cheese", please', "single", "true", "sum-a1", "'=SUM(A1)", "0", "3"],
    ]

    name, body = downloaded(presenter, "#download-json")
    assert re.fullmatch(r"pollhub-results-\d{8}-\d{4}\.json", name)
    data = json.loads(body)
    assert data == json.loads(server_export(pages, "json"))
    assert data["current"] == poll.id
    (exported,) = data["polls"]
    assert exported["options"][2] == {"id": "sum-a1", "label": "=SUM(A1)"}  # JSON as it is: only CSV cells are guarded
    assert exported["counts"] == {"brie-soft": 1, "gouda": 2, "sum-a1": 0}
    assert (exported["total"], exported["voters"]) == (3, 3)
    # Fetched from the server, the token never in a URL.
    assert pages.origin + "/export.csv" in pages.requests and pages.origin + "/export.json" in pages.requests
    assert [url for url in pages.requests if "secret" in url] == []

    # Without a hub to answer, the page says the download failed.
    hub.stop()
    presenter.click("#download-csv")
    expect(presenter.locator(".toast-text").last).to_have_text("Could not download the CSV: the server answered 503.")
    # The browser logs the failed request itself; the page logs nothing more.
    pages.errors[:] = [e for e in pages.errors if "status of 503" not in e]


def test_presenter_reset_delete_and_errors(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Reset me?", ["Yes", "No"])
    participant = pages.participant()
    option(participant, "no").click()
    expect(participant.locator("#your-vote")).to_have_text("Your vote: No")
    presenter = pages.presenter()
    item = poll_item(presenter, poll.id)
    expect(item.locator(".poll-item-total")).to_contain_text("1 vote")

    # Reset asks first; Cancel keeps the votes.
    item.get_by_role("button", name="Reset").click()
    expect(presenter.locator("#confirm")).to_be_visible()
    presenter.click("#confirm-cancel")
    expect(presenter.locator("#confirm")).to_be_hidden()
    assert hub.poll(poll.id).total == 1
    item.get_by_role("button", name="Reset").click()
    presenter.click("#confirm-ok")
    expect(participant.locator("#total")).to_have_text("0 votes in total", timeout=2000)
    expect(participant.locator("#your-vote")).to_be_hidden()
    expect(option(participant, "no")).to_have_attribute("aria-pressed", "false")

    # The server's own checks reach the presenter as a dismissable message
    # (casefold makes "Straße" and "STRASSE" the same label; lower case does not).
    presenter.fill("#new-question", "Street?")
    presenter.fill("#new-options", "Straße\nSTRASSE")
    presenter.click("#create")
    toast = presenter.locator("#toasts .toast")
    expect(toast).to_contain_text("two options have the same label")
    shot(presenter, "presenter-desktop-error")
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)

    # The form's own checks.
    presenter.fill("#new-options", "Only one")
    presenter.click("#create")
    expect(presenter.locator("#form-error")).to_have_text("Write at least two options, one per line.")

    # Delete asks first, then the participant is left waiting.
    item.get_by_role("button", name="Delete").click()
    expect(presenter.locator("#confirm-title")).to_have_text("Delete this poll?")
    shot(presenter, "presenter-desktop-confirm")
    presenter.click("#confirm-ok")
    expect(item).to_have_count(0)
    expect(participant.locator("#waiting")).to_contain_text("Waiting for the next question", timeout=2000)
    expect(presenter.locator("#chart-empty")).to_be_visible()
    assert hub.polls() == []


def test_a_page_whose_hello_is_rate_limited_asks_again_and_votes_as_itself(hub: Hub, browser: "Browser") -> None:
    """A hall behind one NAT past the new-voter burst: the page's hello is refused, then accepted once the bucket refills."""
    hub.create_poll("Lunch?", ["Pizza", "Salad"])
    # A burst of one new voter, then one a second: the page's anonymous
    # connection and its hello compete for the same address's bucket.
    with PollServer(hub, port=0, token="secret", max_vote_rate=0, new_voter_rate=0.5, new_voter_burst=1) as server:
        first = PollClient(server.url, voter="someone-else", timeout=10)  # spends the burst
        try:
            opened = Pages(browser, server)
            try:
                page = opened.new("/")
                expect(page.locator("#status")).to_have_text("Connected", timeout=WAIT)
                voter = page.evaluate("localStorage.getItem('pollhub-voter')")
                # Refused at first (the burst is spent), then asked again and admitted.
                wait_until(lambda: server.new_voters.most_per_address() == 2, timeout=WAIT / 1000)
                option(page, "pizza").click()
                expect(page.locator("#your-vote")).to_have_text("Your vote: Pizza", timeout=WAIT)
                ballots = hub._call(lambda: dict(hub._book.polls["lunch"].ballots))
                assert ballots == {voter: ("pizza",)}  # its own id, not an anonymous one
            finally:
                opened.close()
        finally:
            first.close()
