"""A quiz under load: 1,000 participants with nicknames answer one question within the same second.

Every participant is a real WebSocket connection to a real server over
loopback. One test thread drives them all on non-blocking sockets
(``selectors``), framing with :mod:`tests.rawws` (independent of pollhub's
code), so a thousand connections cost a thousand sockets and no thread.
Checked: every answer is counted exactly once, each participant's points are
exactly the scoring formula's with the answer time the export gives, the
score messages agree with the export, and the leaderboard's ranks are exact
(ties share a rank and are ordered by nickname, ignoring case).
"""

from __future__ import annotations

import json
import selectors
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from pollhub import Hub, PollServer

from .rawws import OP_TEXT, NonBlockingPeer, mask_frame

PARTICIPANTS = 1000
OPTIONS = ["Paris", "Rome", "Oslo", "Lima"]
CORRECT = "paris"
TIME_LIMIT = 60  # seconds: long enough that the question is still open when the last answer arrives
SAME_SECOND = 1.0  # seconds all the answers must be sent in
DEADLINE = 60.0  # seconds each phase (connect, nicknames, answers, reveal) may take before the test fails
CONNECT_TIMEOUT = 10.0


def nickname(i: int) -> str:
    """Participant i's nickname: case varies, so ordering ties by nickname must ignore case."""
    return f"{'Player' if i % 2 else 'player'} {i:04d}"


def answer(i: int) -> str:
    """Participant i's option: three in five answer right, the others spread over the wrong options."""
    return CORRECT if i % 5 < 3 else OPTIONS[1 + i % 3].lower()


def text_frame(message: Dict[str, Any]) -> bytes:
    return mask_frame(OP_TEXT, json.dumps(message).encode())


