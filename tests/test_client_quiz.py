"""PollClient and quizzes: nicknames, answers, the reveal's scores and leaderboard, the presenter's commands."""

from __future__ import annotations

from typing import Callable

import pytest

from pollhub import PollClient, PollhubError

Connect = Callable[..., PollClient]


def quiz(presenter: PollClient, question: str = "Capital of France?", correct: tuple = ("Paris",)) -> str:
    """A quiz question, opened; returns its id."""
    poll = presenter.create_poll(question, ["Paris", "Rome", "Oslo"], "quiz", correct=list(correct), time_limit=30)
    presenter.open_poll(poll)
    return poll


def test_a_nickname_is_kept_and_told_back_and_taken_ones_come_with_a_free_suggestion(connect: Connect) -> None:
    ann, bob = connect(voter="ann"), connect(voter="bob")
    assert ann.nickname is None
    assert ann.set_nickname("  Ann  ") == "Ann"
    assert ann.nickname == "Ann"
    assert ann.set_nickname("ANN") == "ANN"  # her own nickname in another case is fine
    with pytest.raises(PollhubError) as taken:
        bob.set_nickname("ann")
    assert taken.value.code == "nickname_taken"
    suggestion = taken.value.details["suggestion"]
    assert suggestion.lower() != "ann" and bob.set_nickname(suggestion) == suggestion
    for bad in ("a", "x" * 21, "   "):
        with pytest.raises(PollhubError) as refused:
            bob.set_nickname(bad)
        assert refused.value.code == "bad_nickname"
    assert bob.nickname == suggestion
    again = connect(voter="ann")  # the same voter later: the server tells the nickname in its hello reply
    assert again.nickname == "ANN"


def test_an_answer_needs_a_nickname_and_the_reveal_brings_score_and_leaderboard(connect: Connect) -> None:
    presenter = connect(token="secret")
    ann, bob, cid = connect(voter="ann"), connect(voter="bob"), connect(voter="cid")
    poll = quiz(presenter)
    with pytest.raises(PollhubError) as anonymous:
        ann.vote("paris", poll=poll)
    assert anonymous.value.code == "nickname_required"
    ann.set_nickname("Ann")
    bob.set_nickname("Bob")
    cid.set_nickname("Cid")
    assert ann.vote("paris", poll=poll) == ["paris"]  # a quiz answer is a list of option ids
    assert bob.vote("Rome", poll=poll) == ["rome"]
    assert ann.score(poll) is None and all(e["score"] == 0 for e in ann.leaderboard())  # no points before a reveal
    presenter.close_poll(poll)
    presenter.reveal_answer(poll)
    score = ann.wait_for(lambda c: c.score(poll))
    assert (score["correct"], score["answered"], score["rank"], score["of"]) == (True, True, 1, 3)  # everyone with a nickname
    assert 500 <= score["points"] <= 1000 and score["total"] == score["points"]
    assert bob.wait_for(lambda c: c.score(poll)) == {
        "type": "score", "poll": poll, "points": 0, "correct": False, "answered": True, "nickname": "Bob", "total": 0,
        "rank": 2, "of": 3,
    }  # fmt: skip
    missed = cid.wait_for(lambda c: c.score(poll))
    assert (missed["answered"], missed["points"]) == (False, 0)
    assert cid.score() == missed  # the last score, whatever the question
    board = cid.wait_for(lambda c: c.leaderboard())
    assert [(e["nickname"], e["score"], e["rank"], e["moved"]) for e in board] == [
        ("Ann", score["points"], 1, None), ("Bob", 0, 2, None), ("Cid", 0, 2, None),
    ]  # fmt: skip  (equal scores share a rank, by nickname)
    assert cid.participants() == 3
    late = connect(voter="bob")  # a newcomer reads the leaderboard from its welcome
    assert [e["nickname"] for e in late.leaderboard()] == ["Ann", "Bob", "Cid"] and late.participants() == 3
    with pytest.raises(PollhubError):
        ann.vote("rome", poll=poll)  # closed, and one answer only


def test_correct_options_are_for_presenters_until_the_reveal_and_several_make_a_multiple_question(connect: Connect) -> None:
    presenter, ann = connect(token="secret"), connect(voter="ann")
    ann.set_nickname("Ann")
    poll = quiz(presenter, "Which are capitals?", correct=("Paris", "Rome"))
    seen = ann.wait_for(lambda c: c.poll(poll).open and c.poll(poll))
    assert presenter.wait_for(lambda c: c.poll(poll)).settings.kind == "quiz"
    assert seen.settings.kind == "quiz"
    assert sorted(ann.vote(["rome", "paris"], poll=poll)) == ["paris", "rome"]  # a list goes as "options"
    presenter.close_poll(poll)
    presenter.reveal_answer(poll)
    assert ann.wait_for(lambda c: c.score(poll))["correct"] is True


def test_presenter_commands_rename_reveal_and_reset(connect: Connect) -> None:
    presenter, ann = connect(token="secret"), connect(voter="ann")
    ann.set_nickname("Anne")
    poll = quiz(presenter)
    with pytest.raises(PollhubError) as early:
        presenter.reveal_answer(poll)  # still running
    assert early.value.code == "bad_message"
    assert presenter.rename_nickname("anne", " Ann ") == "Ann"
    assert ann.wait_for(lambda c: c.nickname == "Ann")
    assert presenter.nickname is None  # the reply named somebody else
    ann.vote("paris", poll=poll)
    presenter.close_poll(poll)
    presenter.reveal_answer(poll)
    assert ann.wait_for(lambda c: c.score(poll))["points"] >= 500
    assert ann.wait_for(lambda c: c.leaderboard()[0]["score"] > 0)
    with pytest.raises(PollhubError) as forbidden:
        ann.reset_quiz()
    assert forbidden.value.code == "forbidden"
    presenter.reset_quiz()
    assert ann.wait_for(lambda c: c.leaderboard() == [{"rank": 1, "nickname": "Ann", "score": 0, "moved": None}])
    assert ann.nickname == "Ann"
    presenter.open_poll(poll)  # it runs again after the reset
    assert ann.vote("rome", poll=poll) == ["rome"]
