"""Audience Q&A: the pure rules (pollhub.qa through the PollBook), then the protocol over a real server."""

from __future__ import annotations

import json
import threading
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import websocket

from pollhub import Hub, PollServer
from pollhub import protocol
from pollhub.book import Effects, PollBook
from pollhub.cluster import decode_command, encode_command
from pollhub.hub import _Call, _Caller, _Result
from pollhub.errors import (
    BadMessage, BadQuestion, DuplicateQuestion, OwnQuestion, PollhubError, QAClosed, QuestionAnswered,
    TooManyQuestions, UnknownQuestion,
)
from pollhub.protocol import Ask, Highlight, QASettings, QuestionAction, Upvote, parse
from pollhub.qa import MAX_QUESTION_TEXT, QUESTION_WINDOW, QUESTIONS_PER_WINDOW, QandA

from .conftest import TIMEOUT, Peer, Recorder, metrics

NOW = 1_800_000_000.0


class Book:
    """A PollBook driven as the hub drives it, one command at a time, with an explicit clock."""

    def __init__(self) -> None:
        self.book = PollBook()
        self.effects = Effects()
        self.now = NOW

    def send(self, text: str, voter: str = "ann", admin: bool = False) -> Dict[str, Any]:
        """Parse ``text`` as a client's message and apply it; returns the reply."""
        try:
            command = parse(text)
        except PollhubError as exc:
            return protocol.error(exc)
        return self.book.apply(command, voter=voter, admin=admin, now=self.now, effects=self.effects)[0]

    def ask(self, text: str, voter: str = "ann", name: Optional[str] = None) -> Dict[str, Any]:
        return self.send(json.dumps({"type": "ask", "text": text, "name": name}), voter)

    def do(self, kind: str, question: Optional[str], voter: str = "ann", admin: bool = False) -> Dict[str, Any]:
        return self.send(json.dumps({"type": kind, "question": question}), voter, admin)

    def admin(self, kind: str, **fields: Any) -> Dict[str, Any]:
        return self.send(json.dumps({"type": kind, **fields}), "presenter", admin=True)

    def changes(self) -> List[Dict[str, Any]]:
        questions, settings = self.book.qa_changes(self.effects)
        return [q.to_json() for q in questions] + ([settings] if settings else [])


@pytest.fixture
def qa() -> Book:
    return Book()


def code(reply: Dict[str, Any]) -> str:
    assert reply["type"] == "error", reply
    return str(reply["code"])


# The rules, with no I/O -------------------------------------------------------------


def test_ask_normalises_and_publishes(qa: Book) -> None:
    """Whitespace collapses, a blank name is anonymous, ids count up, the asker sees it as theirs."""
    first = qa.ask("  Why   is\tthe sky\nblue? ", name="  ")["question"]
    assert first == {
        "id": "q1", "text": "Why is the sky blue?", "name": None, "upvotes": 0, "state": "published",
        "asked_at": NOW, "answered_at": None, "upvoted": False, "mine": True,
    }
    assert qa.ask("Second", voter="bob", name=" Bob  B. ")["question"]["name"] == "Bob B."
    assert [q["id"] for q in qa.changes()] == ["q1", "q2"]


@pytest.mark.parametrize(
    "text, name",
    [("", None), ("   \n ", None), ("\u200b", None), ("x" * (MAX_QUESTION_TEXT + 1), None), ("ok", "n" * 41),
     ("bell\x07", None)],
)
def test_bad_questions(qa: Book, text: str, name: Optional[str]) -> None:
    assert code(qa.ask(text, name=name)) == "bad_question"
    assert qa.book.qa.questions == {}


def test_longest_question_counts_after_collapsing(qa: Book) -> None:
    """280 characters once whitespace is collapsed: runs of spaces do not count against it."""
    text = " ".join(["word"] * 56)  # 56*4 + 55 = 279 characters
    assert qa.ask(text.replace(" ", "     "))["type"] == "asked"


