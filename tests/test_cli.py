"""The command line as a user runs it: ``python -m pollhub`` in a subprocess."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Iterator, List

import pytest

from pollhub.cli import GC_YOUNG_THRESHOLD, SWITCH_INTERVAL, server_settings

from .conftest import TIMEOUT
from .processes import Process


def run(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "pollhub", *args], capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.fixture
def served() -> Iterator[Process]:
    """A CLI server with one poll, on a free port."""
    process = Process.pollhub(
        "--host", "127.0.0.1", "--port", "0", "--token", "tok",
        "--question", "Best pet?", "--option", "Cat", "--option", "Dog",
    )  # fmt: skip
    yield process
    process.kill()


def url_of(process: Process) -> str:
    return process.expect(r"listening on (ws://\S+)").group(1)


def test_serve_vote_and_sigint(served: Process) -> None:
    url = url_of(served)
    voted = run("vote", url, "cat", "--voter", "ann")
    assert voted.returncode == 0, voted.stderr
    assert "Voted 'cat' in 'best-pet'" in voted.stdout
    again = run("vote", url, "Dog", "--voter", "ann")  # by label; moves ann's vote
    assert again.returncode == 0, again.stderr
    assert "cat 0, dog 1 (1 vote, 1 voter)" in again.stdout
    finished = served.stop(signal.SIGINT)
    assert finished.returncode == 0
    assert "Traceback" not in finished.stderr
    assert "pollhub stopped: 1 poll(s), 1 vote(s) counted, saved to " in finished.stdout


def test_sigterm_stops_cleanly(served: Process) -> None:
    url_of(served)
    finished = served.stop(signal.SIGTERM)
    assert finished.returncode == 0
    assert "Traceback" not in finished.stderr


def test_banner_shows_join_address_and_no_generated_token_when_given(served: Process) -> None:
    url_of(served)
    served.expect(r"Join from any phone or laptop")
    served.expect(r"^  http://127\.0\.0\.1:\d+/$")
    served.expect(r"[▀▄█]")  # the QR code
    served.expect(r"present#token=<your --token>")
    served.expect(r"Stop with Ctrl-C")
    assert not any("tok" in line.replace("token", "") for line in served.stdout)


def test_generated_token_is_printed_once() -> None:
    process = Process.pollhub("--host", "127.0.0.1", "--port", "0")
    try:
        token = process.expect(r"/present#token=(\S+)").group(1)
        assert len(token) >= 16
    finally:
        finished = process.stop()
    assert finished.stdout.count(token) == 1


def test_vote_errors_exit_nonzero_with_the_servers_message(served: Process) -> None:
    url = url_of(served)
    bad = run("vote", url, "hamster")
    assert bad.returncode == 1
    assert "no option 'hamster'" in bad.stderr and "unknown_option" in bad.stderr
    assert "Traceback" not in bad.stderr
    nowhere = run("vote", "ws://127.0.0.1:9/ws", "cat", "--timeout", "2")
    assert nowhere.returncode == 1
    assert "cannot reach" in nowhere.stderr


def test_watch_prints_live_results(served: Process) -> None:
    url = url_of(served)
    watcher = Process.pollhub("watch", url)
    try:
        watcher.expect(r"best-pet: cat 0, dog 0 \(0 votes, 0 voters\)")
        assert run("vote", url, "dog").returncode == 0
        watcher.expect(r"best-pet: cat 0, dog 1 \(1 vote, 1 voter\)")
    finally:
        finished = watcher.stop(signal.SIGINT)
    assert finished.returncode == 0
    assert "Traceback" not in finished.stderr


def test_bad_arguments_are_usage_errors() -> None:
    result = run("--question", "Alone?", "--option", "Only")
    assert result.returncode == 2
    assert "at least two --option" in result.stderr


def test_port_in_use_is_a_clear_error(served: Process) -> None:
    port = url_of(served).rsplit(":", 1)[1].split("/")[0]
    result = run("--host", "127.0.0.1", "--port", port, "--memory")
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_logs_never_show_the_admin_token() -> None:
    """Connections, a presenter's hello, a wrong token and a page request log no token."""
    import urllib.request

    from pollhub import Forbidden, PollClient

    server = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--memory", "--token", "s3cret-t0ken", "--log-level", "debug")
    try:
        url = url_of(server)
        with PollClient(url, token="s3cret-t0ken", timeout=TIMEOUT) as presenter:
            presenter.create_poll("Q?", ["A", "B"])
        with pytest.raises(Forbidden):
            PollClient(url, token="s3cret-t0ken-wrong", timeout=TIMEOUT)
        page = url.replace("ws://", "http://").replace("/ws", "/present")
        with urllib.request.urlopen(page, timeout=TIMEOUT) as reply:
            assert b"s3cret" not in reply.read()
        finished = server.stop()
    finally:
        server.kill()
    assert "connected" in finished.stderr  # the INFO lines are there ...
    assert "wrong admin token" in finished.stderr
    assert "s3cret" not in finished.stderr  # ... but never the token


