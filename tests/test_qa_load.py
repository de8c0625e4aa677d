"""Audience Q&A under load: 500 participants upvote and unvote 20 questions as fast as they can.

Every participant is a real WebSocket connection to a real server over
loopback. To keep 500 of them cheap on a small machine, one test thread drives
them all on non-blocking sockets (``selectors``), with its own few lines of
WebSocket framing (independent of pollhub's code), and decodes every message in
full. Checked: each upvote and unvote is counted exactly once (the server's
final counts are the exact figures the test computes), every reply says what
it did, and every participant's view of every question ends at the server's count.
"""

from __future__ import annotations

import base64
import json
import os
import selectors
import time
from typing import Any, Dict, Iterator, List

import pytest

from pollhub import Hub, PollServer

from .rawws import OP_TEXT, NonBlockingPeer, mask_frame

PARTICIPANTS = 500
QUESTIONS = 20
DEADLINE = 60.0  # seconds the whole upvoting may take before the test fails
MASK = b"\x5a\x17\xc3\x2e"


def unvotes(participant: int, question: int) -> bool:
    """Whether the participant takes its upvote of the question back: one participant in five, a different five per question."""
    return (participant * 7 + question) % 5 == 0


def client_frame(message: Dict[str, Any]) -> bytes:
    """A masked text frame."""
    return mask_frame(OP_TEXT, json.dumps(message).encode(), mask=MASK)


class Participant(NonBlockingPeer):
    """One connection: what it was told of each question's upvotes, and the replies to its upvotes and unvotes."""

    def __init__(self, port: int) -> None:
        self.upvotes: Dict[str, int] = {}  # question id -> upvotes, as this participant was last told
        self.replies: List[Dict[str, Any]] = []  # upvoted replies and errors, in order
        super().__init__(port, 10, key=base64.b64encode(os.urandom(16)).decode())

    def on_message(self, message: Dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "welcome":
            self.upvotes = {q["id"]: q["upvotes"] for q in message["qa"]["questions"]}
        elif kind == "question":
            self.upvotes[message["question"]["id"]] = message["question"]["upvotes"]
        elif kind == "questions":
            self.upvotes.update((q["id"], q["upvotes"]) for q in message["questions"])
        elif kind in ("upvoted", "error"):
            self.replies.append(message)


@pytest.fixture
def participants() -> Iterator[List[Participant]]:
    made: List[Participant] = []
    yield made
    for participant in made:
        participant.sock.close()


def test_upvotes_of_500_participants_are_each_counted_once_and_every_view_converges(participants: List[Participant]) -> None:
    with Hub() as hub, PollServer(hub, port=0, max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0) as server:
        questions = [hub.ask(f"Question number {k + 1}?", voter=f"asker-{k}")["id"] for k in range(QUESTIONS)]
        for _ in range(PARTICIPANTS):
            participants.append(Participant(server.port))
        plans = [
            [client_frame({"type": "upvote", "question": q}) for q in questions]
            + [client_frame({"type": "unvote", "question": q}) for j, q in enumerate(questions) if unvotes(i, j)]
            for i in range(PARTICIPANTS)
        ]
        sent = [len(plan) for plan in plans]
        selector = selectors.DefaultSelector()
        for participant in participants:
            selector.register(participant.sock, selectors.EVENT_READ, participant)
        started = time.monotonic()
        for participant, plan in zip(participants, plans):  # every participant sends everything at once
            participant.sock.setblocking(True)
            participant.sock.sendall(b"".join(plan))
            participant.sock.setblocking(False)
            for key, _ in selector.select(0):
                key.data.read()
        expected = {q: PARTICIPANTS - sum(unvotes(i, j) for i in range(PARTICIPANTS)) for j, q in enumerate(questions)}

        def done() -> bool:
            return all(len(p.replies) == n and p.upvotes == expected for p, n in zip(participants, sent))

        while not done():
            assert time.monotonic() - started < DEADLINE, "not every participant converged in time"
            for key, _ in selector.select(0.05):
                key.data.read()
        selector.close()
        final = {q["id"]: q["upvotes"] for q in hub.questions()}
        for participant in participants:  # the participants leave before the server stops
            participant.sock.close()

    assert final == expected  # each upvote and unvote counted exactly once
    assert set(expected.values()) == {PARTICIPANTS * 4 // 5}
    for i, participant in enumerate(participants):
        assert not participant.closed
        assert participant.upvotes == final  # every participant's view is the server's
        kinds = [(r["type"], r.get("question"), r.get("upvoted")) for r in participant.replies]
        taken_back = [(q, False) for j, q in enumerate(questions) if unvotes(i, j)]
        assert kinds == [("upvoted", q, True) for q in questions] + [("upvoted", q, flag) for q, flag in taken_back]
