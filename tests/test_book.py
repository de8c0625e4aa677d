"""The PollBook alone: pure, deterministic, driven with an explicit time.

No hub, no thread, no clock: every test says what time it is. The property
tests apply random sequences of every command to two books (one of them
restored from a snapshot halfway) and require the same replies, results and
state from both.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollhub import book as book_module
from pollhub.book import Effects, PollBook
from pollhub.polls import Settings
from pollhub.protocol import (
    Ask,
    CreatePoll,
    Hello,
    HideAnswer,
    Highlight,
    OpenPoll,
    OrderPolls,
    PollAction,
    QASettings,
    QuestionAction,
    RenameNickname,
    ResetQuiz,
    SetNickname,
    Step,
    UpdatePoll,
    Upvote,
    Vote,
)

T0 = 1_700_000_000.0  # the time the tests start at, in seconds
EXAMPLES = int(os.environ.get("POLLHUB_BOOK_EXAMPLES", "150"))


def apply(book: PollBook, command: Any, voter: str = "ann", admin: bool = True, now: float = T0) -> Dict[str, Any]:
    reply, _ = book.apply(command, voter=voter, admin=admin, now=now)
    return reply


def test_the_book_module_does_no_io() -> None:
    """It imports nothing that reads a clock, starts a thread or touches a socket, a queue or a file."""
    tree = ast.parse(Path(book_module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"threading", "queue", "socket", "sqlite3", "time", "websocket_server", "select", "os"}


def test_a_vote_replies_and_says_which_results_changed() -> None:
    book = PollBook()
    assert apply(book, CreatePoll("Lunch?", ("Pizza", "Salad"), ref=1)) == {"type": "ok", "poll": "lunch", "ref": 1}
    reply, effects = book.apply(Vote("pizza", ref=2), voter="ann", admin=False, now=T0)
    assert reply == {"type": "voted", "poll": "lunch", "option": "pizza", "ref": 2}
    assert list(effects.results) == ["lunch"]
    assert effects.store.ballots == {("lunch", "ann"): ("pizza",)}
    assert book.results(effects) == [
        ("lunch", {"type": "results", "poll": "lunch", "counts": {"pizza": 1, "salad": 0}, "total": 1, "voters": 1, "seq": 1})
    ]
    assert not effects.results and book.seq == 1


def test_refusals_are_error_replies_that_change_nothing() -> None:
    book = PollBook()
    apply(book, CreatePoll("Lunch?", ("Pizza", "Salad")))
    before = book.snapshot()
    reply = apply(book, CreatePoll("Again?", ("A", "B"), ref="r"), admin=False)
    assert reply["type"] == "error" and reply["code"] == "forbidden" and reply["ref"] == "r"
    assert apply(book, Vote("nope"), admin=False)["code"] == "unknown_option"
    assert apply(book, PollAction("close", "nope"))["code"] == "unknown_poll"
    assert book.snapshot() == before


def test_a_countdown_runs_on_the_time_it_is_given() -> None:
    book = PollBook()
    apply(book, CreatePoll("Quick!", ("A", "B")))
    _, effects = book.apply(OpenPoll("quick", close_after=30), voter="ann", admin=True, now=T0)
    poll_message = effects.broadcasts[-1][1]
    assert poll_message["poll"]["closes_in"] == 30.0
    assert book.next_deadline() == T0 + 30
    assert book.welcome([True], now=T0 + 10.04)["polls"][0]["closes_in"] == 20.0
    assert book.close_expired(T0 + 29.9, Effects()) == []
    effects = Effects()
    assert book.close_expired(T0 + 30, effects) == ["quick"]
    assert book.polls["quick"].open is False and book.next_deadline() is None
    assert effects.store.ops == [("open", "quick", False, None)]
    assert apply(book, Vote("a"), admin=False, now=T0 + 31)["code"] == "poll_closed"


def test_reopening_ends_a_countdown_whatever_time_passes() -> None:
    book = PollBook()
    apply(book, CreatePoll("Quick!", ("A", "B")))
    apply(book, OpenPoll("quick", close_after=1), now=T0)
    apply(book, OpenPoll("quick"), now=T0 + 0.5)
    assert book.close_expired(T0 + 3600, Effects()) == []
    assert book.polls["quick"].open


def test_a_restored_book_keeps_its_countdowns() -> None:
    book = PollBook()
    apply(book, CreatePoll("Quick!", ("A", "B")))
    apply(book, OpenPoll("quick", close_after=60), now=T0)
    again = PollBook.restore(json.loads(json.dumps(book.snapshot())))
    assert again.next_deadline() == T0 + 60
    assert again.close_expired(T0 + 60, Effects()) == ["quick"]


def test_snapshots_of_another_version_are_refused() -> None:
    snapshot = PollBook().snapshot()
    with pytest.raises(ValueError, match="version"):
        PollBook.restore({**snapshot, "version": 99})
    with pytest.raises(ValueError):
        PollBook.restore({"version": snapshot["version"]})


def test_word_clouds_restore_with_their_first_spellings_and_tie_order() -> None:
    """What the database does not keep: which spelling came first, and the order ties are shown in."""
    book = PollBook()
    apply(book, CreatePoll("One word?", (), Settings("words", max_answers=3)))
    apply(book, Vote(["Spam", "Eggs"]), voter="ann", admin=False)
    apply(book, Vote(["SPAM", "Ham"]), voter="bob", admin=False)
    apply(book, Vote(["Toast"]), voter="ann", admin=False)  # ann's "Spam" goes: bob's "SPAM" keeps the count
    restored = PollBook.restore(json.loads(json.dumps(book.snapshot())))
    assert restored.polls["one-word"].results() == book.polls["one-word"].results()
    assert list(book.polls["one-word"].results()["counts"]) == ["Spam", "Ham", "Toast"]


# Determinism over random command sequences ------------------------------------------

POLL_IDS = ["lunch", "toppings", "rating", "cloud", "claps", "ideas", "capital", "nope"]
VOTERS = ["ann", "bob", "cy", "~anon"]


def base_book() -> PollBook:
    book = PollBook()
    for command in (
        CreatePoll("Lunch?", ("Pizza", "Salad")),
        CreatePoll("Toppings?", ("Cheese", "Ham", "Olives"), Settings("multiple", max_choices=2)),
        CreatePoll("Rating?", (), Settings("scale", scale_min=1, scale_max=5, results="after_vote")),
        CreatePoll("Cloud?", (), Settings("words", max_answers=2, results="hidden", changes="locked")),
        CreatePoll("Claps?", ("Clap", "Boo"), Settings("counter", results="after_close")),
        CreatePoll("Ideas?", (), Settings("open", max_answers=2)),
        CreatePoll("Capital?", ("Paris", "Rome"), Settings("quiz", correct=("paris",), time_limit=5, changes="locked")),
    ):
        apply(book, command)
    return book


poll_ids = st.sampled_from(POLL_IDS)
question_ids = st.sampled_from(["q1", "q2", "q3", "q4"])
choices = st.one_of(
    st.sampled_from(["pizza", "salad", "cheese", "ham", "olives", "clap", "boo", "Pizza", "nope"]),
    st.lists(st.sampled_from(["cheese", "ham", "olives", "x"]), min_size=1, max_size=3),
    st.integers(-1, 7),
    st.sampled_from(["Spam", "SPAM", "Sp\u200bam", "Eggs", "Ｓｐａｍ"]),
    st.lists(st.sampled_from(["Spam", "Eggs", "Ham", "Toast"]), min_size=1, max_size=3),
)
commands = st.one_of(
    st.builds(Vote, choices, st.one_of(st.none(), poll_ids)),
    st.builds(Vote, choices, st.one_of(st.none(), poll_ids)),  # votes are most of an event
    st.builds(Hello, st.sampled_from(VOTERS), st.none()),
    st.builds(
        CreatePoll,
        st.sampled_from(["Lunch?", "More?", "Another one?"]),
        st.just(("Yes", "No")),
        st.sampled_from([Settings(), Settings("counter"), Settings(results="hidden")]),
    ),
    st.builds(PollAction, st.sampled_from(["close", "reset", "delete", "set_current", "reveal", "reveal_answer"]), poll_ids),
    st.builds(Vote, st.sampled_from(["paris", "rome"]), st.just("capital")),  # quizzes
    st.builds(SetNickname, st.sampled_from(["Ann", "ann", "Bob", "Zed"])),
    st.builds(RenameNickname, st.sampled_from(["Ann", "bob"]), st.sampled_from(["Bea", "Zed"])),
    st.builds(ResetQuiz),
    st.builds(OpenPoll, poll_ids, st.one_of(st.none(), st.sampled_from([1.0, 5.0, 60.0]))),
    st.builds(
        UpdatePoll,
        poll_ids,
        st.one_of(st.none(), st.sampled_from(["always", "after_vote", "after_close", "hidden"])),
        st.one_of(st.none(), st.sampled_from(["allowed", "locked"])),
    ),
    st.builds(HideAnswer, poll_ids, st.sampled_from(["spam", "Eggs", "nothing"])),
    st.builds(OrderPolls, st.permutations(POLL_IDS[:7]).map(tuple)),
    st.builds(Step, st.sampled_from([1, -1])),
    # the audience Q&A (question ids q1..q4 exist once asked)
    st.builds(Ask, st.sampled_from(["Why?", "WHY?", "How?", "When is lunch?"]), st.sampled_from([None, "Ann"])),
    st.builds(Upvote, question_ids, st.booleans()),
    st.builds(Upvote, question_ids, st.booleans()),
    st.builds(QuestionAction, st.sampled_from(["published", "dismissed", "answered"]), question_ids),
    st.builds(Highlight, st.one_of(st.none(), question_ids)),
    st.builds(
        QASettings,
        st.one_of(st.none(), st.booleans()),
        st.one_of(st.none(), st.booleans()),
        st.one_of(st.none(), st.sampled_from(["poll", "qa"])),
    ),
)
# (command, voter, admin, seconds since the previous step)
steps = st.lists(
    st.tuples(commands, st.sampled_from(VOTERS), st.booleans(), st.sampled_from([0.0, 0.1, 0.7, 2.0, 61.0])),
    max_size=40,
)


def run(book: PollBook, sequence: List[Tuple[Any, str, bool, float]], start: float) -> Tuple[List[Any], float]:
    """Apply ``sequence`` as the hub would (countdowns closed between batches); every output, and the time at the end."""
    outputs: List[Any] = []
    now = start
    for command, voter, admin, elapsed in sequence:
        now += elapsed
        effects = Effects()
        outputs.append(book.close_expired(now, effects))
        reply, _ = book.apply(command, voter=voter, admin=admin, now=now, effects=effects)
        outputs.append(reply)
        outputs.append([b[:2] for b in effects.broadcasts])
        outputs.append(list(effects.store.ops))
        outputs.append(sorted(effects.store.ballots.items()))
        outputs.append(sorted(effects.store.upvotes.items()))
        outputs.append(book.results(effects))
        questions, qa_settings = book.qa_changes(effects)
        outputs.append(([q.to_json() for q in questions], qa_settings))
        outputs.append(book.quiz_changes(effects))
    return outputs, now


@given(steps, steps)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_two_books_given_the_same_commands_stay_the_same(first: list, second: list) -> None:
    """The same (command, voter, admin, now) on two books, one restored from a snapshot halfway: the same everything."""
    original, copy = base_book(), base_book()
    out_a, now = run(original, first, T0)
    out_b, _ = run(copy, first, T0)
    assert out_a == out_b
    assert original.snapshot() == copy.snapshot()

    restored = PollBook.restore(json.loads(json.dumps(copy.snapshot())))  # through JSON, as it would travel
    assert restored.snapshot() == original.snapshot()
    out_a, _ = run(original, second, now)
    out_b, _ = run(restored, second, now)
    assert out_a == out_b
    assert original.snapshot() == restored.snapshot()
    assert original.welcome([True] * len(original.polls), now) == restored.welcome([True] * len(restored.polls), now)
    for voter in VOTERS:
        assert original.welcome([], now, voter)["qa"] == restored.welcome([], now, voter)["qa"]