def test_serve_a_poll_of_each_new_kind_and_vote_from_the_command_line() -> None:
    """--kind with its settings; ``vote`` sends several options, a value or answers."""
    for flags, choices, shown in (
        (["--kind", "multiple", "--option", "Red", "--option", "Green", "--option", "Blue", "--max-choices", "2"],
         ["red", "Blue"], "Voted ['red', 'blue'] in 'q': red 1, green 0, blue 1 (2 votes, 1 voter)"),
        (["--kind", "scale", "--scale", "0-10"], ["7"], "Voted 7 in 'q':"),
        (["--kind", "words", "--results", "hidden"], ["big", "red"], "Voted ['big', 'red'] in 'q': results not shown yet"),
    ):  # fmt: skip
        server = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--memory", "--question", "Q", *flags)
        try:
            voted = run("vote", url_of(server), *choices, "--voter", "ann")
            assert voted.returncode == 0, voted.stderr
            assert shown in voted.stdout
            refused = run("vote", url_of_again(server), "x" * 60, "--voter", "bob")
            assert refused.returncode == 1 and "Traceback" not in refused.stderr
            server.stop()
        finally:
            server.kill()


def url_of_again(process: Process) -> str:
    """The URL printed earlier (the banner's first line was consumed by url_of)."""
    return next(line.split("listening on ")[1].strip() for line in process.stdout if "listening on " in line)


def test_scale_mean_in_vote_output() -> None:
    server = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--memory", "--question", "Rate", "--kind", "scale")
    try:
        url = url_of(server)
        assert run("vote", url, "4", "--voter", "ann").returncode == 0
        voted = run("vote", url, "5", "--voter", "bob")
        assert "(2 votes, 2 voters, mean 4.5)" in voted.stdout
        server.stop()
    finally:
        server.kill()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--question", "Q", "--kind", "scale", "--option", "A", "--option", "B"], "scale polls take no options"),
        (["--question", "Q", "--kind", "scale", "--scale", "5-1"], "min below max"),
        (["--question", "Q", "--kind", "scale", "--scale", "one-five"], "expected MIN-MAX"),
        (["--question", "Q", "--option", "A", "--option", "B", "--max-choices", "1"], "does not apply to single polls"),
        (["--max-answers", "2"], "--max-answers needs --question"),
        (["--question", "Q", "--kind", "words", "--close-after", "0"], "close_after"),
    ],
)
def test_bad_kind_flags_are_clear_errors(args: list, message: str) -> None:
    result = run("--port", "0", "--memory", *args)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_serving_settings_apply_while_serving_and_are_restored() -> None:
    """The GIL switch interval and the collector's threshold are the CLI's to set, and only while it serves."""
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    with server_settings():
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert sys.getswitchinterval() == pytest.approx(interval)
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


# Hardening ---------------------------------------------------------------------------