def test_wrong_types_are_bad_messages(qa: Book) -> None:
    for message in (
        {"type": "ask", "text": 5}, {"type": "ask", "text": ["a"]}, {"type": "ask", "text": "ok", "name": 3},
        {"type": "upvote"}, {"type": "upvote", "question": 1}, {"type": "unvote", "question": ["q1"]},
        {"type": "qa_settings"}, {"type": "qa_settings", "open": "yes"}, {"type": "qa_settings", "stage": "wall"},
    ):
        assert code(qa.send(json.dumps(message), admin=True)) in ("bad_question", "bad_message"), message


def test_duplicate_within_a_minute(qa: Book) -> None:
    """The same text from the same voter (ignoring case and spacing) is refused for a minute; others may ask it."""
    qa.ask("Is it lunch yet?")
    assert code(qa.ask("is it  LUNCH yet?")) == "duplicate_question"
    assert qa.ask("Is it lunch yet?", voter="bob")["type"] == "asked"
    qa.now += QUESTION_WINDOW + 0.001
    assert qa.ask("Is it lunch yet?")["type"] == "asked"


def test_ten_questions_a_minute(qa: Book) -> None:
    for number in range(QUESTIONS_PER_WINDOW):
        assert qa.ask(f"question {number}")["type"] == "asked"
        qa.now += 1
    assert code(qa.ask("one more")) == "too_many_questions"
    assert qa.ask("another voter", voter="bob")["type"] == "asked"
    qa.now = NOW + QUESTION_WINDOW + 0.5  # the first has left the window
    assert qa.ask("one more")["type"] == "asked"


def test_upvotes(qa: Book) -> None:
    """One upvote per voter, taken back by unvote; never one's own."""
    qa.ask("Q?", voter="ann")
    assert qa.do("upvote", "q1", "bob") == {"type": "upvoted", "question": "q1", "upvoted": True, "upvotes": 1}
    assert qa.do("upvote", "q1", "bob")["upvotes"] == 1
    assert qa.do("upvote", "q1", "carl")["upvotes"] == 2
    assert qa.do("unvote", "q1", "bob") == {"type": "upvoted", "question": "q1", "upvoted": False, "upvotes": 1}
    assert qa.do("unvote", "q1", "bob")["upvotes"] == 1  # nothing to take back
    assert code(qa.do("upvote", "q1", "ann")) == "own_question"
    assert code(qa.do("upvote", "q7", "bob")) == "unknown_question"
    assert qa.book.qa.questions["q1"].upvoters == {"carl"}


def test_upvotes_of_a_batch_are_one_change(qa: Book) -> None:
    qa.ask("Q?")
    qa.changes()
    for voter in range(100):
        qa.do("upvote", "q1", f"v{voter}")
    changes = qa.changes()
    assert len(changes) == 1 and changes[0]["upvotes"] == 100
    assert len(qa.effects.store.upvotes) == 100


def test_moderation(qa: Book) -> None:
    """With moderation on, a question waits: unknown to others until approved."""
    assert qa.admin("qa_settings", moderation=True) == {"type": "ok", "question": None}
    assert qa.ask("Pending?")["question"]["state"] == "waiting"
    assert code(qa.do("upvote", "q1", "bob")) == "unknown_question"
    assert [q["id"] for q in qa.book.qa.welcome("bob")["questions"]] == []
    assert [q["state"] for q in qa.book.qa.welcome("ann")["questions"]] == ["waiting"]
    assert [q["id"] for q in qa.book.qa.welcome(None)["questions"]] == ["q1"]
    assert qa.admin("approve_question", question="q1") == {"type": "ok", "question": "q1"}
    assert qa.do("upvote", "q1", "bob")["upvotes"] == 1


