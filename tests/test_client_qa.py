"""PollClient and the audience Q&A: asking, upvoting, the presenter's commands, and the questions it keeps live."""

from __future__ import annotations

from typing import Callable

import pytest

from pollhub import Hub, PollClient
from pollhub.errors import (
    BadMessage,
    BadQuestion,
    DuplicateQuestion,
    Forbidden,
    OwnQuestion,
    QAClosed,
    QuestionAnswered,
    TooManyQuestions,
    UnknownQuestion,
)
from pollhub.qa import MAX_NAME_LENGTH, MAX_QUESTION_TEXT, QUESTIONS_PER_WINDOW

Connect = Callable[..., PollClient]


def ids(client: PollClient) -> list:
    return [q["id"] for q in client.questions()]


def test_ask_returns_the_question_as_taken_and_everyone_sees_it(connect: Connect) -> None:
    ann, bob = connect(voter="ann"), connect(voter="bob")
    question = ann.ask("  Is there\n  dessert?  ", name=" Ann ")
    assert question["id"] == "q1"
    assert (question["text"], question["name"], question["state"]) == ("Is there dessert?", "Ann", "published")
    assert (question["upvotes"], question["mine"], question["upvoted"]) == (0, True, False)
    assert question["answered_at"] is None and question["asked_at"] > 0
    seen = bob.wait_for(lambda c: c.questions())
    assert seen == [dict(question, mine=False)]  # the same question; only this voter's flags differ
    assert ann.question("q1")["mine"] is True
    assert ann.ask("Anonymous?")["name"] is None
    with pytest.raises(KeyError):
        bob.question("q9")


def test_upvote_and_unvote_return_the_count_and_every_client_converges(connect: Connect) -> None:
    ann, bob, cat = connect(voter="ann"), connect(voter="bob"), connect(voter="cat")
    q = ann.ask("Why?")["id"]
    assert bob.upvote(q) == 1
    assert bob.upvote(q) == 1  # upvoting twice is still one upvote
    assert cat.upvote(q) == 2
    assert cat.unvote(q) == 1
    assert cat.unvote(q) == 1  # nothing to take back: no change
    for client in (ann, bob, cat):
        client.wait_for(lambda c: c.question(q)["upvotes"] == 1)
    assert [c.question(q)["upvoted"] for c in (ann, bob, cat)] == [False, True, False]


def test_refusals_are_typed_errors_and_the_connection_stays_open(connect: Connect, hub: Hub) -> None:
    ann, bob = connect(voter="ann"), connect(voter="bob")
    for text, name in (("", None), ("   ", None), ("\u200b", None), ("x" * (MAX_QUESTION_TEXT + 1), None), ("ok?", "n" * (MAX_NAME_LENGTH + 1))):
        with pytest.raises(BadQuestion):
            ann.ask(text, name=name)
    q = ann.ask("Same question?")["id"]
    with pytest.raises(DuplicateQuestion):
        ann.ask("same   QUESTION?")  # compared like words answers: case and spaces aside
    with pytest.raises(OwnQuestion):
        ann.upvote(q)
    with pytest.raises(UnknownQuestion):
        bob.upvote("q99")
    with pytest.raises(UnknownQuestion):
        bob.unvote("q99")
    with pytest.raises(Forbidden):
        bob.answer_question(q)  # presenters only
    hub.answer_question(q)
    with pytest.raises(QuestionAnswered):
        bob.upvote(q)
    assert bob.unvote(q) == 0  # taking back is allowed in any visible state
    hub.qa_settings(open=False)
    with pytest.raises(QAClosed):
        bob.ask("Too late?")
    assert bob.wait_for(lambda c: c.qa_state()["open"] is False)
    assert not ann.closed and not bob.closed


def test_too_many_questions_from_one_voter(connect: Connect) -> None:
    ann = connect(voter="ann")
    for k in range(QUESTIONS_PER_WINDOW):
        ann.ask(f"Question number {k}?")
    with pytest.raises(TooManyQuestions):
        ann.ask("One more?")
    assert len(ann.questions()) == QUESTIONS_PER_WINDOW


