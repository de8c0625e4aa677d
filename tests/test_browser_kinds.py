"""Browser tests for poll kinds (issue 6, the open and ranking kinds) and presenter control, in Chromium driven by Playwright.

The same fixtures and helpers as ``test_browser.py`` (and the same skip rules):
a real Hub and PollServer on loopback, fresh browser contexts per page.
Screenshots of the new views go to the same folder.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from pollhub import Hub
from pollhub.export import iso_time

from . import test_browser as shared
from .conftest import wait_until
from .test_browser import (
    DESKTOP,
    PHONE,
    WAIT,
    Pages,
    count,
    no_horizontal_scroll,
    option,
    poll_item,
    shot,
)

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the browser fixture skips
    pass

# The fixtures of test_browser.py: a Chromium per module, pages opened in fresh contexts.
browser = shared.browser
pages = shared.pages


def scale_button(page: Page, value: int):
    return page.locator(f'#scale-buttons .scale-button[data-value="{value}"]')


def scale_column(page: Page, root: str, value: int):
    return page.locator(f'{root} .scale-col[data-value="{value}"]')


def cloud_word(page: Page, root: str, text: str):
    return page.locator(f'{root} .cloud-word[data-text="{text}"]')


def poll_order(hub: Hub) -> list[str]:
    return [poll.id for poll in hub.polls()]


def list_order(page: Page) -> list[str]:
    """The poll ids in the presenter's list, top to bottom."""
    return page.eval_on_selector_all("#poll-list > li", "items => items.map(item => item.dataset.poll)")


# Multiple choice -----------------------------------------------------------------------