def test_dismiss_and_answer(qa: Book) -> None:
    qa.ask("One")
    qa.ask("Two")
    qa.do("upvote", "q1", "bob")
    qa.admin("dismiss_question", question="q1")
    assert [q["id"] for q in qa.book.qa.welcome("bob")["questions"]] == ["q2"]
    assert code(qa.do("upvote", "q1", "carl")) == "unknown_question"
    qa.now += 5
    qa.admin("answer_question", question="q2")
    q2 = qa.book.qa.questions["q2"]
    assert (q2.state, q2.answered_at) == ("answered", NOW + 5)
    assert code(qa.do("upvote", "q2", "bob")) == "question_answered"
    assert qa.do("unvote", "q2", "bob")["upvoted"] is False
    assert code(qa.admin("answer_question", question="q9")) == "unknown_question"


def test_highlight(qa: Book) -> None:
    """Highlighting approves a waiting question; answering it ends the highlight."""
    qa.admin("qa_settings", moderation=True)
    qa.ask("Stage me")
    qa.changes()
    qa.admin("highlight_question", question="q1")
    changes = qa.changes()
    assert changes[0]["state"] == "published" and changes[-1]["highlight"] == "q1"
    qa.admin("answer_question", question="q1")
    assert qa.changes()[-1] == {"type": "qa", "moderation": True, "open": True, "highlight": None, "stage": "poll"}
    assert code(qa.admin("highlight_question", question="q1")) == "bad_message"
    qa.admin("highlight_question", question=None)
    assert qa.book.qa.highlight is None


def test_closed_for_questions_but_upvotes_go_on(qa: Book) -> None:
    qa.ask("Before")
    qa.admin("qa_settings", open=False, stage="qa")
    assert code(qa.ask("After")) == "qa_closed"
    assert qa.do("upvote", "q1", "bob")["upvotes"] == 1
    assert qa.book.qa.settings_json() == {"moderation": False, "open": False, "highlight": None, "stage": "qa"}


def test_presenter_commands_need_a_presenter(qa: Book) -> None:
    qa.ask("Q")
    for kind in ("approve_question", "dismiss_question", "answer_question", "highlight_question"):
        assert code(qa.do(kind, "q1", "bob")) == "forbidden"
    assert code(qa.send('{"type":"qa_settings","open":false}', "bob")) == "forbidden"
    assert qa.book.qa.questions["q1"].state == "published" and qa.book.qa.open


def test_hello_reply_carries_the_voters_marks(qa: Book) -> None:
    qa.ask("Mine", voter="ann")
    qa.ask("Bob's", voter="bob")
    qa.do("upvote", "q2", "ann")
    reply = qa.send('{"type":"hello","voter":"ann"}', "ann")
    assert reply["qa"] == {"mine": ["q1"], "upvoted": ["q2"]}


def test_no_voter_id_leaves_the_book(qa: Book) -> None:
    """Questions as sent carry no voter id, in welcomes, replies and changes."""
    qa.ask("Secret asker", voter="voter-ann-1234")
    qa.do("upvote", "q1", "voter-bob-5678")
    sent = json.dumps([qa.book.qa.welcome(None), qa.book.qa.welcome("x"), qa.changes()])
    assert "voter-ann" not in sent and "voter-bob" not in sent


def test_snapshot_restores_the_qa(qa: Book) -> None:
    qa.admin("qa_settings", moderation=True, stage="qa")
    qa.ask("One", name="Ann")
    qa.ask("Two", voter="bob")
    qa.admin("highlight_question", question="q2")
    qa.do("upvote", "q2", "carl")
    qa.admin("dismiss_question", question="q1")
    restored = PollBook.restore(json.loads(json.dumps(qa.book.snapshot())))
    assert restored.snapshot() == qa.book.snapshot()
    assert restored.qa.welcome("bob") == qa.book.qa.welcome("bob")
    # and it goes on alike: the duplicate rule still knows what bob asked
    reply = restored.apply(Ask("Two"), voter="bob", admin=False, now=NOW + 1)[0]
    assert reply["code"] == "duplicate_question"


