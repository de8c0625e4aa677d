"""Quizzes: scoring with an explicit clock, nicknames, the leaderboard, and the correct answer kept off the wire."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

from pollhub import Hub
from pollhub.book import Effects, PollBook
from pollhub.cluster import decode_command, encode_command
from pollhub.errors import BadMessage, BadNickname, NicknameTaken, PollhubError
from pollhub.kinds import quiz_points
from pollhub.polls import Settings
from pollhub.protocol import CreatePoll, OpenPoll, PollAction, RenameNickname, ResetQuiz, SetNickname, Vote, parse

T0 = 1_800_000_000.0


class Quiz:
    """A PollBook driven with an explicit clock, as the hub drives it."""

    def __init__(self) -> None:
        self.book = PollBook()
        self.now = T0
        self.effects = Effects()

    def apply(self, command: Any, voter: str = "host", admin: bool = True) -> Dict[str, Any]:
        return self.book.apply(command, voter=voter, admin=admin, now=self.now, effects=self.effects)[0]

    def send(self, data: Dict[str, Any], voter: str, admin: bool = False) -> Dict[str, Any]:
        try:
            command = parse(json.dumps(data))
        except PollhubError as exc:
            return {"type": "error", "code": exc.code, "message": exc.message}
        return self.apply(command, voter, admin)

    def question(self, labels: List[str], correct: List[str], time_limit: int = 20) -> str:
        reply = self.send({"type": "create_poll", "kind": "quiz", "question": "Q?", "options": labels,
                           "correct": correct, "time_limit": time_limit}, "host", admin=True)
        assert reply["type"] == "ok", reply
        return str(reply["poll"])

    def players(self, *names: str) -> None:
        for name in names:
            assert self.send({"type": "nickname", "nickname": name}, name.lower())["type"] == "nickname"

    def run(self, poll_id: str, answers: Dict[str, Any], after: float = 0.0) -> List[Dict[str, Any]]:
        """Open, answer (each ``after`` seconds apart), close, reveal; returns the replies."""
        assert self.apply(OpenPoll(poll_id))["type"] == "ok"
        replies = []
        for voter, choice in answers.items():
            self.now += after
            replies.append(self.apply(Vote(choice, poll_id), voter, admin=False))
        assert self.apply(PollAction("close", poll_id))["type"] == "ok"
        assert self.apply(PollAction("reveal_answer", poll_id))["type"] == "ok"
        return replies


@pytest.fixture
def quiz() -> Quiz:
    return Quiz()


def code(reply: Dict[str, Any]) -> str:
    assert reply["type"] == "error", reply
    return str(reply["code"])


# Scoring ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "remaining, points", [(20.0, 1000), (10.0, 750), (0.0, 500), (19.99, 1000), (0.02, 500), (5.0, 625), (30.0, 1000)]
)
def test_the_formula(remaining: float, points: int) -> None:
    """1,000 at once, 500 at the last moment, in proportion to the time left (README's formula)."""
    assert quiz_points(T0 + remaining, 20, T0) == points


def test_points_follow_the_books_clock(quiz: Quiz) -> None:
    """A correct answer 5 s into a 20 s question scores 875; a wrong one 0; nobody's clock but the book's."""
    poll = quiz.question(["Paris", "Lyon"], ["Paris"])
    quiz.players("Ann", "Bob", "Cy")
    quiz.run(poll, {"ann": "paris", "bob": "lyon", "cy": "Paris"}, after=5.0)
    assert {s["nickname"]: s["points"] for s in quiz.book.quiz.scores(quiz.book.polls[poll], list(quiz.book.polls.values())).values()} == {
        "Ann": 875, "Bob": 0, "Cy": 625
    }


def test_several_correct_options_need_exactly_that_set(quiz: Quiz) -> None:
    poll = quiz.question(["Red", "Blue", "Green"], ["red", "green"], time_limit=10)
    assert quiz.book.polls[poll].to_json()["multiple"] is True
    quiz.players("Ann", "Bob", "Cy")
    replies = quiz.run(poll, {"ann": ["red", "green"], "bob": ["red"], "cy": ["red", "green", "blue"]})
    assert [r["options"] for r in replies] == [["red", "green"], ["red"], ["red", "green", "blue"]]
    board = quiz.book.quiz.standings(quiz.book.polls.values())
    assert [(s.nickname, s.total) for s in board] == [("Ann", 1000), ("Bob", 0), ("Cy", 0)]


def test_one_answer_locked_and_only_while_it_runs(quiz: Quiz) -> None:
    poll = quiz.question(["A", "B"], ["A"], time_limit=5)
    quiz.players("Ann")
    assert code(quiz.apply(Vote("a", poll), "ann", admin=False)) == "poll_closed"  # not started
    quiz.apply(OpenPoll(poll, 60.0))  # the question's own time limit, not this
    assert quiz.book.polls[poll].closes_at == T0 + 5
    assert quiz.apply(Vote("b", poll), "ann", admin=False)["options"] == ["b"]
    assert code(quiz.apply(Vote("a", poll), "ann", admin=False)) == "vote_locked"
    assert code(quiz.apply(Vote(["a", "b"], poll), "bob", admin=False)) == "nickname_required"
    quiz.players("Bob")
    assert code(quiz.apply(Vote(["a", "b"], poll), "bob", admin=False)) == "invalid_vote"
    quiz.now = T0 + 5  # the deadline, before the hub closes it: too late
    assert code(quiz.apply(Vote("a", poll), "bob", admin=False)) == "poll_closed"
    assert code(quiz.apply(OpenPoll(poll))) == "bad_message"  # it ran


def test_settings_and_their_errors(quiz: Quiz) -> None:
    for fields, problem in (
        ({}, "correct"), ({"correct": []}, "correct"), ({"correct": ["Nope"]}, "not an option"),
        ({"correct": ["A"], "time_limit": 4}, "time_limit"), ({"correct": ["A"], "time_limit": 301}, "time_limit"),
    ):
        reply = quiz.send({"type": "create_poll", "kind": "quiz", "question": "Q", "options": ["A", "B"], **fields},
                          "host", admin=True)
        assert reply["type"] == "error" and problem in reply["message"], (fields, reply)
    reply = quiz.send({"type": "create_poll", "kind": "single", "question": "Q", "options": ["A", "B"],
                       "correct": ["A"]}, "host", admin=True)
    assert code(reply) == "bad_message"
    poll = quiz.question(["A", "B"], ["b"])
    settings = quiz.book.polls[poll].settings
    assert (settings.correct, settings.time_limit, settings.changes, settings.results) == (("b",), 20, "locked", "after_close")
    assert code(quiz.send({"type": "update_poll", "poll": poll, "changes": "allowed"}, "host", admin=True)) == "bad_message"


# Nicknames ------------------------------------------------------------------------------------


def test_nicknames(quiz: Quiz) -> None:
    assert quiz.send({"type": "nickname", "nickname": "  Ann  Lee "}, "ann") == {"type": "nickname", "nickname": "Ann Lee"}
    taken = quiz.send({"type": "nickname", "nickname": "ANN LEE"}, "bob")
    assert code(taken) == "nickname_taken"
    reply = quiz.apply(SetNickname("ann lee"), "bob", admin=False)
    assert reply["suggestion"] == "ann lee 2"
    assert quiz.send({"type": "nickname", "nickname": "ann lee"}, "ann")["nickname"] == "ann lee"  # one's own, recased
    for bad in ("A", "x" * 21, "   ", 7, "tab\x07"):
        assert code(quiz.send({"type": "nickname", "nickname": bad}, "cy")) == "bad_nickname", bad
    assert quiz.apply(RenameNickname("ANN LEE", "Ann"))["nickname"] == "Ann"
    assert quiz.book.quiz.nicknames == {"ann": "Ann"}
    assert code(quiz.apply(RenameNickname("nobody", "X2"))) == "bad_nickname"
    assert code(quiz.apply(RenameNickname("Ann", "Zed"), "ann", admin=False)) == "forbidden"


def test_suggestions_fit_and_are_free() -> None:
    from pollhub.quiz import Players

    players = Players({"a": "Twenty characters!!!", "b": "Twenty characters 2"})
    assert players.suggest("twenty characters!!!") == "twenty characters! 2"  # shortened to fit 20
    assert players.suggest("twenty characters 2") == "twenty characters 3"
    with pytest.raises(NicknameTaken):
        players.set("c", "twenty CHARACTERS 2")
    with pytest.raises(BadNickname):
        players.set("c", "\u200b\u200b")


# The leaderboard -------------------------------------------------------------------------


def test_ties_share_a_rank_ordered_by_nickname_and_moves_are_counted(quiz: Quiz) -> None:
    first = quiz.question(["A", "B"], ["A"], time_limit=10)
    second = quiz.question(["A", "B"], ["B"], time_limit=10)
    quiz.players("dora", "Ann", "bob", "Cy")
    quiz.run(first, {"dora": "a", "ann": "a", "bob": "b"})  # dora and ann 1000, bob 0, cy none
    board = quiz.book.quiz.leaderboard(list(quiz.book.polls.values()))
    assert [(e["rank"], e["nickname"], e["score"], e["moved"]) for e in board["top"]] == [
        (1, "Ann", 1000, None), (1, "dora", 1000, None), (3, "bob", 0, None), (3, "Cy", 0, None)
    ]
    quiz.now += 10
    quiz.run(second, {"cy": "b", "bob": "b", "ann": "a"}, after=2.0)  # cy 900, bob 800
    board = quiz.book.quiz.leaderboard(list(quiz.book.polls.values()))
    assert [(e["rank"], e["nickname"], e["score"], e["moved"]) for e in board["top"]] == [
        (1, "Ann", 1000, 0), (1, "dora", 1000, 0), (3, "Cy", 900, 0), (4, "bob", 800, -1)
    ]
    assert board["podium"] == board["top"][:3] and board["participants"] == 4
    scores = quiz.book.quiz.scores(quiz.book.polls[second], list(quiz.book.polls.values()))
    assert scores["cy"] == {"type": "score", "poll": second, "points": 900, "correct": True, "answered": True,
                            "nickname": "Cy", "total": 900, "rank": 3, "of": 4}
    assert scores["dora"]["answered"] is False and scores["dora"]["points"] == 0


def test_the_leaderboard_counts_revealed_questions_only(quiz: Quiz) -> None:
    poll = quiz.question(["A", "B"], ["A"])
    quiz.players("Ann")
    quiz.apply(OpenPoll(poll))
    quiz.apply(Vote("a", poll), "ann", admin=False)
    quiz.apply(PollAction("close", poll))
    assert quiz.book.quiz.standings(quiz.book.polls.values())[0].total == 0
    assert code(quiz.apply(PollAction("reveal_answer", "nope"))) == "unknown_poll"
    quiz.apply(PollAction("reveal_answer", poll))
    assert quiz.book.quiz.standings(quiz.book.polls.values())[0].total == 1000


def test_reset_quiz(quiz: Quiz) -> None:
    poll = quiz.question(["A", "B"], ["A"])
    quiz.players("Ann")
    quiz.run(poll, {"ann": "a"})
    assert quiz.apply(ResetQuiz()) == {"type": "ok", "poll": None}
    state = quiz.book.polls[poll]
    assert (state.ballots, state.answer_revealed, state.open) == ({}, 0, False)
    assert quiz.book.quiz.standings(quiz.book.polls.values())[0].total == 0
    assert quiz.book.quiz.nicknames == {"ann": "Ann"}
    quiz.run(poll, {"ann": "b"})  # it runs again
    assert code(quiz.apply(ResetQuiz(), "ann", admin=False)) == "forbidden"


def test_snapshot_and_the_shared_log_carry_quizzes(quiz: Quiz) -> None:
    poll = quiz.question(["A", "B"], ["A"])
    quiz.players("Ann", "Bob")
    quiz.run(poll, {"ann": "a", "bob": "b"}, after=1.5)
    restored = PollBook.restore(json.loads(json.dumps(quiz.book.snapshot())))
    assert restored.snapshot() == quiz.book.snapshot()
    assert restored.quiz.leaderboard(list(restored.polls.values())) == quiz.book.quiz.leaderboard(
        list(quiz.book.polls.values())
    )
    for command in (
        SetNickname("Ann"), RenameNickname("Ann", "Bea"), ResetQuiz(), PollAction("reveal_answer", poll),
        CreatePoll("Q", ("A", "B"), Settings("quiz", correct=("a",), time_limit=7, results="after_close", changes="locked")),
    ):
        assert decode_command(encode_command(command)) == command


# On the wire ------------------------------------------------------------------------------------


def polls_in(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    polls = [p for m in messages if m["type"] == "welcome" for p in m["polls"]]
    return polls + [m["poll"] for m in messages if m["type"] == "poll"]


def test_the_correct_answer_reaches_participants_only_when_revealed(peers: Any) -> None:
    """On the wire: participants' poll and welcome messages carry no ``correct`` until the reveal; presenters' do."""
    host = peers(token="secret")
    created = host.send({"type": "create_poll", "kind": "quiz", "question": "Capital?", "options": ["Paris", "Rome"],
                         "correct": ["Paris"], "time_limit": 30}, "ok")
    poll = created["poll"]
    ann = peers("ann")
    late = peers()  # a participant whose welcome comes while the question exists
    assert code(ann.send({"type": "vote", "poll": poll, "option": "paris"}, "error")) == "nickname_required"
    ann.send({"type": "nickname", "nickname": "Ann"}, "nickname")
    assert code(ann.send({"type": "vote", "poll": poll, "option": "paris"}, "error")) == "poll_closed"  # not started
    host.send({"type": "open_poll", "poll": poll}, "ok")
    voted = ann.send({"type": "vote", "poll": poll, "option": "paris", "ref": 1}, "voted")
    assert voted["options"] == ["paris"]
    promoted = peers(token="secret")  # a presenter who joined mid-question learns the answer with its hello
    host.send({"type": "close_poll", "poll": poll}, "ok")
    for participant in (ann, late):  # read on to the close: it too must not carry the answer
        while participant.next("poll")["poll"]["open"]:
            pass
    for participant in (ann, late):  # each was sent the question at least once, with no correct answer in it
        sent = [p for p in polls_in(participant.seen) if p["id"] == poll]
        assert sent and all("correct" not in p for p in sent), "correct leaked before the reveal"
    assert [p.get("correct") for p in polls_in(host.seen) if p["id"] == poll][-1] == ["paris"]
    assert ["paris"] in [p.get("correct") for p in polls_in(promoted.seen)]
    host.send({"type": "reveal_answer", "poll": poll}, "ok")
    score = ann.next("score")
    assert (score["rank"], score["of"], score["correct"], score["answered"]) == (1, 1, True, True)
    assert 900 < score["points"] <= 1000 and score["total"] == score["points"]
    revealed = [p for p in polls_in(ann.seen) if p["id"] == poll][-1]
    assert revealed["correct"] == ["paris"] and revealed["answer_revealed"] is True
    board = [m for m in ann.seen if m["type"] == "leaderboard"][-1]  # (it comes before the score)
    assert (board["poll"], board["top"][0]["nickname"], board["top"][0]["score"]) == (poll, "Ann", score["points"])
    again = peers("ann")
    assert again.hello["nickname"] == "Ann" and again.hello["score"]["rank"] == 1
    assert [p["correct"] for p in again.welcome["polls"]] == [["paris"]]


def test_hub_api() -> None:
    with Hub() as hub:
        poll = hub.create_poll("2 + 2?", ["3", "4"], kind="quiz", correct=["4"], time_limit=5)
        assert poll.open is False and poll.settings.correct == ("4",)
        assert hub.set_nickname("Ann", voter="ann") == "Ann"
        with pytest.raises(NicknameTaken) as taken:
            hub.set_nickname("ann", voter="bob")
        assert taken.value.details == {"suggestion": "ann 2"}
        hub.open_poll(poll.id)
        assert hub.vote(poll.id, "4", voter="ann") == ["4"]
        with pytest.raises(BadMessage):
            hub.reveal_answer(poll.id)  # still running
        hub.close_poll(poll.id)
        hub.reveal_answer(poll.id)
        assert hub.poll(poll.id).answer_revealed
        assert hub.leaderboard()[0]["nickname"] == "Ann" and hub.leaderboard()[0]["score"] > 900
        assert hub.rename_nickname("Ann", "Annie") == "Annie"
        hub.reset_quiz()
        assert hub.leaderboard() == [{"rank": 1, "nickname": "Annie", "score": 0}]
