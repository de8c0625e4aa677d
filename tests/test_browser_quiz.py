"""Browser tests for quizzes (issue 16): nicknames, the participant's quiz question, the presenter's quiz.

The same fixtures and helpers as ``test_browser.py`` (and the same skip rules):
a real Hub and PollServer on loopback, each page in a fresh Chromium context
(its own localStorage, so its own voter). Screenshots at 360 px and desktop
width go to the same folder, named ``quiz-*``.
"""

from __future__ import annotations

import re

from pollhub import Hub

from . import test_browser as shared
from .conftest import wait_until
from .test_browser import DESKTOP, PHONE, Pages, no_horizontal_scroll, poll_item, shot

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the browser fixture skips
    pass

# The fixtures of test_browser.py: a Chromium per module, pages opened in fresh contexts.
browser = shared.browser
pages = shared.pages

LIVE = 3000  # ms a change made elsewhere may take to show
BOT = "b0" * 16  # a voter id of a participant played by the test through the hub


def quiz_option(page: Page, option_id: str):
    return page.locator(f'#quiz-options .quiz-option[data-option="{option_id}"]')


def join(page: Page, nickname: str) -> None:
    page.fill("#quiz-nickname", nickname)
    page.click("#quiz-nickname-send")
    expect(page.locator("#quiz-join")).to_be_hidden(timeout=LIVE)


def points(text: str) -> int:
    found = re.search(r"(\d[\d,]*) points?", text)
    assert found, text
    return int(found.group(1).replace(",", ""))


def board(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector} > li", "rows => rows.map(row => row.dataset.nickname)")


# The participant -----------------------------------------------------------------------------------