def test_restore_rows() -> None:
    """The store's form: rows in asking order, upvotes as pairs."""
    qa = QandA.restore_rows(
        {"moderation": True, "open": False, "highlight": "q2", "stage": "qa"},
        [("q1", "ann", None, "One", "answered", NOW, NOW + 1), ("q2", "bob", "Bob", "Two", "published", NOW + 2, None)],
        [("q2", "ann"), ("q2", "carl")],
    )
    assert [q.upvotes for q in qa.questions.values()] == [0, 2]
    assert qa.settings_json() == {"moderation": True, "open": False, "highlight": "q2", "stage": "qa"}


def test_every_qa_command_survives_the_shared_log() -> None:
    for command in (
        Ask("Why?", "Ann"), Ask("Why?", None), Upvote("q1", True), Upvote("q1", False),
        QuestionAction("answered", "q3"), Highlight("q2"), Highlight(None), QASettings(True, None, "qa"),
    ):
        assert decode_command(encode_command(command)) == command


def test_hub_api() -> None:
    with Hub() as hub:
        question = hub.ask("From Python?", name="Script")
        assert question["mine"] and question["state"] == "published"
        assert hub.upvote(question["id"], voter="ann") == 1
        assert hub.upvote(question["id"]) == 2
        assert hub.unvote(question["id"], "ann") == 1
        with pytest.raises(UnknownQuestion):
            hub.upvote("q99")
        with pytest.raises(BadQuestion):
            hub.ask(" ")
        with pytest.raises(BadMessage):
            hub.qa_settings(stage="wall")
        assert hub.qa_settings(moderation=True)["moderation"] is True
        waiting = hub.ask("Needs approval", voter="bob")
        with pytest.raises(DuplicateQuestion):
            hub.ask("needs approval", voter="bob")
        hub.highlight_question(waiting["id"])
        hub.answer_question(question["id"])
        hub.dismiss_question(waiting["id"])
        assert [(q["id"], q["state"]) for q in hub.questions()] == [("q1", "answered"), ("q2", "dismissed")]
        assert hub.qa_settings()["highlight"] is None
        with pytest.raises(OwnQuestion):
            hub.upvote(hub.ask("Own", voter="dan")["id"], "dan")
        with pytest.raises(QuestionAnswered):
            hub.upvote(question["id"], voter="eve")
        hub.qa_settings(open=False)
        with pytest.raises(QAClosed):
            hub.ask("Too late")


def test_too_many_questions_through_the_hub() -> None:
    with Hub() as hub:
        for number in range(QUESTIONS_PER_WINDOW):
            hub.ask(f"Question number {number}", voter="ann")
        with pytest.raises(TooManyQuestions):
            hub.ask("eleventh", voter="ann")


def test_a_batch_changing_several_questions_is_one_message() -> None:
    """Upvotes on three questions applied in one batch reach a client as one ``questions`` message."""
    with Hub() as hub:
        ids = [hub.ask(f"Question {n}?", voter=f"asker{n}")["id"] for n in range(3)]
        watcher = Recorder("watcher")
        hub.register(watcher)
        watcher.next("welcome")
        started, release = threading.Event(), threading.Event()

        def hold() -> None:  # keeps the hub thread busy while the upvotes queue up behind it
            started.set()
            release.wait(TIMEOUT)

        hub._put(_Call(hold, _Result()))
        assert started.wait(TIMEOUT)
        callers = [_Caller("voter") for _ in ids]
        for caller, question_id in zip(callers, ids):
            hub.submit(caller, Upvote(question_id, True))
        release.set()
        for caller in callers:
            assert caller.wait(TIMEOUT)["upvotes"] == 1
        message = watcher.next("questions")
        assert [(q["id"], q["upvotes"]) for q in message["questions"]] == [(i, 1) for i in ids]
        assert [m["type"] for m in watcher.drain()] == []  # and no question message besides