def test_watch_lines_escape_what_the_server_sent() -> None:
    """Poll ids, answers and option keys from a server reach the terminal with no escape sequence or bidi override."""
    from pollhub.cli import _describe

    evil = "x\x1b[2J\x1b]0;owned\x07\u202eevil\nline"
    counts = {evil: 2, "ok": 1}
    messages = [
        {"type": "welcome", "polls": [{"id": evil, "counts": counts, "total": 3, "voters": 2}]},
        {"type": "results", "poll": evil, "counts": counts, "total": 3, "voters": 2, "seq": 1},
        {"type": "poll", "poll": {"id": evil, "open": True, "counts": counts, "total": 3, "voters": 2}},
        {"type": "current", "poll": evil},
        {"type": "order", "polls": [evil, "b"]},
        {"type": "deleted", "poll": evil},
        {"type": "leaderboard", "poll": None, "top": [{"rank": 1, "nickname": evil, "score": 975, "moved": None}], "participants": 1},
    ]
    for message in messages:
        line = _describe(message, None)
        assert line is not None and "\\x1b[2J" in line, line
        assert not any(ch in line for ch in "\x1b\x07\u202e\n"), repr(line)


def test_sigterm_exits_within_two_seconds() -> None:
    process = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--memory")
    try:
        url_of(process)
        process.expect(r"Keeping everything in memory")
        started = time.monotonic()
        finished = process.stop(signal.SIGTERM)
        assert time.monotonic() - started < 2.0
    finally:
        process.kill()
    assert finished.returncode == 0, finished.stderr
    assert "pollhub stopped: 0 poll(s), 0 vote(s) counted." in finished.stdout


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the hub thread's death, on purpose
def test_serving_ends_at_once_with_status_1_when_the_hub_thread_dies(capsys: pytest.CaptureFixture) -> None:
    """The serving loop notices a dead hub thread, stops the server (clients get their close) and returns 1, fast."""
    from pollhub import Hub, PollClient, PollServer
    from pollhub.cli import serve
    from pollhub.hub import _Call, _Result
    from pollhub.signals import StopRequest

    hub = Hub().start()
    server = PollServer(hub, port=0, close_timeout=0.5).start()
    stop = StopRequest()
    status: List[int] = []
    loop = threading.Thread(target=lambda: status.append(serve(server, hub, stop)), name="test-serve")
    client = PollClient(server.url, timeout=TIMEOUT)
    try:
        loop.start()

        def die() -> None:
            raise SystemExit  # not an Exception: nothing in the hub thread catches it

        hub._put(_Call(die, _Result()))  # the hub thread ends as if by a bug
        started = time.monotonic()
        loop.join(TIMEOUT)
        assert not loop.is_alive() and status == [1]
        assert time.monotonic() - started < 2.0
        client.wait_for(lambda c: c.closed)
    finally:
        stop.set()
        loop.join(TIMEOUT)
        client.close()
        server.stop()
        hub.stop()
    out, err = capsys.readouterr()
    assert "the hub thread stopped unexpectedly" in err
    assert "pollhub stopped: the polls could not be read" in out


def test_limit_flags_reach_the_server() -> None:
    """--new-voter-burst and --new-voter-rate: a second new voter from this address is refused."""
    from pollhub import PollClient, RateLimited

    process = Process.pollhub(
        "--host", "127.0.0.1", "--port", "0", "--memory", "--new-voter-burst", "1", "--new-voter-rate", "0.001",
        "--max-vote-rate", "5", "--max-address-vote-rate", "50", "--allow-origin", "https://example.org",
    )  # fmt: skip
    try:
        url = url_of(process)
        with PollClient(url, voter="ann", timeout=TIMEOUT):
            pass
        with pytest.raises(RateLimited):
            PollClient(url, voter="bob", timeout=TIMEOUT)
        with PollClient(url, voter="ann", timeout=TIMEOUT):  # known: no new voter
            pass
        finished = process.stop()
    finally:
        process.kill()
    assert finished.returncode == 0 and "Traceback" not in finished.stderr