def test_participant_picks_a_nickname_answers_and_sees_points_and_rank(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Capital of France?", ["Paris", "Lyon", "Nice"], kind="quiz", correct=["Paris"], time_limit=60)
    hub.set_current(poll.id)
    hub.set_nickname("Ann", BOT)

    page = pages.new("", viewport=PHONE)
    frames: list[str] = []  # every message the page receives
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    page.goto(pages.origin + "/")
    expect(page.locator("#status")).to_have_text("Connected")
    # A quiz exists and this voter has no nickname: the page asks for one first.
    expect(page.locator("#quiz-join")).to_be_visible()
    expect(page.locator("#quiz")).to_be_hidden()
    expect(page.locator("#quiz-suggestion")).to_have_text(re.compile(r"^Use “.{2,20}”$"))
    shot(page, "quiz-participant-phone-nickname")

    # A nickname someone has (in another case) is refused, with a free one offered.
    page.fill("#quiz-nickname", "  aNN ")
    page.click("#quiz-nickname-send")
    error = page.locator("#quiz-nickname-error")
    expect(error).to_contain_text("“aNN” is taken. How about “")
    suggestion = re.search(r"How about “(.+)”\?", error.inner_text())
    assert suggestion
    offered = suggestion.group(1)
    expect(page.locator("#quiz-suggestion")).to_have_text(f"Use “{offered}”")
    page.fill("#quiz-nickname", "x")  # too short: said on the page, nothing sent
    page.click("#quiz-nickname-send")
    expect(error).to_have_text("A nickname needs 2 to 20 characters.")
    page.click("#quiz-suggestion")
    expect(page.locator("#quiz-nickname")).to_have_value(offered)
    page.click("#quiz-nickname-send")
    expect(page.locator("#quiz-join")).to_be_hidden()
    expect(page.locator("#quiz-player")).to_have_text(f"Playing as {offered}")

    # Not started yet: the options show, and cannot be picked.
    card = page.locator("#quiz")
    expect(page.locator("#quiz-question")).to_have_text("Capital of France?")
    expect(card.locator("input[type=radio]")).to_have_count(3)
    expect(quiz_option(page, "paris").locator("input")).to_be_disabled()
    expect(page.locator("#quiz-status")).to_have_text("Get ready: the question starts when the presenter says go.")
    expect(page.locator("#quiz-timer")).to_be_hidden()

    hub.open_poll(poll.id)  # the timer starts
    expect(quiz_option(page, "paris").locator("input")).to_be_enabled(timeout=LIVE)
    timer = page.locator("#quiz-timer-text")
    expect(timer).to_have_text(re.compile(r"^0:[0-5]\d$|^1:00$"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=LIVE)  # it counts down
    expect(page.locator("#quiz-send")).to_be_disabled()  # nothing picked yet
    quiz_option(page, "paris").click()
    expect(page.locator("#quiz-send")).to_be_enabled()
    no_horizontal_scroll(page, PHONE["width"])
    shot(page, "quiz-participant-phone-running")
    page.click("#quiz-send")
    expect(page.locator("#quiz-status")).to_have_text("Your answer is locked in. Wait for the reveal.")
    expect(page.locator("#quiz-send-row")).to_be_hidden()
    for option_id in ("paris", "lyon", "nice"):
        expect(quiz_option(page, option_id).locator("input")).to_be_disabled()
    expect(quiz_option(page, "paris").locator("input")).to_be_checked()

    hub.vote(poll.id, "lyon", voter=BOT)  # Ann is wrong
    hub.close_poll(poll.id)
    expect(page.locator("#quiz-status")).to_have_text("Time is up. Your answer is in: wait for the reveal.", timeout=LIVE)
    expect(page.locator("#quiz-result")).to_be_hidden()
    expect(page.locator("#quiz-timer")).to_be_hidden()

    assert frames and not [f for f in frames if '"correct"' in f]  # nothing told the page the answer before the reveal
    hub.reveal_answer(poll.id)
    expect(page.locator("#quiz-verdict")).to_have_text("Right!", timeout=LIVE)
    expect(quiz_option(page, "paris")).to_have_class(re.compile(r"\bis-correct\b"))
    expect(quiz_option(page, "paris")).to_contain_text("Right answer")
    expect(page.locator("#quiz-status")).to_have_text("The right answer: Paris")
    gained = points(page.locator("#quiz-points").inner_text())
    assert 500 < gained <= 1000  # answered with time to spare
    expect(page.locator("#quiz-total")).to_have_text(f"{gained} points")
    expect(page.locator("#quiz-rank")).to_have_text("1st of 2")
    no_horizontal_scroll(page, PHONE["width"])
    shot(page, "quiz-participant-phone-revealed")

    # A reload keeps the nickname (the server holds it with the voter id), the answer and the place.
    page.reload()
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#quiz-join")).to_be_hidden()
    expect(page.locator("#quiz-player")).to_have_text(f"Playing as {offered}")
    expect(quiz_option(page, "paris").locator("input")).to_be_checked()
    expect(page.locator("#quiz-verdict")).to_have_text("Right!")
    expect(page.locator("#quiz-total")).to_have_text(f"{gained} points")
    expect(page.locator("#quiz-rank")).to_have_text("1st of 2")


def test_several_right_answers_take_tick_boxes_and_a_wrong_set_scores_nothing(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Which are primes?", ["2", "4", "7", "9"], kind="quiz", correct=["2", "7"], time_limit=60)
    hub.set_current(poll.id)
    page = pages.participant(viewport=DESKTOP)
    join(page, "Bea")
    expect(page.locator("#quiz input[type=checkbox]")).to_have_count(4)
    hub.open_poll(poll.id)
    quiz_option(page, "2").click()
    expect(page.locator("#quiz-send")).to_have_text("Lock in my answers", timeout=LIVE)
    # The keyboard works too: Space ticks a box, Enter on the button sends.
    quiz_option(page, "9").locator("input").focus()
    page.keyboard.press("Space")
    expect(quiz_option(page, "9").locator("input")).to_be_checked()
    page.locator("#quiz-send").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#quiz-status")).to_have_text("Your answer is locked in. Wait for the reveal.")
    hub.close_poll(poll.id)
    hub.reveal_answer(poll.id)
    expect(page.locator("#quiz-verdict")).to_have_text("Wrong", timeout=LIVE)
    expect(page.locator("#quiz-points")).to_have_text("+0 points")
    expect(quiz_option(page, "7")).to_have_class(re.compile(r"\bis-correct\b"))
    expect(page.locator("#quiz-status")).to_have_text("The right answers: 2, 7")
    shot(page, "quiz-participant-desktop-wrong")


def test_the_timer_closes_the_question_by_itself(hub: Hub, pages: Pages) -> None:
    poll = hub.create_poll("Quick: 2 + 2?", ["4", "5"], kind="quiz", correct=["4"], time_limit=5)
    hub.set_current(poll.id)
    page = pages.participant(viewport=PHONE)
    join(page, "Cy")
    hub.open_poll(poll.id)
    expect(page.locator("#quiz-timer-text")).to_have_text(re.compile(r"^0:0[1-5]$"), timeout=LIVE)
    expect(page.locator("#quiz-status")).to_have_text("Time is up. You did not answer this one.", timeout=10_000)
    expect(quiz_option(page, "4").locator("input")).to_be_disabled()
    hub.reveal_answer(poll.id)
    expect(page.locator("#quiz-verdict")).to_have_text("No answer", timeout=LIVE)


# The presenter ---------------------------------------------------------------------------------------


def create_question(presenter: Page, question: str, options: list[str], correct: list[str], seconds: int) -> None:
    presenter.fill("#new-question", question)
    presenter.check('input[name="kind"][value="quiz"]')
    presenter.fill("#new-options", "\n".join(options))
    for label in correct:
        presenter.locator("#quiz-correct label", has_text=label).locator("input").check()
    presenter.fill("#new-time-limit", str(seconds))
    presenter.click("#create")
    expect(presenter.locator("#new-question")).to_have_value("")


def run_question(presenter: Page, poll_id: str, answers: dict[Page, str]) -> None:
    """Shows a question, starts it, lets each page answer, stops it and reveals its answer."""
    item = poll_item(presenter, poll_id)
    item.get_by_role("button", name="Show", exact=True).click()  # another question is current: the test's earlier one
    item.get_by_role("button", name="Start question").click()
    for page, option_id in answers.items():
        quiz_option(page, option_id).click()
        page.click("#quiz-send")
        expect(page.locator("#quiz-status")).to_have_text("Your answer is locked in. Wait for the reveal.")
    expect(item).to_contain_text(f"{len(answers)} answer")
    item.get_by_role("button", name="Stop now").click()
    expect(item.locator(".quiz-reveal")).to_be_visible(timeout=LIVE)
    item.locator(".quiz-reveal").click()
    expect(item).to_contain_text("Answer revealed", timeout=LIVE)


def test_presenter_runs_a_quiz_of_three_questions(hub: Hub, pages: Pages) -> None:
    presenter = pages.presenter(viewport=DESKTOP)
    ann = pages.participant(viewport=PHONE)
    bob = pages.participant(viewport=DESKTOP)

    # The form: the kind Quiz asks for the correct answer and a time limit (20 s unless changed).
    presenter.check('input[name="kind"][value="quiz"]')
    expect(presenter.locator("#quiz-fields")).to_be_visible()
    expect(presenter.locator("#new-time-limit")).to_have_value("20")
    expect(presenter.locator("#new-changes")).to_be_disabled()
    presenter.fill("#new-question", "Largest planet?")
    presenter.fill("#new-options", "Mars\nJupiter\nVenus")
    expect(presenter.locator("#quiz-correct input")).to_have_count(3)
    presenter.click("#create")
    expect(presenter.locator("#form-error")).to_have_text("Tick the correct answer: one option or more.")
    presenter.locator("#quiz-correct label", has_text="Jupiter").locator("input").check()
    presenter.fill("#new-time-limit", "400")
    presenter.click("#create")
    expect(presenter.locator("#form-error")).to_have_text("A question runs 5 to 300 seconds.")
    presenter.fill("#new-time-limit", "60")
    shot(presenter, "quiz-presenter-desktop-form")
    presenter.click("#create")
    expect(presenter.locator("#new-question")).to_have_value("")
    create_question(presenter, "Smallest prime?", ["1", "2", "3"], ["2"], 60)
    create_question(presenter, "Water boils at (°C, sea level)?", ["90", "100", "110"], ["100"], 60)
    ids = [p.id for p in hub.polls()]
    assert len(ids) == 3
    assert [hub.poll(i).kind for i in ids] == ["quiz"] * 3
    first, second, third = ids

    # The participants pick nicknames; the presenter's row shows the answer, the participants' pages do not.
    join(ann, "Ann")
    join(bob, "Bob")
    item = poll_item(presenter, first)
    expect(item).to_contain_text("Answer: Jupiter · 60 s · Not run yet")
    expect(ann.locator("#quiz")).not_to_contain_text("Right answer")

    # Question 1: the stage shows the options while the counts stay hidden, then the correct one.
    item.get_by_role("button", name="Show", exact=True).click()  # each new question was shown as it was made
    expect(ann.locator("#quiz-question")).to_have_text("Largest planet?", timeout=LIVE)
    item.get_by_role("button", name="Start question").click()
    expect(presenter.locator("#stage-countdown")).to_be_visible(timeout=LIVE)
    expect(presenter.locator("#chart-body")).to_have_class(re.compile(r"\bis-veiled\b"))
    expect(presenter.locator('#bars [data-option="jupiter"] .bar-label')).to_be_visible()
    quiz_option(ann, "jupiter").click()
    ann.click("#quiz-send")
    quiz_option(bob, "mars").click()
    bob.click("#quiz-send")
    expect(item).to_contain_text("2 answers", timeout=LIVE)
    shot(presenter, "quiz-presenter-desktop-running")
    item.get_by_role("button", name="Stop now").click()
    presenter.locator("#audience .quiz-stage-reveal").click()  # the stage's own Reveal answer
    expect(presenter.locator('#bars [data-option="jupiter"]')).to_have_class(re.compile(r"\bis-correct\b"), timeout=LIVE)
    expect(presenter.locator('#bars [data-option="mars"]')).not_to_have_class(re.compile(r"\bis-correct\b"))
    expect(ann.locator("#quiz-verdict")).to_have_text("Right!", timeout=LIVE)
    expect(bob.locator("#quiz-verdict")).to_have_text("Wrong", timeout=LIVE)
    expect(bob.locator("#quiz-rank")).to_have_text("2nd of 2")
    shot(presenter, "quiz-presenter-desktop-revealed")

    # Questions 2 and 3: Bob catches up and passes Ann.
    run_question(presenter, second, {bob: "2", ann: "1"})
    before = {entry["nickname"]: entry["rank"] for entry in hub.leaderboard()}
    run_question(presenter, third, {bob: "100", ann: "90"})
    after = {entry["nickname"]: entry["rank"] for entry in hub.leaderboard()}
    expected_moves = {name: "up" if after[name] < before[name] else "down" if after[name] > before[name] else "same" for name in after}
    expect(bob.locator("#quiz-rank")).to_have_text("1st of 2", timeout=LIVE)
    expect(ann.locator("#quiz-rank")).to_have_text("2nd of 2", timeout=LIVE)
    expect(presenter.locator("#quiz-board")).to_contain_text("Bob")
    assert board(presenter, "#quiz-board") == ["Bob", "Ann"]

    # The leaderboard, big on the stage, with moves.
    presenter.get_by_role("button", name="Leaderboard", exact=True).click()
    expect(presenter.locator("#stage-leaderboard")).to_be_visible(timeout=LIVE)
    expect(presenter.locator("#chart")).to_be_hidden()
    assert board(presenter, "#stage-leaderboard-list") == ["Bob", "Ann"]
    for name, direction in expected_moves.items():  # places moved since the reveal before the last
        expect(presenter.locator(f'#stage-leaderboard-list [data-nickname="{name}"] .quiz-move')).to_have_attribute("data-dir", direction)
    shot(presenter, "quiz-presenter-desktop-leaderboard")

    # A nickname that should not be on a screen is renamed; the participant is told.
    presenter.locator('#quiz-board [data-nickname="Bob"] .quiz-rename-button').click()
    presenter.fill("#quiz-rename-input", "Player 2")
    presenter.locator("#quiz-rename button[type=submit]").click()
    expect(presenter.locator('#stage-leaderboard-list [data-nickname="Player 2"]')).to_be_visible(timeout=LIVE)
    expect(bob.locator("#quiz-player")).to_have_text("Playing as Player 2", timeout=LIVE)

    # The podium at the end.
    presenter.get_by_role("button", name="Podium", exact=True).click()
    expect(presenter.locator("#stage-podium")).to_be_visible(timeout=LIVE)
    expect(presenter.locator('#stage-podium-list [data-place="1"]')).to_contain_text("Player 2")
    expect(presenter.locator('#stage-podium-list [data-place="2"]')).to_contain_text("Ann")
    shot(presenter, "quiz-presenter-desktop-podium")
    presenter.get_by_role("button", name="Question", exact=True).click()
    expect(presenter.locator("#stage-quiz")).to_be_hidden(timeout=LIVE)
    expect(presenter.locator("#chart")).to_be_visible()

    # Reset the whole quiz, after a confirmation: no points, questions ready to run again, nicknames kept.
    presenter.click("#quiz-reset")
    expect(presenter.locator("#confirm")).to_be_visible()
    presenter.click("#confirm-ok")
    expect(presenter.locator("#quiz-board-empty")).to_be_visible(timeout=LIVE)
    assert all(text == "0" for text in presenter.locator("#quiz-board .quiz-score").all_inner_texts())
    expect(poll_item(presenter, first)).to_contain_text("Not run yet")
    assert wait_until(lambda: all(entry["score"] == 0 for entry in hub.leaderboard()))
    expect(bob.locator("#quiz-status")).to_have_text("Get ready: the question starts when the presenter says go.", timeout=LIVE)
    expect(bob.locator("#quiz-result")).to_be_hidden()
    expect(quiz_option(bob, "100").locator("input")).not_to_be_checked()  # the answer is gone
    expect(ann.locator("#quiz-player")).to_have_text("Playing as Ann")
    expect(ann.locator("#quiz-join")).to_be_hidden()


def test_a_quiz_asks_for_a_nickname_even_while_another_poll_is_current(hub: Hub, pages: Pages) -> None:
    hub.create_poll("Coffee or tea?", ["Coffee", "Tea"])  # current: the first poll made
    hub.create_poll("Later: 3 x 3?", ["6", "9"], kind="quiz", correct=["9"])
    page = pages.participant(viewport=PHONE)
    expect(page.locator("#quiz-join")).to_be_visible()
    expect(page.locator("#poll")).to_be_visible()  # the poll can still be answered
    expect(page.locator("#question")).to_have_text("Coffee or tea?")
    join(page, "Dee")
    expect(page.locator("#quiz")).to_be_hidden()  # the quiz question is not current
    page.reload()
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#poll")).to_be_visible()
    expect(page.locator("#quiz-join")).to_be_hidden()  # the server keeps the nickname with the voter id


def test_quiz_pages_fit_a_phone(hub: Hub, pages: Pages) -> None:
    """The presenter's quiz panel and stage at 360 px, and a long question with long options on a phone."""
    long_options = ["An option that is rather long to read on a small screen " + str(n) for n in range(4)]
    poll = hub.create_poll("A question " * 20, long_options, kind="quiz", correct=[long_options[1]], time_limit=30)
    hub.set_current(poll.id)
    hub.set_nickname("Zoe", BOT)
    hub.open_poll(poll.id)
    hub.vote(poll.id, poll.options[1].id, voter=BOT)
    hub.close_poll(poll.id)
    hub.reveal_answer(poll.id)
    page = pages.participant(viewport=PHONE)
    join(page, "A rather long nick 2")
    no_horizontal_scroll(page, PHONE["width"])
    shot(page, "quiz-participant-phone-long")
    dark = pages.participant(viewport=PHONE, color_scheme="dark")
    join(dark, "Night Owl")
    expect(dark.locator("#quiz-verdict")).to_have_text("No answer")
    shot(dark, "quiz-participant-phone-dark")
    presenter = pages.presenter(viewport=PHONE)
    expect(presenter.locator("#quiz-board")).to_contain_text("Zoe")
    no_horizontal_scroll(presenter, PHONE["width"])
    shot(presenter, "quiz-presenter-phone")