def test_moderation_approve_and_dismiss(connect: Connect) -> None:
    presenter, ann, bob = connect(token="secret"), connect(voter="ann"), connect(voter="bob")
    presenter.qa_settings(moderation=True)
    for client in (ann, bob):
        client.wait_for(lambda c: c.qa_state()["moderation"])
    first = ann.ask("Held back?")
    assert first["state"] == "waiting"
    second = ann.ask("And this one?")["id"]
    presenter.wait_for(lambda c: len(c.questions()) == 2)
    assert ids(ann) == [first["id"], second] and ids(bob) == []  # a waiting question: its asker and presenters only
    with pytest.raises(UnknownQuestion):
        bob.upvote(first["id"])  # others may not see it
    presenter.approve_question(first["id"])
    bob.wait_for(lambda c: ids(c) == [first["id"]])
    assert bob.upvote(first["id"]) == 1
    presenter.dismiss_question(first["id"])
    for client in (ann, bob):
        client.wait_for(lambda c: first["id"] not in ids(c))  # participants drop a dismissed question
    presenter.wait_for(lambda c: c.question(first["id"])["state"] == "dismissed")  # presenters keep it
    assert ids(ann) == [second]


def test_highlight_answer_and_stage(connect: Connect) -> None:
    presenter, ann, bob = connect(token="secret"), connect(voter="ann"), connect(voter="bob")
    presenter.qa_settings(moderation=True)
    q = ann.ask("Highlight me?")["id"]
    presenter.highlight_question(q)  # a waiting question is approved first
    bob.wait_for(lambda c: c.qa_state()["highlight"] == q and c.question(q)["state"] == "published")
    presenter.highlight_question(None)
    bob.wait_for(lambda c: c.qa_state()["highlight"] is None)
    presenter.highlight_question(q)
    presenter.answer_question(q)  # answering the highlighted question clears the highlight
    bob.wait_for(lambda c: c.question(q)["state"] == "answered" and c.qa_state()["highlight"] is None)
    assert bob.question(q)["answered_at"] >= bob.question(q)["asked_at"]
    settings = {"moderation": True, "open": True, "highlight": None, "stage": "qa"}
    assert presenter.qa_settings(stage="qa") == settings  # sent before the reply: already held
    assert ann.wait_for(lambda c: c.qa_state()["stage"] == "qa") and ann.qa_state() == settings
    with pytest.raises(BadMessage):
        presenter.qa_settings()  # nothing to change
    with pytest.raises(BadMessage):
        presenter.qa_settings(stage="projector")
    with pytest.raises(UnknownQuestion):
        presenter.dismiss_question("q42")


def test_a_new_connection_gets_the_questions_with_its_voters_flags(connect: Connect) -> None:
    ann, bob = connect(voter="ann"), connect(voter="bob")
    mine = bob.ask("Bob's question?")["id"]
    theirs = ann.ask("Ann's question?")["id"]
    bob.upvote(theirs)
    bob.close()
    again = connect(voter="bob")  # from the welcome: bob asked one and upvoted the other
    flags = {q["id"]: (q["mine"], q["upvoted"], q["upvotes"]) for q in again.questions()}
    assert flags == {mine: (True, False, 0), theirs: (False, True, 1)}
    assert again.qa_state() == {"moderation": False, "open": True, "highlight": None, "stage": "poll"}
    assert again.unvote(theirs) == 0
    ann.wait_for(lambda c: c.question(theirs)["upvotes"] == 0)


def test_presenter_sees_every_question_from_its_welcome(connect: Connect, hub: Hub) -> None:
    hub.qa_settings(moderation=True)
    waiting = hub.ask("Waiting?", voter="ann")["id"]
    dismissed = hub.ask("Dismissed?", voter="ann")["id"]
    hub.dismiss_question(dismissed)
    presenter, bob = connect(token="secret"), connect(voter="bob")
    assert [(q["id"], q["state"]) for q in presenter.questions()] == [(waiting, "waiting"), (dismissed, "dismissed")]
    assert bob.questions() == []
    assert presenter.questions() == [dict(q, upvoted=False, mine=False) for q in hub.questions()]