def test_allow_host_is_repeatable() -> None:
    from pollhub.cli import serve_parser

    args = serve_parser().parse_args(["--allow-host", "polls.example.org", "--allow-host", "10.0.0.5"])
    assert args.allow_host == ["polls.example.org", "10.0.0.5"]
    assert serve_parser().parse_args([]).allow_host == []


def test_join_url_is_what_participants_are_shown_and_its_host_is_answered() -> None:
    """Behind a proxy the banner, the QR code and the presenter's link show the public address."""
    process = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--memory", "--join-url", "https://polls.example.org")
    try:
        port = int(process.expect(r"listening on ws://127\.0\.0\.1:(\d+)/ws").group(1))
        process.expect(r"^Join at https://polls\.example\.org/$")
        process.expect(r"Presenter page .*: https://polls\.example\.org/present#token=")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": "polls.example.org"})
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            assert response.status == 200
    finally:
        finished = process.stop()
    assert finished.returncode == 0
    refused = subprocess.run(
        [sys.executable, "-m", "pollhub", "--memory", "--join-url", "polls.example.org"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert refused.returncode == 2 and "--join-url" in refused.stderr


# Audience Q&A: ask, upvote, unvote ----------------------------------------------------


@pytest.fixture
def qa_served() -> Iterator[Process]:
    """A CLI server kept in memory, admin token ``tok``, on a free port."""
    process = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--memory", "--token", "tok")
    yield process
    process.kill()


def test_ask_upvote_and_unvote_from_the_command_line(served: Process) -> None:
    """Against a server that saves to its database: each reply comes once the change is saved."""
    url = url_of(served)
    asked = run("ask", url, "  Can we   have a break? ", "--name", "Ann", "--voter", "ann")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip() == "Asked q1 (published): Can we have a break?"
    for voter, shown in (("bob", "1 upvote"), ("cat", "2 upvotes"), ("bob", "2 upvotes")):  # bob again: still one upvote
        upvoted = run("upvote", url, "q1", "--voter", voter)
        assert upvoted.returncode == 0, upvoted.stderr
        assert upvoted.stdout.strip() == f"Upvoted q1: {shown}"
    unvoted = run("unvote", url, "q1", "--voter", "cat")
    assert unvoted.returncode == 0, unvoted.stderr
    assert unvoted.stdout.strip() == "Took back the upvote of q1: 1 upvote"
    own = run("upvote", url, "q1", "--voter", "ann")
    assert own.returncode == 1
    assert "(own_question)" in own.stderr and "Traceback" not in own.stderr


def test_ask_says_when_a_question_waits_for_approval(qa_served: Process) -> None:
    from pollhub import PollClient

    url = url_of(qa_served)
    with PollClient(url, token="tok", timeout=TIMEOUT) as presenter:
        presenter.qa_settings(moderation=True)
        asked = run("ask", url, "Held back?")
        assert asked.returncode == 0, asked.stderr
        assert asked.stdout.strip() == "Asked q1 (waiting for a presenter to approve it): Held back?"
        unseen = run("upvote", url, "q1")  # others may not see it yet
        assert unseen.returncode == 1 and "(unknown_question)" in unseen.stderr
        presenter.qa_settings(open=False)
    closed = run("ask", url, "Still there?")
    assert closed.returncode == 1
    assert "(qa_closed)" in closed.stderr and "Traceback" not in closed.stderr
    assert qa_served.stop().returncode == 0


def test_ask_errors_exit_nonzero_with_the_servers_message(qa_served: Process) -> None:
    url = url_of(qa_served)
    for args, code in ((["   "], "bad_question"), (["x" * 281], "bad_question"), (["Fine?", "--name", "n" * 41], "bad_question")):
        refused = run("ask", url, *args)
        assert refused.returncode == 1, refused.stdout
        assert f"({code})" in refused.stderr and "Traceback" not in refused.stderr
    missing = run("upvote", url, "q7")
    assert missing.returncode == 1 and "(unknown_question)" in missing.stderr
    nowhere = run("ask", "ws://127.0.0.1:9/ws", "Anyone?", "--timeout", "2")
    assert nowhere.returncode == 1
    assert "pollhub ask: cannot reach" in nowhere.stderr
    usage = run("ask", url)
    assert usage.returncode == 2 and "text" in usage.stderr


def test_vote_in_a_ranking_sends_the_choices_in_order() -> None:
    """``vote URL first second third`` is a ranking, first to last; one choice is a ranking of one; errors exit 1."""
    options = [arg for label in ("Tea", "Coffee", "Water", "Juice") for arg in ("--option", label)]
    server = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--memory", "--question", "Q", "--kind", "ranking", *options)
    try:
        url = url_of(server)
        voted = run("vote", url, "water", "Tea", "COFFEE", "--voter", "ann")
        assert voted.returncode == 0, voted.stderr
        assert voted.stdout.strip() == (
            "Voted ['water', 'tea', 'coffee'] in 'q': water 3 (place 1), tea 2 (place 2), coffee 1 (place 3), juice 0"
            " (6 points, 1 voter)"
        )
        one = run("vote", url, "tea", "--voter", "bob")
        assert one.returncode == 0, one.stderr
        assert one.stdout.startswith("Voted ['tea'] in 'q': tea 5 (place 1.5), water 3 (place 1), coffee 1 (place 3)")
        for choices, message in (
            (["tea", "Tea"], "rank each option once in poll 'q' (invalid_vote)"),
            (["tea", "milk"], "no option 'milk' (unknown_option)"),
        ):
            refused = run("vote", url, *choices, "--voter", "cy")
            assert refused.returncode == 1 and message in refused.stderr and "Traceback" not in refused.stderr
        server.stop()
    finally:
        server.kill()


# Quizzes: vote --nickname -------------------------------------------------------------


def test_vote_with_a_nickname_answers_a_quiz_and_a_taken_nickname_says_which_is_free(served: Process) -> None:
    from pollhub import PollClient

    url = url_of(served)
    with PollClient(url, token="tok", timeout=TIMEOUT) as presenter:
        poll = presenter.create_poll("Capital?", ["Paris", "Rome"], "quiz", correct=["Paris"], time_limit=60)
        presenter.open_poll(poll)
        anonymous = run("vote", url, "paris", "--poll", poll, "--voter", "ann")
        assert anonymous.returncode == 1 and "(nickname_required)" in anonymous.stderr
        answered = run("vote", url, "Paris", "--poll", poll, "--voter", "ann", "--nickname", "Ann")
        assert answered.returncode == 0, answered.stderr
        assert f"Voted ['paris'] in '{poll}' as 'Ann': results not shown yet" in answered.stdout  # until it closes
        taken = run("vote", url, "rome", "--poll", poll, "--voter", "bob", "--nickname", "ANN")
        assert taken.returncode == 1
        assert "(nickname_taken); try --nickname '" in taken.stderr and "Traceback" not in taken.stderr
        suggestion = taken.stderr.split("try --nickname '")[1].split("'")[0]
        again = run("vote", url, "rome", "--poll", poll, "--voter", "bob", "--nickname", suggestion)
        assert again.returncode == 0, again.stderr
        assert presenter.wait_for(lambda c: c.results(poll) == {"paris": 1, "rome": 1})
        watcher = Process.pollhub("watch", url)
        try:
            watcher.expect(r"best-pet: cat 0, dog 0")
            presenter.close_poll(poll)
            presenter.reveal_answer(poll)
            line = watcher.expect(r"leaderboard \(2 participants\): 1\. Ann (\d+), 2\. (.+) 0$")
            assert 500 <= int(line.group(1)) <= 1000 and line.group(2) == suggestion
        finally:
            finished = watcher.stop(signal.SIGINT)
        assert finished.returncode == 0 and "Traceback" not in finished.stderr
