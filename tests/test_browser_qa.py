"""Browser tests for audience Q&A (issue 15): the participant's Q&A tab, the presenter's Q&A panel and stage.

The same fixtures and helpers as ``test_browser.py`` (and the same skip rules):
a real Hub and PollServer on loopback, each page in a fresh Chromium context
(its own localStorage, so its own voter). Screenshots at 360 px and desktop
width go to the same folder, named ``qa-*``.
"""

from __future__ import annotations

from pollhub import Hub

from . import test_browser as shared
from .conftest import wait_until
from .test_browser import DESKTOP, PHONE, Pages, no_horizontal_scroll, shot

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the browser fixture skips
    pass

# The fixtures of test_browser.py: a Chromium per module, pages opened in fresh contexts.
browser = shared.browser
pages = shared.pages

LIVE = 3000  # ms a change made elsewhere may take to show


def item(page: Page, question_id: str):
    """A question's row in the participant's lists (questions or answered)."""
    return page.locator(f'#qa .qa-item[data-question="{question_id}"]')


def upvote(page: Page, question_id: str):
    return item(page, question_id).locator(".qa-upvote")


def admin_item(page: Page, question_id: str):
    """A question's row in the presenter's Q&A panel."""
    return page.locator(f'#qa-panel .qa-admin-item[data-question="{question_id}"]')


def action(page: Page, question_id: str, name: str):
    return admin_item(page, question_id).locator(f'[data-action="{name}"]')


def shown_ids(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector} > li", "items => items.map(item => item.dataset.question)")


def ask(page: Page, text: str, name: str = "") -> None:
    page.fill("#qa-text", text)
    page.fill("#qa-name", name)
    page.click("#qa-send")


def by_text(hub: Hub, text: str) -> dict:
    """The question the hub holds with this text (waits for it to arrive)."""
    found = wait_until(lambda: [q for q in hub.questions() if q["text"] == text])
    assert isinstance(found, list) and len(found) == 1
    return found[0]


# Asking ----------------------------------------------------------------------------------------