def test_multiple_choice_vote(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Which fruits do you like?", ["Apple", "Banana", "Cherry", "Date"], kind="multiple", max_choices=2)
    hub.vote(poll.id, ["apple", "cherry"], voter="other")
    page = pages.participant(viewport=PHONE)
    expect(page.locator("#poll-kind")).to_have_text("Choose up to 2")
    expect(page.locator("#hint")).to_have_text("Pick up to 2, then submit.")
    expect(page.locator("#submit")).to_be_disabled()

    option(page, "apple").click()
    option(page, "banana").click()
    expect(page.locator("#picked")).to_have_text("2 of 2 picked")
    option(page, "cherry").click()  # a third is one too many: said in words, not sent
    expect(page.locator("#vote-error")).to_have_text("You can pick up to 2. Untick one to pick another.")
    expect(option(page, "cherry")).to_have_attribute("aria-pressed", "false")
    assert hub.poll(poll.id).voters == 1

    page.click("#submit")
    expect(page.locator("#your-vote")).to_have_text("Your vote: Apple, Banana")
    expect(page.locator("#vote-error")).to_be_hidden()
    expect(option(page, "apple")).to_have_attribute("aria-pressed", "true")
    expect(option(page, "banana")).to_have_attribute("aria-pressed", "true")
    expect(count(page, "apple")).to_have_text("2 votes")
    expect(option(page, "apple").locator(".option-pct")).to_have_text("100%")  # a share of the voters
    expect(page.locator("#total")).to_have_text("2 voters")
    expect(page.locator("#submit")).to_have_text("Update my vote")
    expect(page.locator("#submit")).to_be_disabled()  # nothing changed yet
    assert hub.results(poll.id) == {"apple": 2, "banana": 1, "cherry": 1, "date": 0}
    shot(page, "participant-phone-multiple")
    no_horizontal_scroll(page, PHONE["width"])

    # The selection replaces the earlier one.
    option(page, "banana").click()
    option(page, "date").click()
    page.click("#submit")
    expect(page.locator("#your-vote")).to_have_text("Your vote: Apple, Date")
    expect(count(page, "banana")).to_have_text("0 votes")
    assert hub.results(poll.id) == {"apple": 2, "banana": 0, "cherry": 1, "date": 1}

    presenter = pages.presenter()
    expect(presenter.locator('#bars [data-option="apple"] .bar-pct')).to_have_text("100%")
    expect(presenter.locator("#chart-total")).to_have_text("2")
    expect(presenter.locator("#chart-total-word")).to_have_text("voters")
    expect(poll_item(presenter, poll.id).locator(".badge-kind")).to_have_text("Multiple choice")

    page.reload()  # the hello brings the selection back
    expect(page.locator("#your-vote")).to_have_text("Your vote: Apple, Date")
    expect(option(page, "date")).to_have_attribute("aria-pressed", "true")


# Scale ------------------------------------------------------------------------------------


def test_scale_vote(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("How was the talk?", kind="scale", scale=(1, 5))
    for i, value in enumerate([5, 5, 3]):
        hub.vote(poll.id, value, voter=f"v{i}")
    page = pages.participant(viewport=PHONE)
    expect(page.locator("#scale-buttons .scale-button")).to_have_count(5)
    expect(page.locator("#scale-chart .scale-mean")).to_have_text("Average 4.3")

    scale_button(page, 4).click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: 4")
    expect(scale_button(page, 4)).to_have_attribute("aria-pressed", "true")
    expect(scale_column(page, "#scale-chart", 4).locator(".scale-count")).to_have_text("1")
    expect(page.locator("#scale-chart .scale-mean")).to_have_text("Average 4.3")  # (5 + 5 + 3 + 4) / 4 = 4.25
    expect(page.locator("#total")).to_have_text("4 voters")

    scale_button(page, 1).click()  # a new value moves the vote
    expect(page.locator("#your-vote")).to_have_text("Your vote: 1")
    expect(scale_button(page, 4)).to_have_attribute("aria-pressed", "false")
    expect(scale_column(page, "#scale-chart", 4).locator(".scale-count")).to_have_text("0")
    expect(page.locator("#scale-chart .scale-mean")).to_have_text("Average 3.5")
    assert hub.poll(poll.id).counts == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 2}
    shot(page, "participant-phone-scale")
    no_horizontal_scroll(page, PHONE["width"])

    dark = pages.participant(viewport=PHONE, color_scheme="dark")
    expect(dark.locator("#scale-chart .scale-mean")).to_have_text("Average 3.5")
    shot(dark, "participant-phone-scale-dark")

    presenter = pages.presenter()
    expect(presenter.locator("#stage-scale .scale-mean")).to_have_text("Average 3.5")
    expect(scale_column(presenter, "#stage-scale", 5).locator(".scale-count")).to_have_text("2")
    expect(presenter.locator("#chart-total")).to_have_text("4")
    shot(presenter, "presenter-desktop-scale")
    presenter.click("#fullscreen")
    shot(presenter, "presenter-desktop-projector-scale")
    presenter.click("#fullscreen")

    # Twenty-one values still fit a phone.
    wide = hub.create_poll("From -10 to 10?", kind="scale", scale=(-10, 10))
    hub.set_current(wide.id)
    expect(page.locator("#scale-buttons .scale-button")).to_have_count(21)
    scale_button(page, -3).click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: -3")
    no_horizontal_scroll(page, PHONE["width"])
    shot(page, "participant-phone-scale-wide")


# Words --------------------------------------------------------------------------------------


def test_word_cloud_answers_appear_and_can_be_hidden(hub: Hub, pages: Pages) -> None:
    presenter = pages.presenter()
    ann = pages.participant(viewport=PHONE)
    # The presenter's form: a word cloud with two answers each.
    presenter.fill("#new-question", "One word for today?")
    presenter.check('input[name="kind"][value="words"]')
    expect(presenter.locator("#new-options")).to_be_hidden()
    expect(presenter.locator("#new-max-answers")).to_be_visible()
    presenter.fill("#new-max-answers", "2")
    shot(presenter, "presenter-desktop-form-words")
    presenter.click("#create")
    expect(ann.locator("#question")).to_have_text("One word for today?")
    poll = hub.poll()
    assert (poll.kind, poll.settings.max_answers) == ("words", 2)
    expect(ann.locator("#poll-kind")).to_have_text("Your words")
    expect(presenter.locator("#stage-cloud .cloud-empty")).to_have_text("No answers yet.")

    ann.click("#words-send")  # nothing typed
    expect(ann.locator("#vote-error")).to_have_text("Write an answer first.")
    ann.fill("#words-input", "  Blue   sky ")
    ann.press("#words-input", "Enter")
    expect(ann.locator("#answers .answer-text")).to_have_text(["Blue sky"])
    expect(ann.locator("#words-input")).to_have_value("")
    expect(ann.locator("#vote-error")).to_be_hidden()
    expect(cloud_word(presenter, "#stage-cloud", "Blue sky")).to_have_attribute("data-count", "1")

    bob = pages.participant()
    bob.fill("#words-input", "blue SKY")
    bob.click("#words-send")
    expect(bob.locator("#answers .answer-text")).to_have_text(["blue SKY"])
    bob.fill("#words-input", "Coffee")
    bob.click("#words-send")
    expect(bob.locator("#answers .answer-text")).to_have_text(["blue SKY", "Coffee"])
    expect(bob.locator("#words-input")).to_be_disabled()  # two answers each
    expect(bob.locator("#hint")).to_have_text("That is all 2. Remove one to send another.")

    # Answers are counted ignoring case, shown with the first spelling.
    expect(cloud_word(presenter, "#stage-cloud", "Blue sky")).to_have_attribute("data-count", "2")
    expect(cloud_word(presenter, "#stage-cloud", "Coffee")).to_have_attribute("data-count", "1")
    expect(cloud_word(ann, "#cloud", "Blue sky")).to_have_attribute("data-count", "2")
    expect(presenter.locator("#chart-total")).to_have_text("2")
    expect(presenter.locator("#chart-extra")).to_have_text(" · 3 answers")
    # Biggest first, and bigger.
    big = cloud_word(presenter, "#stage-cloud", "Blue sky").locator("text")
    small = cloud_word(presenter, "#stage-cloud", "Coffee").locator("text")
    assert int(big.get_attribute("font-size")) > int(small.get_attribute("font-size"))
    shot(ann, "participant-phone-words")
    no_horizontal_scroll(ann, PHONE["width"])
    shot(presenter, "presenter-desktop-words")
    dark = pages.presenter(viewport=PHONE, color_scheme="dark")
    expect(cloud_word(dark, "#stage-cloud", "Coffee")).to_have_count(1)
    shot(dark, "presenter-phone-words-dark")
    no_horizontal_scroll(dark, PHONE["width"])
    presenter.click("#fullscreen")
    expect(presenter.locator(".sidebar")).to_be_hidden()
    shot(presenter, "presenter-desktop-projector-words")
    presenter.click("#fullscreen")

    # Bob swaps an answer: removing one sends the rest.
    bob.get_by_role("button", name="Remove “Coffee”").click()
    expect(bob.locator("#answers .answer-text")).to_have_text(["blue SKY"])
    expect(cloud_word(presenter, "#stage-cloud", "Coffee")).to_have_count(0)
    bob.fill("#words-input", "Tea")
    bob.click("#words-send")
    expect(cloud_word(presenter, "#stage-cloud", "Tea")).to_have_attribute("data-count", "1")

    # The presenter hides an answer: asked first, then it is gone everywhere.
    cloud_word(presenter, "#stage-cloud", "Tea").click()
    expect(presenter.locator("#confirm-title")).to_have_text("Hide this answer?")
    presenter.click("#confirm-cancel")
    expect(cloud_word(presenter, "#stage-cloud", "Tea")).to_have_count(1)
    cloud_word(presenter, "#stage-cloud", "Blue sky").click()
    expect(presenter.locator("#confirm-ok")).to_have_text("Hide answer")
    presenter.click("#confirm-ok")
    expect(cloud_word(presenter, "#stage-cloud", "Blue sky")).to_have_count(0)
    expect(cloud_word(ann, "#cloud", "Blue sky")).to_have_count(0)
    expect(cloud_word(ann, "#cloud", "Tea")).to_have_attribute("data-count", "1")
    assert hub.poll(poll.id).counts == {"Tea": 1}
    # Hidden for good: a new voter giving it again does not bring it back.
    hub.vote(poll.id, "blue sky", voter="carol")
    hub.vote(poll.id, "tea", voter="dave")
    expect(cloud_word(presenter, "#stage-cloud", "Tea")).to_have_attribute("data-count", "2")
    expect(cloud_word(presenter, "#stage-cloud", "Blue sky")).to_have_count(0)

    # The download has the answers; one a spreadsheet would run as a formula is quoted.
    hub.vote(poll.id, "=1+2", voter="eve")
    expect(cloud_word(presenter, "#stage-cloud", "=1+2")).to_have_count(1)
    _, body = shared.downloaded(presenter, "#download-csv")
    assert body == shared.server_export(pages, "csv")  # the server's file
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[1:] == [
        [poll.id, "One word for today?", "words", "true", "Tea", "Tea", "2", "5"],
        [poll.id, "One word for today?", "words", "true", "'=1+2", "'=1+2", "1", "5"],
    ]


# Open answers ----------------------------------------------------------------------------


def wall_texts(page: Page, root: str) -> list[str]:
    """The answers on a wall of cards, top to bottom."""
    return page.eval_on_selector_all(f"{root} .wall-card .wall-text", "cards => cards.map(card => card.textContent)")


def wall_card(page: Page, root: str, text: str):
    return page.locator(f"{root} .wall-card").filter(has=page.locator(".wall-text", has_text=re.compile("^" + re.escape(text) + "$")))


def test_open_answers_appear_as_cards_newest_first_and_can_be_hidden(hub: Hub, pages: Pages) -> None:
    presenter = pages.presenter()
    ann = pages.participant(viewport=PHONE)
    # The presenter's form: open answers, one each by default, two here.
    presenter.fill("#new-question", "What should we change next time?")
    presenter.check('input[name="kind"][value="open"]')
    expect(presenter.locator("#new-options")).to_be_hidden()
    expect(presenter.locator("#new-max-answers")).to_have_value("1")
    presenter.check('input[name="kind"][value="words"]')
    expect(presenter.locator("#new-max-answers")).to_have_value("3")  # each kind its own default
    presenter.check('input[name="kind"][value="open"]')
    presenter.fill("#new-max-answers", "2")
    shot(presenter, "presenter-desktop-form-open")
    presenter.click("#create")
    expect(ann.locator("#question")).to_have_text("What should we change next time?")
    poll = hub.poll()
    assert (poll.kind, poll.settings.max_answers) == ("open", 2)
    expect(poll_item(presenter, poll.id).locator(".badge-kind")).to_have_text("Open answers")
    expect(ann.locator("#poll-kind")).to_have_text("Your answer")
    expect(ann.locator("#words-input")).to_be_hidden()
    expect(ann.locator("#open-input")).to_be_visible()
    expect(ann.locator("#open-count")).to_have_text("0 / 280")
    expect(presenter.locator("#stage-wall .wall-empty")).to_have_text("No answers yet.")

    # Typing counts characters as the server will (runs of white space are one); Enter sends.
    ann.fill("#open-input", "  Longer   coffee\nbreaks, please ")
    expect(ann.locator("#open-count")).to_have_text("28 / 280")
    ann.press("#open-input", "Enter")
    expect(ann.locator("#answers .answer-text")).to_have_text(["Longer coffee breaks, please"])
    expect(ann.locator("#open-input")).to_have_value("")
    expect(ann.locator("#open-count")).to_have_text("0 / 280")
    expect(wall_card(presenter, "#stage-wall", "Longer coffee breaks, please")).to_have_count(1)
    expect(wall_card(ann, "#wall", "Longer coffee breaks, please")).to_have_count(1)
    first = hub.poll(poll.id).answers[0]
    card = wall_card(presenter, "#stage-wall", first.text)
    expect(card.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    shown_at = card.locator("time").get_attribute("datetime")
    assert shown_at is not None and abs(datetime.fromisoformat(shown_at.replace("Z", "+00:00")).timestamp() - first.at) < 0.001

    # Over 280 characters: said by the count and in words, and nothing is sent.
    ann.fill("#open-input", "x" * 281)
    expect(ann.locator("#open-count")).to_have_text("281 / 280")
    expect(ann.locator("#open-count")).to_have_class(re.compile("is-over"))
    ann.click("#words-send")
    expect(ann.locator("#vote-error")).to_have_text("Keep it to 280 characters or fewer.")
    assert hub.poll(poll.id).total == 1
    ann.fill("#open-input", "A quiet room for calls")
    ann.click("#words-send")
    expect(ann.locator("#answers .answer-text")).to_have_text(["Longer coffee breaks, please", "A quiet room for calls"])
    expect(ann.locator("#open-input")).to_be_disabled()  # two answers each
    expect(ann.locator("#hint")).to_have_text("That is all 2. Remove one to send another.")

    # Others' answers: the newest first on every wall.
    bob = pages.participant()
    bob.fill("#open-input", "Name tags with bigger letters")
    bob.click("#words-send")
    expect(bob.locator("#answers .answer-text")).to_have_text(["Name tags with bigger letters"])
    hub.vote(poll.id, "=HYPERLINK(1)", voter="eve")
    newest = ["=HYPERLINK(1)", "Name tags with bigger letters", "A quiet room for calls", "Longer coffee breaks, please"]
    wait_until(lambda: wall_texts(presenter, "#stage-wall") == newest)
    wait_until(lambda: wall_texts(ann, "#wall") == newest)
    expect(presenter.locator("#chart-total")).to_have_text("3")
    expect(presenter.locator("#chart-extra")).to_have_text(" · 4 answers")
    expect(poll_item(presenter, poll.id).locator(".poll-item-total")).to_have_text("3 voters · 4 answers")
    shot(ann, "participant-phone-open")
    no_horizontal_scroll(ann, PHONE["width"])
    shot(presenter, "presenter-desktop-open")
    wide = pages.participant(viewport=DESKTOP)
    wait_until(lambda: wall_texts(wide, "#wall") == newest)
    shot(wide, "participant-desktop-open")
    dark = pages.presenter(viewport=PHONE, color_scheme="dark")
    wait_until(lambda: wall_texts(dark, "#stage-wall") == newest)
    shot(dark, "presenter-phone-open-dark")
    no_horizontal_scroll(dark, PHONE["width"])
    presenter.click("#fullscreen")
    expect(presenter.locator(".sidebar")).to_be_hidden()
    shot(presenter, "presenter-desktop-projector-open")
    presenter.click("#fullscreen")

    # Ann swaps an answer: the one she keeps keeps its time, the new one is the newest.
    ann.get_by_role("button", name="Remove “A quiet room for calls”").click()
    expect(ann.locator("#answers .answer-text")).to_have_text(["Longer coffee breaks, please"])
    ann.fill("#open-input", "Slides shared before the talk")
    ann.click("#words-send")
    newest = ["Slides shared before the talk", "=HYPERLINK(1)", "Name tags with bigger letters", "Longer coffee breaks, please"]
    wait_until(lambda: wall_texts(presenter, "#stage-wall") == newest)
    assert [a.at for a in hub.poll(poll.id).answers][-1] == first.at

    # The presenter hides an answer: asked first, then it is gone from every wall, for good.
    wall_card(presenter, "#stage-wall", "=HYPERLINK(1)").get_by_role("button", name="Hide “=HYPERLINK(1)”").click()
    expect(presenter.locator("#confirm-title")).to_have_text("Hide this answer?")
    presenter.click("#confirm-cancel")
    expect(wall_card(presenter, "#stage-wall", "=HYPERLINK(1)")).to_have_count(1)
    wall_card(presenter, "#stage-wall", "Name tags with bigger letters").get_by_role("button", name=re.compile("^Hide")).click()
    expect(presenter.locator("#confirm-ok")).to_have_text("Hide answer")
    presenter.click("#confirm-ok")
    expect(wall_card(presenter, "#stage-wall", "Name tags with bigger letters")).to_have_count(0)
    expect(wall_card(ann, "#wall", "Name tags with bigger letters")).to_have_count(0)
    hub.vote(poll.id, "name tags with BIGGER letters", voter="carol")  # the same answer again stays hidden
    hub.vote(poll.id, "Fewer slides", voter="dave")
    expect(wall_card(presenter, "#stage-wall", "Fewer slides")).to_have_count(1)
    expect(wall_card(presenter, "#stage-wall", "name tags with BIGGER letters")).to_have_count(0)

    # The download has every answer with its time, newest first; a formula is quoted.
    _, body = shared.downloaded(presenter, "#download-csv")
    assert body == shared.server_export(pages, "csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    head = [poll.id, "What should we change next time?", "open", "true"]
    answers = hub.poll(poll.id).answers
    assert [row[:4] for row in rows[1:]] == [head] * 4
    assert [row[5] for row in rows[1:]] == ["Fewer slides", "Slides shared before the talk", "'=HYPERLINK(1)", "Longer coffee breaks, please"]
    assert [row[4] for row in rows[1:]] == [iso_time(a.at) for a in answers]
    assert {(row[6], row[7]) for row in rows[1:]} == {("1", "5")}


# Ranking -----------------------------------------------------------------------------------


def ranking_option(page: Page, option_id: str):
    return page.locator(f'#ranking .ranking-option[data-option="{option_id}"]')


def bar_order(page: Page, root: str) -> list[str]:
    """The option ids of a ranking's bars, top to bottom."""
    return page.eval_on_selector_all(f"{root} .ranking-bar", "rows => rows.map(row => row.dataset.option)")


def ranking_bar(page: Page, root: str, option_id: str):
    return page.locator(f'{root} .ranking-bar[data-option="{option_id}"]')


def test_a_ranking_by_taps_and_by_keyboard_shows_bars_by_score(hub: Hub, pages: Pages) -> None:
    presenter = pages.presenter()
    # The presenter's form: the options and how many each voter ranks (2 to all of them).
    presenter.fill("#new-question", "Which drinks should the break have?")
    presenter.check('input[name="kind"][value="ranking"]')
    expect(presenter.locator("#new-options")).to_be_visible()
    expect(presenter.locator("#new-max-ranked")).to_be_visible()
    presenter.fill("#new-options", "Tea\nCoffee\nWater\nJuice")
    presenter.fill("#new-max-ranked", "5")
    presenter.click("#create")
    expect(presenter.locator("#form-error")).to_have_text("Voters can rank 2 to 4 options: there are 4.")
    presenter.fill("#new-max-ranked", "3")
    shot(presenter, "presenter-desktop-form-ranking")
    presenter.click("#create")
    expect(presenter.locator("#chart-question")).to_have_text("Which drinks should the break have?")
    poll = hub.poll()
    assert (poll.kind, poll.settings.max_ranked, [o.id for o in poll.options]) == ("ranking", 3, ["tea", "coffee", "water", "juice"])
    expect(poll_item(presenter, poll.id).locator(".badge-kind")).to_have_text("Ranking")
    expect(presenter.locator("#stage-ranking .ranking-empty")).to_have_text("No rankings yet.")
    hub.vote(poll.id, ["coffee", "tea"], voter="other")  # coffee 3, tea 2

    # Ann, on a phone: taps in order, with Undo, and a fourth tap is one too many.
    ann = pages.participant(viewport=PHONE)
    expect(ann.locator("#poll-kind")).to_have_text("Rank your top 3")
    expect(ann.locator("#hint")).to_have_text("Tap your top 3 in order, your favourite first, then submit.")
    expect(ann.locator("#ranking .ranking-submit")).to_be_disabled()
    ranking_option(ann, "water").click()
    ranking_option(ann, "juice").click()
    expect(ranking_option(ann, "juice").locator(".ranking-place")).to_have_text("2")
    ann.click("#ranking .ranking-undo")
    expect(ranking_option(ann, "juice")).to_have_attribute("aria-pressed", "false")
    expect(ranking_option(ann, "juice")).to_have_accessible_name("Juice, not ranked")
    ranking_option(ann, "tea").click()
    ranking_option(ann, "coffee").click()
    expect(ann.locator("#announcer")).to_have_text("Coffee, 3rd.")  # each tap is said to a screen reader
    expect(ann.locator("#ranking .ranking-count")).to_have_text("3 of 3 ranked")
    places = [ranking_option(ann, o).locator(".ranking-place").text_content() for o in ("tea", "coffee", "water", "juice")]
    assert places == ["2", "3", "1", ""]
    expect(ranking_option(ann, "tea")).to_have_accessible_name("Tea, ranked 2nd")
    ranking_option(ann, "juice").click()
    expect(ann.locator("#vote-error")).to_have_text("You can rank up to 3. Tap a ranked option to take it out, or Undo.")
    assert hub.poll(poll.id).voters == 1
    shot(ann, "participant-phone-ranking-picking")
    ann.click("#ranking .ranking-submit")
    expect(ann.locator("#your-vote")).to_have_text("Your vote: 1. Water, 2. Tea, 3. Coffee")
    assert hub.poll(poll.id).counts == {"tea": 4, "coffee": 4, "water": 3, "juice": 0}
    expect(ann.locator("#ranking .ranking-submit")).to_have_text("Update my ranking")
    expect(ann.locator("#ranking .ranking-submit")).to_be_disabled()  # nothing changed yet

    # Bob, at a desk, with the keyboard alone: Enter and Space rank, the arrows move, Tab reaches Submit.
    bob = pages.participant(viewport=DESKTOP)
    ranking_option(bob, "tea").focus()
    bob.keyboard.press("Enter")
    bob.keyboard.press("ArrowDown")
    expect(ranking_option(bob, "coffee")).to_be_focused()
    bob.keyboard.press("Space")
    bob.keyboard.press("End")
    expect(ranking_option(bob, "juice")).to_be_focused()
    for _ in range(3):
        bob.keyboard.press("Tab")  # Undo, Clear, Submit
    expect(bob.locator("#ranking .ranking-submit")).to_be_focused()
    bob.keyboard.press("Enter")
    expect(bob.locator("#your-vote")).to_have_text("Your vote: 1. Tea, 2. Coffee")

    # Bars by score on every screen: tea 7, coffee 6, water 3, juice 0; each with its average place.
    by_score = ["tea", "coffee", "water", "juice"]
    for page, root in ((presenter, "#stage-ranking"), (ann, "#ranking"), (bob, "#ranking")):
        wait_until(lambda: bar_order(page, root) == by_score)
    tea = ranking_bar(presenter, "#stage-ranking", "tea")
    expect(tea.locator(".bar-pct")).to_have_text("7 points")
    expect(tea.locator(".bar-count")).to_have_text("average place 1.7")  # (2 + 2 + 1) / 3
    expect(tea).to_have_class(re.compile("is-leading"))
    expect(ranking_bar(presenter, "#stage-ranking", "juice").locator(".bar-count")).to_have_text("not ranked yet")
    expect(ranking_bar(ann, "#ranking", "juice").locator(".ranking-place-number")).to_have_text("–")
    expect(presenter.locator("#chart-total")).to_have_text("3")
    expect(poll_item(presenter, poll.id).locator(".poll-item-total")).to_have_text("3 voters · leading: Tea")
    shot(ann, "participant-phone-ranking")
    no_horizontal_scroll(ann, PHONE["width"])
    shot(bob, "participant-desktop-ranking")
    shot(presenter, "presenter-desktop-ranking")
    dark = pages.participant(viewport=PHONE, color_scheme="dark")
    wait_until(lambda: bar_order(dark, "#ranking") == by_score)
    shot(dark, "participant-phone-ranking-dark")
    presenter.click("#fullscreen")
    expect(presenter.locator(".sidebar")).to_be_hidden()
    shot(presenter, "presenter-desktop-projector-ranking")
    presenter.click("#fullscreen")

    # Ann changes her mind: Clear, then juice alone. The bars move; equal scores share a place.
    ann.click("#ranking .ranking-clear")
    expect(ann.locator("#ranking .ranking-count")).to_have_text("0 of 3 ranked")
    ranking_option(ann, "juice").click()
    ann.click("#ranking .ranking-submit")
    expect(ann.locator("#your-vote")).to_have_text("Your vote: 1. Juice")
    assert hub.poll(poll.id).counts == {"tea": 5, "coffee": 5, "water": 0, "juice": 3}
    wait_until(lambda: bar_order(presenter, "#stage-ranking") == ["tea", "coffee", "juice", "water"])
    expect(ranking_bar(presenter, "#stage-ranking", "coffee").locator(".ranking-place-number")).to_have_text("1")

    # The download: scores as the votes, then each option's place, score and average place.
    _, body = shared.downloaded(presenter, "#download-csv")
    assert body == shared.server_export(pages, "csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert [(row[4], row[6]) for row in rows[1:5]] == [("tea", "5"), ("coffee", "5"), ("water", "0"), ("juice", "3")]
    assert rows[6:] == [
        ["poll", "place", "option", "label", "score", "position"],
        [poll.id, "1", "tea", "Tea", "5", "1.5"],
        [poll.id, "1", "coffee", "Coffee", "5", "1.5"],
        [poll.id, "3", "juice", "Juice", "3", "1.0"],
        [poll.id, "4", "water", "Water", "0", ""],
    ]


# Results visibility -----------------------------------------------------------------------


def test_hidden_results_appear_when_the_presenter_reveals_them(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Secret ballot?", ["Yes", "No"], results="hidden")
    hub.vote(poll.id, "no", voter="a")
    hub.vote(poll.id, "no", voter="b")
    page = pages.participant(viewport=PHONE)
    expect(page.locator("#results-note")).to_have_text("The presenter will reveal the results")
    option(page, "yes").click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: Yes")
    # No counts anywhere on the page.
    expect(page.locator("#options .option-figures").first).to_be_hidden()
    expect(page.locator("#total")).to_be_hidden()
    assert page.evaluate("document.body.innerText").count("%") == 0
    shot(page, "participant-phone-hidden")

    presenter = pages.presenter()
    expect(presenter.locator("#audience-text")).to_have_text("Hidden from participants")
    expect(presenter.locator("#chart-body")).to_have_class(re.compile(r"\bis-veiled\b"))
    expect(poll_item(presenter, poll.id).locator(".badge-unseen")).to_have_text("Hidden")
    expect(presenter.locator('#bars [data-option="no"] .bar-count')).to_have_text("2 votes")  # the presenter has them
    shot(presenter, "presenter-desktop-hidden")
    presenter.click("#audience-peek")  # this screen only
    expect(presenter.locator("#chart-body")).not_to_have_class(re.compile(r"\bis-veiled\b"))
    expect(page.locator("#results-note")).to_be_visible()

    presenter.click("#audience-reveal")
    expect(count(page, "no")).to_have_text("2 votes", timeout=2000)
    expect(count(page, "no")).to_be_visible()
    expect(page.locator("#results-note")).to_be_hidden()
    expect(page.locator("#total")).to_have_text("3 votes in total")
    expect(presenter.locator("#audience-text")).to_have_text("Revealed: participants see the results")
    hub.vote(poll.id, "yes", voter="c")  # revealed results stay live
    expect(count(page, "yes")).to_have_text("2 votes", timeout=2000)
    shot(page, "participant-phone-revealed")

    presenter.click("#audience-hide")  # and away again
    expect(page.locator("#results-note")).to_have_text("The presenter will reveal the results", timeout=2000)
    expect(page.locator("#total")).to_be_hidden()
    expect(page.locator("#options .option-figures").first).to_be_hidden()
    assert hub.poll(poll.id).revealed is False
    hub.reset_poll(poll.id)  # no count shows it, yet the page must forget the vote
    expect(page.locator("#your-vote")).not_to_have_text("Your vote: Yes", timeout=2000)
    expect(option(page, "yes")).not_to_have_class(re.compile(r"\bis-chosen\b"))


def test_results_after_vote_and_after_close(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Guess first?", ["Red", "Blue"], results="after_vote")
    hub.vote(poll.id, "blue", voter="a")
    page = pages.participant()
    expect(page.locator("#results-note")).to_have_text("Results appear after you vote")
    expect(page.locator("#total")).to_be_hidden()
    option(page, "red").click()
    expect(count(page, "blue")).to_have_text("1 vote")
    expect(count(page, "red")).to_have_text("1 vote")
    expect(page.locator("#results-note")).to_be_hidden()
    page.reload()  # still visible: this voter voted
    expect(count(page, "blue")).to_have_text("1 vote")
    expect(page.locator("#results-note")).to_be_hidden()

    later = hub.create_poll("Wait for it?", ["Now", "Later"], results="after_close")
    hub.set_current(later.id)
    expect(page.locator("#results-note")).to_have_text("Results appear when voting closes")
    option(page, "later").click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: Later")
    expect(page.locator("#total")).to_be_hidden()
    presenter = pages.presenter()
    expect(presenter.locator("#audience-text")).to_have_text("Hidden from participants until voting closes")
    poll_item(presenter, later.id).get_by_role("button", name="Close voting").click()
    expect(count(page, "later")).to_have_text("1 vote", timeout=2000)
    expect(page.locator("#results-note")).to_be_hidden()
    expect(page.locator("#closed")).to_be_visible()

    # The presenter changes who sees the results: a poll message takes the counts away.
    item = poll_item(presenter, later.id)
    item.locator("summary").click()
    item.get_by_label("Results").select_option("hidden")
    expect(page.locator("#results-note")).to_have_text("The presenter will reveal the results", timeout=2000)
    expect(page.locator("#total")).to_be_hidden()
    assert hub.poll(later.id).settings.results == "hidden"


# Countdown -------------------------------------------------------------------------------------


def test_countdown_closes_the_poll_by_itself(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Quick: cats or dogs?", ["Cats", "Dogs"])
    page = pages.participant(viewport=PHONE)
    presenter = pages.presenter()
    item = poll_item(presenter, poll.id)
    expect(page.locator("#countdown")).to_be_hidden()

    # A one-click countdown, then stopped: the poll stays open.
    item.get_by_role("button", name="Open for 60 seconds").click()
    expect(presenter.locator("#stage-countdown-text")).to_have_text(re.compile(r"^(1:00|0:59|0:58)$"))
    expect(page.locator("#countdown-text")).to_have_text(re.compile(r"^(1:00|0:59|0:58) left$"))
    shot(page, "participant-phone-countdown")
    shot(presenter, "presenter-desktop-countdown")
    item.get_by_role("button", name="Stop countdown").click()
    expect(page.locator("#countdown")).to_be_hidden()
    expect(presenter.locator("#stage-countdown")).to_be_hidden()
    assert hub.poll(poll.id).open and hub.poll(poll.id).closes_in is None

    # A custom one of two seconds closes the poll by itself.
    item.get_by_role("button", name="Custom…").click()
    item.get_by_label("Seconds to stay open").fill("2")
    item.get_by_role("button", name="Start").click()
    expect(page.locator("#countdown-text")).to_have_text(re.compile(r"^0:0[0-2] left$|^Closing…$"))
    expect(item.locator(".timer-clock")).to_be_visible()
    option(page, "dogs").click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: Dogs")
    expect(page.locator("#closed")).to_be_visible(timeout=WAIT)  # the server closed it, within the deadline
    expect(page.locator("#countdown")).to_be_hidden()
    expect(option(page, "cats")).to_be_disabled()
    expect(presenter.locator("#chart-state")).to_have_text("Voting closed")
    expect(presenter.locator("#stage-countdown")).to_be_hidden()
    expect(item.get_by_role("button", name="Open voting")).to_be_visible()
    assert hub.poll(poll.id).open is False
    assert hub.results(poll.id) == {"cats": 0, "dogs": 1}


# Poll order, next and previous ------------------------------------------------------------------


def test_next_and_previous_with_the_keyboard_and_the_poll_order(hub: Hub, pages: Pages) -> None:
    first = hub.create_poll("First?", ["A", "B"])
    second = hub.create_poll("Second?", kind="scale")
    third = hub.create_poll("Third?", kind="words")
    participant = pages.participant()
    presenter = pages.presenter()
    expect(presenter.locator("#poll-position")).to_have_text("1 / 3")
    expect(presenter.locator("#prev-poll")).to_be_disabled()

    presenter.locator("#chart-question").click()  # focus on the page, not in a field
    presenter.keyboard.press("ArrowRight")
    expect(participant.locator("#question")).to_have_text("Second?")
    expect(presenter.locator("#poll-position")).to_have_text("2 / 3")
    presenter.keyboard.press("PageDown")
    expect(participant.locator("#question")).to_have_text("Third?")
    expect(presenter.locator("#next-poll")).to_be_disabled()
    presenter.keyboard.press("ArrowLeft")
    expect(participant.locator("#question")).to_have_text("Second?")
    presenter.keyboard.press("PageUp")
    expect(participant.locator("#question")).to_have_text("First?")
    presenter.keyboard.press(" ")
    expect(presenter.locator("#chart-question")).to_have_text("Second?")
    assert hub.current == second.id

    # Typing in a field moves nothing: the keys go to the field.
    presenter.click("#new-question")
    presenter.keyboard.type("Why not ")
    presenter.keyboard.press("ArrowRight")
    presenter.keyboard.press("PageDown")
    expect(presenter.locator("#new-question")).to_have_value("Why not ")
    presenter.locator("#chart-question").click()
    presenter.keyboard.press("ArrowRight")  # one step from where it was, so the typing sent none
    expect(presenter.locator("#chart-question")).to_have_text("Third?")
    expect(participant.locator("#question")).to_have_text("Third?")
    presenter.get_by_role("button", name="Previous").click()
    expect(participant.locator("#question")).to_have_text("Second?")

    # Moving polls in the list changes the order for everyone.
    poll_item(presenter, third.id).get_by_role("button", name="Move up").click()
    wait_until(lambda: poll_order(hub) == [first.id, third.id, second.id])
    wait_until(lambda: list_order(presenter) == [first.id, third.id, second.id])
    expect(presenter.locator("#poll-position")).to_have_text("3 / 3")
    poll_item(presenter, first.id).get_by_role("button", name="Move down").click()
    wait_until(lambda: poll_order(hub) == [third.id, first.id, second.id])
    hub.order_polls([second.id, first.id, third.id])  # and the server's order message moves them
    expect(presenter.locator("#poll-position")).to_have_text("1 / 3")
    wait_until(lambda: list_order(presenter) == [second.id, first.id, third.id])
    presenter.keyboard.press("ArrowRight")
    expect(participant.locator("#question")).to_have_text("First?")
    shot(presenter, "presenter-desktop-order")


# Locked votes ----------------------------------------------------------------------------------


def test_locked_poll_keeps_the_first_vote(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Final answer?", ["Yes", "No"], changes="locked")
    page = pages.participant(viewport=PHONE)
    # A second tab of the same browser: the same voter, which does not know of the vote yet.
    other = page.context.new_page()
    other.set_default_timeout(WAIT)
    other.goto(pages.origin + "/")
    expect(other.locator("#status")).to_have_text("Connected")
    expect(page.locator("#poll-locked")).to_have_text("One vote, no changes")
    expect(page.locator("#hint")).to_have_text("Tap an option to vote. You cannot change it after that.")

    option(page, "yes").click()
    expect(page.locator("#your-vote")).to_have_text("Your final vote: Yes")
    expect(page.locator("#hint")).to_have_text("Your vote is in and final: this question allows no changes.")
    expect(option(page, "no")).to_be_disabled()
    expect(option(page, "yes")).to_be_disabled()
    expect(option(page, "yes")).to_have_attribute("aria-pressed", "true")
    shot(page, "participant-phone-locked")

    option(other, "no").click()  # the server says no, in plain words
    expect(other.locator("#vote-error")).to_have_text("Your vote is final: this question does not allow changes.")
    assert hub.results(poll.id) == {"yes": 1, "no": 0}
    other.reload()
    expect(other.locator("#your-vote")).to_have_text("Your final vote: Yes")
    expect(option(other, "no")).to_be_disabled()

    # A locked word cloud gathers the answers on the page, then takes them in one vote.
    words = hub.create_poll("Three words?", kind="words", changes="locked")
    hub.set_current(words.id)
    expect(page.locator("#words-send")).to_have_text("Add")
    for answer in ("calm", "bright", "late"):
        page.fill("#words-input", answer)
        page.click("#words-send")
    expect(page.locator("#answers .answer-text")).to_have_text(["calm", "bright", "late"])
    expect(page.locator("#answers-title")).to_have_text("Your answers (not sent yet)")
    assert hub.poll(words.id).voters == 0
    page.get_by_role("button", name="Remove “late”").click()
    page.click("#answers-submit")
    expect(page.locator("#answers-title")).to_have_text("Your final answers")
    expect(page.locator("#words-input")).to_be_disabled()
    expect(page.locator("#answers .answer-remove")).to_have_count(0)
    assert hub.poll(words.id).counts == {"calm": 1, "bright": 1}

    # The presenter unlocks the first poll: the participant may change the vote again.
    hub.set_current(poll.id)
    presenter = pages.presenter()
    item = poll_item(presenter, poll.id)
    expect(item.locator(".badge-locked")).to_be_visible()
    item.locator("summary").click()
    item.get_by_label("Votes").select_option("allowed")
    expect(page.locator("#poll-locked")).to_be_hidden(timeout=2000)
    option(page, "no").click()
    expect(page.locator("#your-vote")).to_have_text("Your vote: No")
    assert hub.results(poll.id) == {"yes": 0, "no": 1}
    no_horizontal_scroll(presenter, DESKTOP["width"])