# Over a real server ------------------------------------------------------------------


def test_questions_live_over_websocket(peers: Any) -> None:
    """A question reaches everyone at once; the asker's reply says it is theirs; no voter id on the wire."""
    presenter = peers(token="secret")
    ann, bob = peers("ann-secret-voter"), peers("bob-secret-voter")
    assert ann.welcome["qa"] == {"moderation": False, "open": True, "highlight": None, "stage": "poll", "questions": []}
    asked = ann.send({"type": "ask", "text": "Live?", "name": "Ann", "ref": 4}, "asked")
    assert asked["ref"] == 4 and asked["question"]["mine"] is True
    for peer in (bob, presenter):
        assert peer.next("question")["question"]["text"] == "Live?"
    upvoted = bob.send({"type": "upvote", "question": "q1", "ref": "u"}, "upvoted")
    assert upvoted == {"type": "upvoted", "question": "q1", "upvoted": True, "upvotes": 1, "ref": "u"}
    assert ann.next("question")["question"]["upvotes"] == 1
    received = [m for m in ann.seen + bob.seen + presenter.seen if m["type"] != "hello"]  # (one's own id)
    assert "secret-voter" not in json.dumps(received)


def test_waiting_and_dismissed_questions_stay_with_presenters(peers: Any) -> None:
    """A participant never receives another's waiting or dismissed question, nor on reconnecting."""
    presenter = peers(token="secret")
    presenter.send({"type": "qa_settings", "moderation": True}, "ok")
    ann, bob = peers("ann"), peers("bob")
    ann.send({"type": "ask", "text": "Pending one"}, "asked")
    assert presenter.next("question")["question"]["state"] == "waiting"
    bob.send({"type": "ask", "text": "Bob's own"}, "asked")
    assert presenter.next("question")["question"]["text"] == "Bob's own"
    # a reconnecting ann sees her own waiting question, not bob's
    again = peers("ann")
    assert [q["text"] for q in again.welcome["qa"]["questions"]] == []  # welcome before the hello: an onlooker's
    assert again.hello["qa"] == {"mine": ["q1"], "upvoted": []}
    # its own waiting question came with the hello (before the reply, as a poll's full state does)
    assert [m["question"]["text"] for m in again.seen if m["type"] == "question"] == ["Pending one"]
    presenter.send({"type": "approve_question", "question": "q1"}, "ok")
    published = bob.next("question")["question"]
    assert (published["id"], published["state"]) == ("q1", "published")
    presenter.send({"type": "dismiss_question", "question": "q2"}, "ok")
    presenter.send({"type": "answer_question", "question": "q1"}, "ok")
    assert ann.next("question_removed")["question"] == "q2"
    texts = [m["question"]["text"] for m in ann.seen if m["type"] == "question"]
    assert "Bob's own" not in texts
    bob_again = peers("bob")  # a dismissed question stays with presenters, even for its asker
    assert "Bob's own" not in json.dumps(bob_again.seen) and bob_again.hello["qa"]["mine"] == ["q2"]
    late = peers("carl")
    assert [(q["id"], q["state"]) for q in late.welcome["qa"]["questions"]] == [("q1", "answered")]
    # a presenter's hello brings the questions a participant's welcome left out
    second = peers(token="secret")
    questions = second.welcome["qa"]["questions"] + [m["question"] for m in second.seen if m["type"] == "question"]
    assert {q["id"]: q["state"] for q in questions} == {"q1": "answered", "q2": "dismissed"}


def test_metrics_count_questions_and_upvotes(server: PollServer, peers: Any) -> None:
    ann, bob = peers("ann"), peers("bob")
    ann.send({"type": "ask", "text": "Counted?"}, "asked")
    bob.send({"type": "upvote", "question": "q1"}, "upvoted")
    bob.send({"type": "unvote", "question": "q1"}, "upvoted")
    bob.send({"type": "upvote", "question": "q1"}, "upvoted")
    text = metrics(server.port)
    assert "\npollhub_questions_asked_total 1\n" in text
    assert "\npollhub_upvotes_total 3\n" in text