class Participant(NonBlockingPeer):
    """One non-blocking connection: every message it was sent, and the replies by type."""

    def __init__(self, port: int, index: int) -> None:
        self.index = index
        self.messages: List[Dict[str, Any]] = []
        super().__init__(port, CONNECT_TIMEOUT)
        self.read_buffered()

    def send(self, *messages: Dict[str, Any]) -> None:
        self.sock.setblocking(True)
        try:
            self.sock.sendall(b"".join(text_frame(m) for m in messages))
        finally:
            self.sock.setblocking(False)

    def on_message(self, message: Dict[str, Any]) -> None:
        self.messages.append(message)

    def of_type(self, kind: str) -> List[Dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def reply(self, ref: int) -> Optional[Dict[str, Any]]:
        return next((m for m in self.messages if m.get("ref") == ref), None)


class Crowd:
    """Every participant on one selector; :meth:`until` reads until a condition holds or fails the test."""

    def __init__(self, participants: List[Participant]) -> None:
        self.participants = participants
        self.selector = selectors.DefaultSelector()
        for participant in participants:
            self.selector.register(participant.sock, selectors.EVENT_READ, participant)

    def pump(self, timeout: float = 0) -> None:
        for key, _ in self.selector.select(timeout):
            key.data.read()

    def until(self, done: Callable[[Participant], bool], what: str) -> None:
        started = time.monotonic()
        waiting = list(self.participants)
        while waiting:
            assert time.monotonic() - started < DEADLINE, f"{len(waiting)} participants never got {what}"
            self.pump(0.05)
            waiting = [p for p in waiting if not done(p)]
            closed = [p.index for p in waiting if p.closed]
            assert not closed, f"participants {closed[:5]} were disconnected waiting for {what}"

    def close(self) -> None:
        self.selector.close()
        for participant in self.participants:
            participant.sock.close()


@pytest.fixture
def crowd() -> Iterator[List[Crowd]]:
    made: List[Crowd] = []
    yield made
    for each in made:
        each.close()


def points(closes_at: float, at: float) -> int:
    """The spec's scoring of a correct answer given at ``at``."""
    remaining = max(0.0, min(TIME_LIMIT, closes_at - at))
    return round(500 + 500 * remaining / TIME_LIMIT)


def ranked(scores: Dict[str, int]) -> List[Tuple[int, str, int]]:
    """``(rank, nickname, score)`` best first: ties share the rank of the first of them and are ordered by nickname ignoring case."""
    order = sorted(scores.items(), key=lambda item: (-item[1], item[0].casefold()))
    rows: List[Tuple[int, str, int]] = []
    for place, (name, score) in enumerate(order, 1):
        rank = rows[-1][0] if rows and rows[-1][2] == score else place
        rows.append((rank, name, score))
    return rows


def test_a_thousand_answers_in_one_second_are_counted_scored_and_ranked_exactly(crowd: List[Crowd]) -> None:
    with Hub() as hub, PollServer(
        hub, port=0, max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0, max_connections=PARTICIPANTS + 100
    ) as server:
        poll = hub.create_poll("Capital of France?", OPTIONS, "quiz", correct=["Paris"], time_limit=TIME_LIMIT).id
        people = [Participant(server.port, i) for i in range(PARTICIPANTS)]
        hall = Crowd(people)
        crowd.append(hall)
        hall.until(lambda p: bool(p.of_type("welcome")), "a welcome")
        for p in people:
            p.send({"type": "hello", "voter": f"voter-{p.index}", "ref": 1}, {"type": "nickname", "nickname": nickname(p.index), "ref": 2})
            hall.pump()
        hall.until(lambda p: p.reply(2) is not None, "the reply to their nickname")
        assert all(p.reply(2) == {"type": "nickname", "nickname": nickname(p.index), "ref": 2} for p in people)

        hub.open_poll(poll)
        frames = [text_frame({"type": "vote", "poll": poll, "option": answer(p.index), "ref": 3}) for p in people]
        started = time.monotonic()
        for p, frame in zip(people, frames):  # every participant answers at once
            p.sock.setblocking(True)
            p.sock.sendall(frame)
            p.sock.setblocking(False)
        sent_in = time.monotonic() - started
        hall.until(lambda p: p.reply(3) is not None, "the reply to their answer")
        assert sent_in < SAME_SECOND, f"the answers took {sent_in:.2f} s to send"
        assert [p.reply(3)["type"] for p in people] == ["voted"] * PARTICIPANTS
        closes_at = next(q for q in hub.export()["polls"] if q["id"] == poll)["closes_at"]  # the deadline, while it runs
        hub.close_poll(poll)
        hub.reveal_answer(poll)
        hall.until(lambda p: bool(p.of_type("score")) and bool(p.of_type("leaderboard")), "their score and the leaderboard")
        document = hub.export()
        leaderboard = hub.leaderboard()

    quiz = next(q for q in document["polls"] if q["id"] == poll)
    expected_counts = {o.lower(): sum(answer(i) == o.lower() for i in range(PARTICIPANTS)) for o in OPTIONS}
    assert quiz["counts"] == expected_counts and sum(expected_counts.values()) == PARTICIPANTS  # each answer once
    assert quiz["correct"] == [CORRECT]
    answers = {a["nickname"]: a for a in quiz["answers"]}
    assert sorted(answers) == sorted(nickname(i) for i in range(PARTICIPANTS))
    for i in range(PARTICIPANTS):
        given = answers[nickname(i)]
        assert given["options"] == [answer(i)]
        want = points(closes_at, given["at"]) if answer(i) == CORRECT else 0
        assert given["points"] == want, (nickname(i), given)
    scores = {name: a["points"] for name, a in answers.items()}
    expected = ranked(scores)
    assert len({score for _, _, score in expected}) > 1  # the answers' times spread the points: not one big tie
    assert any(a[0] == b[0] for a, b in zip(expected, expected[1:]))  # and ties to rank equally
    assert [(e["rank"], e["nickname"], e["score"]) for e in leaderboard] == expected
    assert [(e["rank"], e["nickname"], e["score"]) for e in document["leaderboard"]] == expected
    rank_of = {name: rank for rank, name, _ in expected}
    for p in people:
        (score,) = p.of_type("score")
        name = nickname(p.index)
        assert (score["poll"], score["points"], score["total"]) == (poll, scores[name], scores[name])
        assert (score["correct"], score["answered"]) == (answer(p.index) == CORRECT, True)
        assert (score["rank"], score["of"]) == (rank_of[name], PARTICIPANTS)
        board = p.of_type("leaderboard")[-1]
        assert board["participants"] == PARTICIPANTS
        assert [(e["rank"], e["nickname"], e["score"], e["moved"]) for e in board["top"]] == [
            (rank, name, score, None) for rank, name, score in expected[:10]
        ]  # the first reveal: everyone is a newcomer