def test_ask_anonymous_then_named_and_the_name_is_remembered(hub: Hub, pages: Pages) -> None:
    page = pages.participant(viewport=PHONE)
    # No poll is current: the page opens on Q&A.
    expect(page.locator("#tab-qa")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa")).to_be_visible()
    expect(page.locator("#waiting")).to_be_hidden()
    expect(page.locator("#qa-empty")).to_be_visible()
    expect(page.locator("#qa-send")).to_be_disabled()  # nothing typed yet

    # The count is live and counts what the server will: whitespace collapsed.
    page.fill("#qa-text", "  Why   the\n\ndelay?  ")
    expect(page.locator("#qa-count")).to_have_text("14 / 280")
    page.click("#qa-send")
    first = item(page, "q1")
    expect(first).to_contain_text("Why the delay?")
    expect(first.locator(".qa-item-meta")).to_contain_text("Anonymous")
    expect(first.locator(".qa-item-meta")).to_contain_text("Your question")
    expect(upvote(page, "q1")).to_be_hidden()  # one's own question offers no upvote
    expect(first.locator(".qa-votes")).to_have_text("0 upvotes")
    expect(page.locator("#qa-text")).to_have_value("")
    expect(page.locator("[aria-live=polite]")).to_contain_text("Your question was sent.")
    assert by_text(hub, "Why the delay?")["name"] is None

    ask(page, "Will the slides be shared?", name="  Ann   Lee ")
    expect(item(page, "q2").locator(".qa-item-meta")).to_contain_text("Ann Lee")
    assert by_text(hub, "Will the slides be shared?")["name"] == "Ann Lee"
    no_horizontal_scroll(page, PHONE["width"])
    shot(page, "qa-participant-phone-asked")

    page.reload()
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#qa-name")).to_have_value("Ann Lee")  # remembered in this browser
    # Still this voter's own questions after a reload (the welcome says so).
    expect(item(page, "q2").locator(".qa-item-meta")).to_contain_text("Your question")
    expect(upvote(page, "q2")).to_be_hidden()
    # Emptying the name asks anonymously again, and is remembered too.
    ask(page, "And the recording?", name="")
    expect(item(page, "q3").locator(".qa-item-meta")).to_contain_text("Anonymous")
    assert by_text(hub, "And the recording?")["name"] is None
    page.reload()
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#qa-name")).to_have_value("")


def test_errors_are_shown_next_to_the_box(hub: Hub, pages: Pages) -> None:
    page = pages.participant(viewport=PHONE)
    page.fill("#qa-text", "x" * 281)
    expect(page.locator("#qa-count")).to_have_text("281 / 280 · too long")
    expect(page.locator("#qa-text")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#qa-send")).to_be_disabled()
    page.fill("#qa-text", "x" * 280)
    expect(page.locator("#qa-send")).to_be_enabled()
    page.fill("#qa-name", "n" * 41)
    expect(page.locator("#qa-error")).to_have_text("Names can be up to 40 characters.")
    expect(page.locator("#qa-send")).to_be_disabled()
    page.fill("#qa-name", "")

    # The server's own refusal: the same question twice within a minute.
    ask(page, "Is lunch included?")
    expect(item(page, "q1")).to_be_visible()
    ask(page, "is   LUNCH included?")
    expect(page.locator("#qa-error")).to_have_text("You just asked that. Give the presenter a moment.")
    expect(page.locator("#qa-text")).to_have_value("is   LUNCH included?")  # kept, to edit
    shot(page, "qa-participant-phone-error")
    page.fill("#qa-text", "Is dinner included?")
    expect(page.locator("#qa-error")).to_be_hidden()  # typing clears it
    assert len(hub.questions()) == 1


def test_closed_for_new_questions_but_upvotes_go_on(hub: Hub, pages: Pages) -> None:
    question = hub.ask("Can we get the code?")
    page = pages.participant(viewport=PHONE)
    presenter = pages.presenter()
    expect(presenter.locator("#qa-open-toggle")).to_be_checked()
    page.fill("#qa-text", "Typed before it closed")

    presenter.locator("#qa-open-toggle").uncheck()
    expect(page.locator("#qa-closed")).to_be_visible(timeout=LIVE)
    expect(page.locator("#qa-closed")).to_have_text("Questions are closed for now. You can still upvote.")
    expect(page.locator("#qa-send")).to_be_disabled()
    expect(page.locator("#qa-text")).to_be_disabled()
    expect(page.locator("[aria-live=polite]")).to_contain_text("Questions are closed")
    assert hub.qa_settings()["open"] is False

    upvote(page, question["id"]).click()
    expect(upvote(page, question["id"])).to_have_attribute("aria-pressed", "true")
    expect(upvote(page, question["id"])).to_have_text("1")
    wait_until(lambda: hub.questions()[0]["upvotes"] == 1)
    shot(page, "qa-participant-phone-closed")

    presenter.locator("#qa-open-toggle").check()
    expect(page.locator("#qa-closed")).to_be_hidden(timeout=LIVE)
    expect(page.locator("#qa-send")).to_be_enabled()
    page.click("#qa-send")
    expect(item(page, "q2")).to_contain_text("Typed before it closed")


# Moderation --------------------------------------------------------------------------------------


def test_moderation_waiting_shows_only_to_the_asker_until_approved(hub: Hub, pages: Pages) -> None:
    presenter = pages.presenter()
    presenter.locator("#qa-moderation-toggle").check()
    wait_until(lambda: hub.qa_settings()["moderation"] is True)
    ann = pages.participant(viewport=PHONE)
    bob = pages.participant(viewport=PHONE)
    expect(ann.locator("#qa-moderated")).to_be_visible()

    ask(ann, "How do I join the beta?")
    mine = item(ann, "q1")
    expect(mine.locator(".qa-badge-waiting")).to_have_text("Waiting for approval")
    expect(mine).to_have_attribute("data-state", "waiting")
    expect(ann.locator("[aria-live=polite]")).to_contain_text("once the presenter approves it")
    shot(ann, "qa-participant-phone-waiting")
    # The presenter sees it waiting; another participant does not see it at all.
    expect(admin_item(presenter, "q1")).to_have_attribute("data-state", "waiting", timeout=LIVE)
    expect(presenter.locator("#qa-waiting-title")).to_be_visible()
    expect(bob.locator("#qa-empty")).to_be_visible()
    expect(item(bob, "q1")).to_have_count(0)
    shot(presenter, "qa-presenter-desktop-moderation")
    # A reload still shows Ann her waiting question (it comes with the hello), and Bob still nothing.
    ann.reload()
    expect(ann.locator("#status")).to_have_text("Connected")
    expect(item(ann, "q1").locator(".qa-badge-waiting")).to_have_text("Waiting for approval")
    bob.reload()
    expect(bob.locator("#status")).to_have_text("Connected")
    expect(bob.locator("#qa-empty")).to_be_visible()

    action(presenter, "q1", "approve").click()
    expect(item(bob, "q1")).to_contain_text("How do I join the beta?", timeout=LIVE)
    expect(upvote(bob, "q1")).to_be_visible()
    expect(mine.locator(".qa-badge-waiting")).to_have_count(0, timeout=LIVE)
    expect(mine).to_have_attribute("data-state", "published")
    expect(ann.locator("[aria-live=polite]")).to_contain_text("Your question was approved")
    expect(admin_item(presenter, "q1")).to_have_attribute("data-state", "published")
    expect(presenter.locator("#qa-waiting-title")).to_be_hidden()
    assert hub.questions()[0]["state"] == "published"

    # Highlighting a waiting question approves it on the way to the stage.
    ask(bob, "Is there a free tier?")
    expect(admin_item(presenter, "q2")).to_have_attribute("data-state", "waiting", timeout=LIVE)
    expect(item(ann, "q2")).to_have_count(0)
    action(presenter, "q2", "highlight").click()
    expect(presenter.locator("#stage-highlight-text")).to_have_text("Is there a free tier?", timeout=LIVE)
    expect(item(ann, "q2")).to_contain_text("Is there a free tier?", timeout=LIVE)
    expect(item(ann, "q2").locator(".qa-item-meta")).to_contain_text("On screen")


# Upvotes and sorting ------------------------------------------------------------------------------


def test_upvotes_are_live_on_two_pages_and_a_second_tap_takes_it_back(hub: Hub, pages: Pages) -> None:
    question = hub.ask("What about accessibility?", name="Eve")
    qid = question["id"]
    ann = pages.participant(viewport=PHONE)
    bob = pages.participant()
    expect(upvote(ann, qid)).to_have_attribute("aria-pressed", "false")
    expect(upvote(ann, qid)).to_have_accessible_name("Upvote: What about accessibility? (0 upvotes)")

    upvote(ann, qid).click()
    expect(upvote(ann, qid)).to_have_attribute("aria-pressed", "true")
    expect(upvote(bob, qid)).to_have_text("1", timeout=LIVE)
    expect(upvote(bob, qid)).to_have_attribute("aria-pressed", "false")  # Ann's upvote, not Bob's
    upvote(bob, qid).click()
    expect(upvote(ann, qid)).to_have_text("2", timeout=LIVE)
    expect(upvote(bob, qid)).to_have_attribute("aria-pressed", "true")
    shot(ann, "qa-participant-phone-upvoted")

    # A second tap takes the upvote back, and the keyboard works as well as a tap.
    upvote(ann, qid).focus()
    ann.keyboard.press("Enter")
    expect(upvote(ann, qid)).to_have_attribute("aria-pressed", "false")
    expect(upvote(bob, qid)).to_have_text("1", timeout=LIVE)
    wait_until(lambda: hub.questions()[0]["upvotes"] == 1)

    # Bob's own question: Ann may upvote it, Bob may not.
    ask(bob, "Is there a discount for students?")
    theirs = by_text(hub, "Is there a discount for students?")["id"]
    expect(upvote(ann, theirs)).to_be_visible(timeout=LIVE)
    expect(item(bob, theirs)).to_be_visible()
    expect(upvote(bob, theirs)).to_be_hidden()
    expect(item(bob, theirs).locator(".qa-votes")).to_have_text("0 upvotes")
    upvote(ann, theirs).click()
    expect(item(bob, theirs).locator(".qa-votes")).to_have_text("1 upvote", timeout=LIVE)

    # A reload keeps what this voter upvoted.
    bob.reload()
    expect(bob.locator("#status")).to_have_text("Connected")
    expect(upvote(bob, qid)).to_have_attribute("aria-pressed", "true")


def test_sort_popular_or_recent_and_answered_apart(hub: Hub, pages: Pages) -> None:
    old = hub.ask("Oldest, one upvote")
    mid = hub.ask("Middle, three upvotes")
    new = hub.ask("Newest, one upvote")
    for _ in range(3):
        hub.upvote(mid["id"])
    hub.upvote(old["id"])
    hub.upvote(new["id"])
    page = pages.participant(viewport=PHONE)
    presenter = pages.presenter()

    expect(page.locator('#qa .qa-sort-button[data-order="popular"]')).to_have_attribute("aria-pressed", "true")
    assert shown_ids(page, "#qa-list") == [mid["id"], old["id"], new["id"]]  # most upvotes, then oldest
    page.click('#qa .qa-sort-button[data-order="recent"]')
    expect(page.locator('#qa .qa-sort-button[data-order="recent"]')).to_have_attribute("aria-pressed", "true")
    wait_until(lambda: shown_ids(page, "#qa-list") == [new["id"], mid["id"], old["id"]])

    # The presenter sorts too, on its own.
    assert shown_ids(presenter, "#qa-published-list") == [mid["id"], old["id"], new["id"]]
    presenter.click('#qa-panel [data-order="recent"]')
    wait_until(lambda: shown_ids(presenter, "#qa-published-list") == [new["id"], mid["id"], old["id"]])
    presenter.click('#qa-panel [data-order="popular"]')

    # Live: an upvote elsewhere reorders Popular.
    page.click('#qa .qa-sort-button[data-order="popular"]')
    hub.upvote(new["id"])
    hub.upvote(new["id"])
    hub.upvote(new["id"])
    wait_until(lambda: shown_ids(page, "#qa-list") == [new["id"], mid["id"], old["id"]])

    # Answered questions go apart, on both pages.
    action(presenter, mid["id"], "answer").click()
    expect(page.locator("#qa-answered-title")).to_be_visible(timeout=LIVE)
    wait_until(lambda: shown_ids(page, "#qa-answered") == [mid["id"]])
    assert shown_ids(page, "#qa-list") == [new["id"], old["id"]]
    expect(item(page, mid["id"]).locator(".qa-upvote")).to_be_hidden()  # no upvotes for answered questions
    expect(item(page, mid["id"]).locator(".qa-votes")).to_have_text("3 upvotes")
    expect(admin_item(presenter, mid["id"])).to_have_attribute("data-state", "answered")
    wait_until(lambda: shown_ids(presenter, "#qa-answered-list") == [mid["id"]])
    no_horizontal_scroll(page, PHONE["width"])
    shot(page, "qa-participant-phone-sorted-answered")
    shot(presenter, "qa-presenter-desktop-answered")

    # Taken back: "Not answered" publishes it again.
    action(presenter, mid["id"], "reopen").click()
    wait_until(lambda: shown_ids(page, "#qa-list") == [new["id"], mid["id"], old["id"]])
    expect(page.locator("#qa-answered-title")).to_be_hidden()


def test_dismiss_removes_it_from_participants_and_keeps_it_for_the_presenter(hub: Hub, pages: Pages) -> None:
    keep = hub.ask("A fair question")
    spam = hub.ask("Buy cheap watches")
    page = pages.participant(viewport=PHONE)
    presenter = pages.presenter()
    expect(item(page, spam["id"])).to_be_visible()

    action(presenter, spam["id"], "dismiss").click()
    expect(item(page, spam["id"])).to_have_count(0, timeout=LIVE)
    expect(item(page, keep["id"])).to_be_visible()
    expect(presenter.locator("#qa-dismissed")).to_be_visible()
    expect(presenter.locator("#qa-dismissed summary")).to_have_text("Dismissed (1)")
    presenter.click("#qa-dismissed summary")
    expect(admin_item(presenter, spam["id"])).to_have_attribute("data-state", "dismissed")
    assert shown_ids(presenter, "#qa-dismissed-list") == [spam["id"]]
    assert shown_ids(presenter, "#qa-published-list") == [keep["id"]]
    assert [q["state"] for q in hub.questions()] == ["published", "dismissed"]
    shot(presenter, "qa-presenter-desktop-dismissed")

    # A participant who arrives later never sees it.
    late = pages.participant(viewport=PHONE)
    expect(item(late, keep["id"])).to_be_visible()
    expect(item(late, spam["id"])).to_have_count(0)


# The stage --------------------------------------------------------------------------------------------


def test_highlight_and_the_question_list_on_the_stage_followed_by_a_projector_window(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Lunch?", ["Pizza", "Salad"])
    first = hub.ask("What is next on the roadmap?", name="Ann")
    second = hub.ask("Any plans for a mobile app?")
    hub.upvote(second["id"])
    presenter = pages.presenter()
    projector = pages.presenter()  # a second window, on the projector
    participant = pages.participant(viewport=PHONE)
    expect(projector.locator("#chart-question")).to_have_text("Lunch?")
    expect(projector.locator("#stage-qa")).to_be_hidden()
    projector.click("#fullscreen")  # projector mode (full screen where allowed)

    action(presenter, first["id"], "highlight").click()
    expect(action(presenter, first["id"], "highlight")).to_have_attribute("aria-pressed", "true")
    for page in (presenter, projector):
        expect(page.locator("#stage-highlight")).to_be_visible(timeout=LIVE)
        expect(page.locator("#stage-highlight-text")).to_have_text("What is next on the roadmap?")
        expect(page.locator("#stage-highlight-name")).to_have_text("Ann")
        expect(page.locator("#stage-highlight-upvotes")).to_have_text("0")
        expect(page.locator("#chart")).to_be_hidden()  # the highlight takes the poll's place
    expect(item(participant, first["id"]).locator(".qa-item-meta")).to_contain_text("On screen", timeout=LIVE)
    hub.upvote(first["id"])
    expect(projector.locator("#stage-highlight-upvotes")).to_have_text("1", timeout=LIVE)
    expect(projector.locator("#stage-highlight-word")).to_have_text("upvote")
    shot(projector, "qa-stage-desktop-highlight")

    # Another highlight replaces it; marking it answered takes it off the stage.
    action(presenter, second["id"], "highlight").click()
    expect(projector.locator("#stage-highlight-text")).to_have_text("Any plans for a mobile app?", timeout=LIVE)
    expect(action(presenter, first["id"], "highlight")).to_have_attribute("aria-pressed", "false")
    action(presenter, second["id"], "answer").click()
    expect(projector.locator("#stage-highlight")).to_be_hidden(timeout=LIVE)
    expect(projector.locator("#chart-question")).to_have_text("Lunch?")
    assert hub.qa_settings()["highlight"] is None

    # The stage shows the questions instead of the poll, popular first, live; the projector follows.
    presenter.click('#qa-panel [data-stage="qa"]')
    expect(presenter.locator('#qa-panel [data-stage="qa"]')).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    for page in (presenter, projector):
        expect(page.locator("#stage-qa-board")).to_be_visible(timeout=LIVE)
        expect(page.locator("#chart")).to_be_hidden()
        expect(page.locator("#stage-nav")).to_be_hidden()
    assert hub.qa_settings()["stage"] == "qa"
    third = hub.ask("How big is the team?")
    for _ in range(2):
        hub.upvote(third["id"])
    wait_until(lambda: shown_ids(projector, "#stage-qa-list") == [third["id"], first["id"]])  # answered ones are not listed
    expect(projector.locator(f'#stage-qa-list [data-question="{third["id"]}"] .stage-qa-votes')).to_have_text("2")
    shot(projector, "qa-stage-desktop-list")

    # Back to the poll.
    presenter.click('#qa-panel [data-stage="poll"]')
    expect(projector.locator("#chart-question")).to_have_text("Lunch?", timeout=LIVE)
    expect(projector.locator("#stage-qa")).to_be_hidden()
    assert hub.poll(poll.id).question == "Lunch?"


def test_stage_and_panel_at_phone_width(hub: Hub, pages: Pages) -> None:
    hub.ask("A question long enough to wrap on a narrow screen, with a veryveryverylongwordwithoutanybreaks", name="Someone with a long name")
    hub.qa_settings(stage="qa")
    presenter = pages.presenter(viewport=PHONE)
    expect(presenter.locator("#stage-qa-board")).to_be_visible()
    expect(presenter.locator("#qa-panel .qa-admin-item")).to_have_count(1)
    no_horizontal_scroll(presenter, PHONE["width"])
    shot(presenter, "qa-presenter-phone")


# Tabs ------------------------------------------------------------------------------------------------


def test_tabs_open_on_polls_while_a_poll_is_current_and_count_new_questions(hub: Hub, pages: Pages) -> None:
    hub.ask("Asked before the page opened")
    hub.create_poll("Coffee?", ["Yes", "No"])
    page = pages.participant(viewport=PHONE)
    expect(page.locator("#tab-polls")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#question")).to_have_text("Coffee?")
    expect(page.locator("#qa")).to_be_hidden()
    expect(page.locator("#tab-qa-badge")).to_be_hidden()  # what was there at the start is not new

    hub.ask("First new one")
    hub.ask("Second new one")
    expect(page.locator("#tab-qa-badge")).to_have_text("2", timeout=LIVE)
    expect(page.locator("#tab-qa")).to_have_accessible_name("Q&A, 2 new questions")
    shot(page, "qa-participant-phone-badge")

    # The keyboard moves between the tabs (arrow keys), as tabs do.
    page.locator("#tab-polls").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-qa")).to_be_focused()
    expect(page.locator("#tab-qa")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa")).to_be_visible()
    expect(page.locator("#poll")).to_be_hidden()
    expect(page.locator("#tab-qa-badge")).to_be_hidden()
    expect(page.locator("#qa-list .qa-item")).to_have_count(3)

    # A poll that starts while a question is being written: the Polls tab says so, the page stays.
    page.fill("#qa-text", "Half a quest")
    tea = hub.create_poll("Tea?", ["Yes", "No"])
    hub.set_current(tea.id)
    expect(page.locator("#tab-polls-badge")).to_be_visible(timeout=LIVE)
    expect(page.locator("#tab-polls")).to_have_accessible_name("Polls, new poll")
    expect(page.locator("#tab-qa")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa-text")).to_have_value("Half a quest")
    page.locator("#tab-qa").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-polls")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#question")).to_have_text("Tea?")
    expect(page.locator("#tab-polls-badge")).to_be_hidden()
    no_horizontal_scroll(page, PHONE["width"])

    # Otherwise a poll that starts takes the page to Polls.
    page.click("#tab-qa")
    page.fill("#qa-text", "")
    page.locator("#tab-qa").focus()
    milk = hub.create_poll("Milk?", ["Yes", "No"])
    hub.set_current(milk.id)
    expect(page.locator("#tab-polls")).to_have_attribute("aria-selected", "true", timeout=LIVE)
    expect(page.locator("#question")).to_have_text("Milk?")
    expect(page.locator("#poll")).to_be_visible()
    expect(page.locator("#tab-polls-badge")).to_be_hidden()


def test_pages_at_desktop_width_and_in_dark_mode(hub: Hub, pages: Pages) -> None:
    hub.ask("What is the roadmap for next year?", name="Ann")
    waiting = hub.ask("Hidden until approved?")
    hub.qa_settings(moderation=True)
    pending = hub.ask("Asked with moderation on")
    assert pending["state"] == "waiting" and waiting["state"] == "published"
    participant = pages.participant(viewport=DESKTOP)
    presenter = pages.presenter(viewport=DESKTOP)
    expect(participant.locator("#qa-list .qa-item")).to_have_count(2)
    expect(presenter.locator("#qa-waiting-list .qa-admin-item")).to_have_count(1)
    no_horizontal_scroll(participant, DESKTOP["width"])
    no_horizontal_scroll(presenter, DESKTOP["width"])
    shot(participant, "qa-participant-desktop")
    shot(presenter, "qa-presenter-desktop")
    dark = pages.participant(viewport=PHONE, color_scheme="dark")
    expect(dark.locator("#qa-list .qa-item")).to_have_count(2)
    no_horizontal_scroll(dark, PHONE["width"])
    shot(dark, "qa-participant-phone-dark")