def test_errors_keep_the_connection_open(peers: Any) -> None:
    ann = peers("ann")
    ann.send({"type": "ask", "text": "First"}, "asked")
    for message, expected in (
        ({"type": "ask", "text": ""}, "bad_question"),
        ({"type": "ask", "text": "y" * 281}, "bad_question"),
        ({"type": "ask", "text": "FIRST"}, "duplicate_question"),
        ({"type": "upvote", "question": "q1"}, "own_question"),
        ({"type": "upvote", "question": "q5"}, "unknown_question"),
        ({"type": "answer_question", "question": "q1"}, "forbidden"),
        ({"type": "ask", "text": {"deep": [[[]]]}}, "bad_question"),
    ):
        assert ann.send({**message, "ref": 1}, "error")["code"] == expected, message
    assert ann.send({"type": "ask", "text": "Still here?"}, "asked")["question"]["id"] == "q2"


def test_asking_and_upvoting_count_against_the_vote_rate(hub: Hub) -> None:
    """A burst of questions and upvotes from one voter meets the server's per-voter rate limit."""
    hub.ask("Upvote me", voter="someone")
    with PollServer(hub, port=0, token="secret", max_vote_rate=1, max_address_vote_rate=0) as limited:
        peer = Peer(limited, "ann")
        try:
            burst = [{"type": "ask", "text": f"Burst {n}"} for n in range(10)]
            burst += [{"type": "upvote" if n % 2 else "unvote", "question": "q1"} for n in range(10)]
            for ref, message in enumerate(burst):
                peer.ws.send(json.dumps({**message, "ref": ref}))
            replies: Dict[int, Dict[str, Any]] = {}
            while len(replies) < len(burst):
                message = json.loads(peer.ws.recv())
                if "ref" in message:
                    replies[message["ref"]] = message
            assert replies[0]["type"] == "asked"
            assert [r.get("code") for r in replies.values()].count("rate_limited") >= 15
        finally:
            peer.close()


# README.rst's example session -----------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.rst"


def readme_session() -> List[str]:
    """The Q&A session in README.rst, one line per message (wrapped lines joined)."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("A session (``>`` sent by Ann's page"))
    session: List[str] = []
    for line in lines[start + 2:]:
        if line and not line.startswith("    "):
            break
        if line.startswith("       "):
            session[-1] += line[7:]
        elif line.strip():
            session.append(line[4:])
    return session


def untimed(message: Any) -> Any:
    """``message`` with every question's times replaced: they are the server's clock."""
    if isinstance(message, dict):
        return {k: "T" if k in ("asked_at", "answered_at") and v is not None else untimed(v) for k, v in message.items()}
    if isinstance(message, list):
        return [untimed(item) for item in message]
    return message


def test_the_readme_session_is_what_a_server_says(hub: Hub) -> None:
    """Replay README.rst's Q&A session against a real server: every reply, in order, as written."""
    session = readme_session()
    assert len(session) > 20
    with PollServer(hub, port=0, token="s3cret", max_vote_rate=0) as server:
        ws = websocket.create_connection(server.url, timeout=TIMEOUT)
        bob = websocket.create_connection(server.url, timeout=TIMEOUT)  # another participant, present throughout
        try:
            for line in session:
                if line.startswith("> "):
                    ws.send(line[2:])
                elif line.startswith("< "):
                    assert untimed(json.loads(ws.recv())) == untimed(json.loads(line[2:])), line
                else:
                    bob_asks = re.fullmatch(r'\(Bob asks "(.*)"\)', line)
                    assert bob_asks is not None, line
                    bob.send(json.dumps({"type": "ask", "text": bob_asks.group(1)}))
        finally:
            ws.close()
            bob.close()
