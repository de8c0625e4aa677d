"""The results export: the formula guard, ``pollhub export`` and the server's ``/export.csv`` and ``/export.json``."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from pollhub import Hub, PollServer
from pollhub.export import (
    EXPORT_COLUMNS, FORMULA_STARTS, QUESTION_COLUMNS, RANKING_COLUMNS, export_document, filename, guard_cell, iso_time,
    to_csv,
)
from pollhub.polls import OPEN, OPEN_SHOWN, RANKING, SCALE, WORDS, WORDS_SHOWN, PollState, Settings
from pollhub.qa import ANSWERED, DISMISSED, PUBLISHED, QandA

from .conftest import TIMEOUT
from .redis_server import RedisServer

TOKEN = "secret"
DANGEROUS = ["=HYPERLINK(\"http://x.example\",\"go\")", "+1", "-2", "@cmd", "\t=1+2", "\r@SUM(A1)"]


def rows_of(text: str) -> List[List[str]]:
    return list(csv.reader(io.StringIO(text)))


def cli_export(db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pollhub", "export", "--db", str(db), *args], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def request(
    server: PollServer,
    path: str,
    token: Optional[str] = TOKEN,
    method: str = "GET",
    headers: Optional[Dict[str, str]] = None,
    source: Optional[str] = None,
) -> Tuple[int, Dict[str, str], bytes]:
    """One HTTP request to ``server``: status, headers (lower-cased names) and body."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=TIMEOUT, source_address=None if source is None else (source, 0)
    )
    try:
        conn.request(method, path, headers=sent)
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def exported(served: PollServer, hub: Hub, saved: Path) -> Tuple[str, str]:
    """The server's ``/export.csv`` and ``/export.json`` as text, checked equal to ``pollhub export``'s once both are stopped."""
    status, _, csv_body = request(served, "/export.csv")
    assert status == 200
    status, _, json_body = request(served, "/export.json")
    assert status == 200
    served.stop()
    hub.stop()
    csv_text, json_text = csv_body.decode("utf-8"), json_body.decode("utf-8")
    assert csv_text == cli_export(saved)
    assert json.loads(json_text) == json.loads(cli_export(saved, "--format", "json"))
    return csv_text, json_text


def words_voting(hub: Hub, answers: List[str]) -> None:
    """A words poll ``words`` where voter ``v<i>`` gives ``answers[i]``."""
    hub.create_poll("Words?", kind=WORDS)
    for i, answer in enumerate(answers):
        hub.vote("words", answer, voter=f"v{i}")


# The guard ----------------------------------------------------------------------------


@pytest.mark.parametrize("first", FORMULA_STARTS)
def test_the_guard_quotes_every_formula_start(first: str) -> None:
    assert guard_cell(first + "1+2") == "'" + first + "1+2"
    assert guard_cell(first) == "'" + first


@pytest.mark.parametrize("text", ["", "Tea", "1+2", "a=b", "mail@example.com", " =1", "'=1", "Ｓｐａｍ", "2-1"])
def test_the_guard_leaves_safe_text_alone(text: str) -> None:
    assert guard_cell(text) == text


def test_csv_of_every_kind_guards_text_cells_only() -> None:
    """Option ids, labels, questions and answers are guarded; a scale's values and the counts are numbers."""
    single = PollState("-poll", "=Best?", ["+Plus", "Minus"])
    single.vote("ann", "plus")
    scale = PollState("temp", "Temperature?", [], Settings(kind=SCALE, scale_min=-1, scale_max=1))
    scale.vote("ann", -1)
    words = PollState("words", "Words?", [], Settings(kind=WORDS, max_answers=3))
    words.vote("ann", ["-1", "@me", "ok"])
    words.vote("bob", ["ok", "hidden"])
    words.hide("hidden")
    text = to_csv(export_document([single, scale, words], "temp"))
    assert text.endswith("\n") and "\r" not in text
    assert rows_of(text) == [
        list(EXPORT_COLUMNS),
        ["'-poll", "'=Best?", "single", "true", "plus", "'+Plus", "1", "1"],
        ["'-poll", "'=Best?", "single", "true", "minus", "Minus", "0", "1"],
        ["temp", "Temperature?", "scale", "true", "-1", "-1", "1", "1"],
        ["temp", "Temperature?", "scale", "true", "0", "0", "0", "1"],
        ["temp", "Temperature?", "scale", "true", "1", "1", "0", "1"],
        ["words", "Words?", "words", "true", "ok", "ok", "2", "2"],
        ["words", "Words?", "words", "true", "'-1", "'-1", "1", "2"],
        ["words", "Words?", "words", "true", "'@me", "'@me", "1", "2"],
    ]


def test_tab_and_carriage_return_cells_are_guarded_in_csv() -> None:
    """pollhub collapses leading whitespace of what it stores, but the CSV does not rely on it."""
    document = {
        "current": None,
        "polls": [
            {
                "id": "p",
                "question": "\t=1+2",
                "kind": "single",
                "open": False,
                "options": [{"id": "a", "label": "\r=3"}],
                "counts": {"a": 0},
                "voters": 0,
            }
        ],
    }
    assert rows_of(to_csv(document))[1] == ["p", "'\t=1+2", "single", "false", "a", "'\r=3", "0", "0"]


# The questions --------------------------------------------------------------------------

ASKED_AT = 1_709_802_300.0  # 2024-03-07 09:05:00 UTC
#: Voter ids the questions' tests use: none may appear in an export.
SECRET_VOTERS = ("asker-ann-0001", "asker-bob-0002", "asker-cid-0003", "upvoter-dan-0004")


def test_iso_time() -> None:
    assert iso_time(ASKED_AT) == "2024-03-07T09:05:00Z"
    assert iso_time(ASKED_AT + 59.9) == "2024-03-07T09:05:59Z"  # to the second, never rounded up
    assert iso_time(None) == ""


def test_questions_in_json_and_as_the_csv_second_table_without_voter_ids() -> None:
    qa = QandA()
    ann, bob, cid, dan = SECRET_VOTERS
    qa.ask(ann, "Why is the sky blue?", "Ann", ASKED_AT)
    qa.ask(bob, "=HYPERLINK(\"http://x.example\") or not?", "@bob", ASKED_AT + 60)
    qa.ask(cid, "Spam", None, ASKED_AT + 61)
    qa.upvote(dan, "q1", True)
    qa.upvote(bob, "q1", True)
    qa.set_state("q1", ANSWERED, ASKED_AT + 120)
    qa.set_state("q3", DISMISSED, ASKED_AT + 121)
    poll = PollState("lunch", "Lunch?", ["Pizza"])
    document = export_document([poll], "lunch", questions=qa.questions.values())
    assert document["questions"] == [
        {"id": "q1", "text": "Why is the sky blue?", "name": "Ann", "upvotes": 2, "state": ANSWERED,
         "asked_at": ASKED_AT, "answered_at": ASKED_AT + 120},
        {"id": "q2", "text": "=HYPERLINK(\"http://x.example\") or not?", "name": "@bob", "upvotes": 0,
         "state": PUBLISHED, "asked_at": ASKED_AT + 60, "answered_at": None},
        {"id": "q3", "text": "Spam", "name": None, "upvotes": 0, "state": DISMISSED,
         "asked_at": ASKED_AT + 61, "answered_at": None},
    ]  # fmt: skip
    text = to_csv(document)
    assert not any(voter in text or voter in json.dumps(document) for voter in SECRET_VOTERS)
    assert text.endswith("\n") and "\r" not in text
    assert rows_of(text) == [
        list(EXPORT_COLUMNS),
        ["lunch", "Lunch?", "single", "true", "pizza", "Pizza", "0", "0"],
        [],
        list(QUESTION_COLUMNS),
        ["q1", "Why is the sky blue?", "Ann", "answered", "2", "2024-03-07T09:05:00Z", "2024-03-07T09:07:00Z"],
        ["q2", "'=HYPERLINK(\"http://x.example\") or not?", "'@bob", "published", "0", "2024-03-07T09:06:00Z", ""],
        ["q3", "Spam", "", "dismissed", "0", "2024-03-07T09:06:01Z", ""],
    ]


def test_without_questions_the_csv_is_the_polls_table_alone() -> None:
    document = export_document([PollState("lunch", "Lunch?", ["Pizza"])], None)
    assert document["questions"] == []
    assert to_csv(document) == "poll,question,kind,open,option,label,votes,voters\nlunch,Lunch?,single,true,pizza,Pizza,0,0\n"


def asked_in(hub: Hub) -> None:
    """Questions in every state, formulas and an anonymous one included, asked and upvoted through ``hub``."""
    ann, bob, cid, dan = SECRET_VOTERS
    hub.create_poll("Lunch?", ["Pizza", "Salad"])
    hub.vote("lunch", "pizza", voter=ann)
    hub.ask("Why is the sky blue?", "Ann", voter=ann)
    hub.ask("+1 for pizza?", None, voter=bob)
    hub.ask("Spam", "-cid", voter=cid)
    hub.upvote("q1", voter=dan)
    hub.upvote("q1", voter=bob)
    hub.upvote("q2", voter=ann)
    hub.answer_question("q1")
    hub.dismiss_question("q3")
    hub.qa_settings(moderation=True)
    hub.ask("Still waiting?", voter=dan)


def check_exported_questions(csv_text: str, document: Dict[str, Any], hub_questions: List[Dict[str, Any]]) -> None:
    """Every question in JSON as presenters see it, the same in CSV, and no voter id anywhere."""
    assert document["questions"] == hub_questions
    assert [(q["id"], q["state"], q["upvotes"]) for q in hub_questions] == [
        ("q1", "answered", 2), ("q2", "published", 1), ("q3", "dismissed", 0), ("q4", "waiting", 0),
    ]  # fmt: skip
    assert not any(voter in csv_text or voter in json.dumps(document) for voter in SECRET_VOTERS)
    rows = rows_of(csv_text)
    table = rows[rows.index([]) + 1 :]
    assert table[0] == list(QUESTION_COLUMNS)
    assert [row[:5] for row in table[1:]] == [
        ["q1", "Why is the sky blue?", "Ann", "answered", "2"],
        ["q2", "'+1 for pizza?", "", "published", "1"],
        ["q3", "Spam", "'-cid", "dismissed", "0"],
        ["q4", "Still waiting?", "", "waiting", "0"],
    ]
    for row, question in zip(table[1:], hub_questions):
        assert row[5] == iso_time(question["asked_at"]) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[5])
        assert row[6] == iso_time(question["answered_at"])
    assert table[1][6] != "" and all(row[6] == "" for row in table[2:])


def test_questions_through_the_server_and_pollhub_export(saved: Path, hub_db: Hub, served: PollServer) -> None:
    asked_in(hub_db)
    hub_questions = hub_db.questions()
    csv_body, json_body = exported(served, hub_db, saved)

    check_exported_questions(csv_body, json.loads(json_body), hub_questions)
    # One poll's results only: no questions.
    assert json.loads(cli_export(saved, "--poll", "lunch", "--format", "json"))["questions"] == []
    assert [] not in rows_of(cli_export(saved, "--poll", "lunch"))


def test_questions_in_pollhub_export_from_redis(redis_server: RedisServer, event_name: str) -> None:
    with Hub(redis=redis_server.url, event=event_name) as hub:
        asked_in(hub)
        hub_questions, document = hub.questions(), hub.export()
    exported: Dict[str, str] = {}
    for kind in ("csv", "json"):
        done = subprocess.run(
            [sys.executable, "-m", "pollhub", "export", "--redis", redis_server.url, "--event", event_name, "--format", kind],
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        exported[kind] = done.stdout
    assert json.loads(exported["json"]) == document
    check_exported_questions(exported["csv"], document, hub_questions)


def test_filename() -> None:
    assert filename("csv", datetime(2024, 3, 7, 9, 5)) == "pollhub-results-20240307-0905.csv"
    assert filename("json", datetime(2024, 12, 31, 23, 59)) == "pollhub-results-20241231-2359.json"
    assert re.fullmatch(r"pollhub-results-\d{8}-\d{4}\.csv", filename("csv"))
    with pytest.raises(ValueError):
        filename("xlsx")


# The command line --------------------------------------------------------------------


def test_cli_export_guards_formulas(tmp_path: Path) -> None:
    db = tmp_path / "formulas.db"
    with Hub(db=db) as hub:
        words_voting(hub, DANGEROUS + ["Tea"])
        hub.create_poll("@Lunch?", ["=Pizza", "-Salad", "Sushi"])
        hub.vote("lunch", "pizza", voter="ann")

    rows = rows_of(cli_export(db))
    assert rows[0] == list(EXPORT_COLUMNS)
    words = {row[4]: row for row in rows if row[0] == "words"}
    # Stored answers have their whitespace collapsed: the tab and the CR are gone, the formulas stay guarded.
    guarded = ["'=HYPERLINK(\"http://x.example\",\"go\")", "'+1", "'-2", "'@cmd", "'=1+2", "'@SUM(A1)"]
    assert sorted(words) == sorted(guarded + ["Tea"])
    assert all(row[5] == row[4] and row[6] == "1" and row[7] == "7" for row in words.values())
    assert [row[3:6] for row in rows if row[0] == "lunch"] == [
        ["true", "pizza", "'=Pizza"],
        ["true", "salad", "'-Salad"],
        ["true", "sushi", "Sushi"],
    ]
    assert {row[1] for row in rows if row[0] == "lunch"} == {"'@Lunch?"}
    # JSON has the text as it is.
    polls = {p["id"]: p for p in json.loads(cli_export(db, "--format", "json"))["polls"]}
    assert "=HYPERLINK(\"http://x.example\",\"go\")" in polls["words"]["counts"]
    assert polls["lunch"]["question"] == "@Lunch?"


# The server ----------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return tmp_path / "served.db"


@pytest.fixture
def hub_db(saved: Path) -> Iterator[Hub]:
    with Hub(db=saved) as running:
        yield running


@pytest.fixture
def served(hub_db: Hub) -> Iterator[PollServer]:
    with PollServer(hub_db, port=0, token=TOKEN) as running:
        yield running


@pytest.mark.parametrize("path", ["/export.csv", "/export.json"])
def test_export_needs_the_token_in_a_header(served: PollServer, path: str) -> None:
    served.hub.create_poll("Secret?", ["Yes", "No"])
    status, headers, body = request(served, path, token=None)
    assert (status, body) == (401, b"the export needs the admin token: Authorization: Bearer TOKEN\n")
    assert headers["www-authenticate"].startswith("Bearer") and headers["cache-control"] == "no-store"
    assert request(served, path, token=None, headers={"Authorization": f"Basic {TOKEN}"})[0] == 401
    # Never from the URL.
    assert request(served, f"{path}?token={TOKEN}", token=None)[0] == 401
    assert request(served, f"{path}?authorization=Bearer%20{TOKEN}", token=None)[0] == 401
    status, _, body = request(served, path, token="wrong")
    assert (status, body) == (403, b"wrong admin token\n")
    assert b"Secret?" not in body
    assert served.token_guard.failures.value() == 1
    status, headers, body = request(served, path)  # waits the wrong token's delay (0.25 s), then answers
    assert status == 200 and b"Secret?" in body
    assert headers["cache-control"] == "no-store"
    kind = path.rsplit(".", 1)[1]
    assert headers["content-type"] == {"csv": "text/csv; charset=utf-8", "json": "application/json"}[kind]
    assert re.fullmatch(rf'attachment; filename="pollhub-results-\d{{8}}-\d{{4}}\.{kind}"', headers["content-disposition"])
    status, head_headers, head_body = request(served, path, method="HEAD")
    assert (status, head_body) == (200, b"") and head_headers["content-length"] == headers["content-length"]
    assert request(served, path, method="POST")[0] == 405


def test_wrong_tokens_slow_the_export_down_per_address() -> None:
    """Like a hello's: after a wrong token the address's next try waits; one that would wait too long is refused.

    The limits' clock stands still, so the delays only add up; the waits themselves are real.
    """
    with Hub() as hub, PollServer(hub, port=0, token=TOKEN, token_delay=0.2, token_delay_max=0.3, clock=lambda: 0.0) as server:
        assert request(server, "/export.csv", token="wrong")[0] == 403
        started = time.monotonic()
        assert request(server, "/export.csv")[0] == 200  # the right token, after the wrong one's delay
        assert time.monotonic() - started >= 0.2
        status, headers, body = request(server, "/export.csv")  # 0.4 s to wait now: more than token_delay_max
        assert (status, headers["retry-after"]) == (429, "1")
        assert body == b"too many admin token tries from your address: try again later\n"
        # Another address is not held back (all of 127.0.0.0/8 is loopback on Linux).
        assert request(server, "/export.csv", source="127.0.0.2")[0] == 200


def test_server_csv_and_json_equal_the_cli_export(saved: Path, hub_db: Hub, served: PollServer) -> None:
    hub = hub_db
    words_voting(hub, DANGEROUS + ["Tea", "tea", "Spam"])
    hub.hide_answer("words", "spam")
    hub.create_poll("Rate it", kind=SCALE, scale=(-2, 2))
    hub.vote("rate-it", -2, voter="ann")
    hub.vote("rate-it", 1, voter="bob")
    hub.create_poll("=Lunch?", ["+Pizza", "Salad"], "multiple")
    hub.vote("lunch", ["pizza", "salad"], voter="ann")
    hub.set_current("rate-it")
    csv_body, json_body = exported(served, hub, saved)

    rows = rows_of(csv_body)
    assert ["words", "Words?", "words", "true", "'-2", "'-2", "1", "9"] in rows
    assert ["rate-it", "Rate it", "scale", "true", "-2", "-2", "1", "2"] in rows
    assert ["lunch", "'=Lunch?", "multiple", "true", "pizza", "'+Pizza", "1", "1"] in rows
    assert not [row for row in rows if row[4].lower() == "spam"]
    assert json.loads(json_body)["current"] == "rate-it"


def test_json_export_has_every_words_answer(hub: Hub) -> None:
    answers = [f"answer {i}" for i in range(WORDS_SHOWN + 12)]
    words_voting(hub, answers)
    assert len(hub.poll("words").counts) == WORDS_SHOWN  # what a broadcast carries
    document = hub.export()
    assert document["current"] == "words"
    (poll,) = document["polls"]
    assert poll["counts"] == {answer: 1 for answer in answers}
    assert (poll["total"], poll["voters"]) == (len(answers), len(answers))
    poll["counts"].clear()  # a copy: the hub's state is untouched
    assert len(hub.export()["polls"][0]["counts"]) == len(answers)

    with PollServer(hub, port=0, token=TOKEN) as server:
        status, _, body = request(server, "/export.json")
        assert status == 200
        assert json.loads(body)["polls"][0]["counts"] == {answer: 1 for answer in answers}
        status, _, body = request(server, "/export.csv")
        assert status == 200
        assert [row[4] for row in rows_of(body.decode("utf-8"))[1:]] == answers


def test_csv_of_an_open_poll_has_a_row_per_answer_with_its_time() -> None:
    """Newest first; ``option`` is the time (ISO 8601, UTC), ``label`` the guarded answer; hidden ones left out."""
    poll = PollState("ideas", "Ideas?", [], Settings(kind=OPEN, max_answers=2))
    poll.vote("ann", ["=cmd()", "Longer breaks"], now=1790000000.25)
    poll.vote("bob", ["Spam", "A quiet room, please"], now=1790000061.5)
    poll.hide("spam")
    assert rows_of(to_csv(export_document([poll], "ideas")))[1:] == [
        ["ideas", "Ideas?", "open", "true", "2026-09-21T14:14:21Z", "A quiet room, please", "1", "2"],
        ["ideas", "Ideas?", "open", "true", "2026-09-21T14:13:20Z", "Longer breaks", "1", "2"],
        ["ideas", "Ideas?", "open", "true", "2026-09-21T14:13:20Z", "'=cmd()", "1", "2"],
    ]


def test_the_export_has_every_open_answer_with_its_time(hub: Hub) -> None:
    """The wire carries the newest OPEN_SHOWN answers; the JSON and CSV exports carry all of them."""
    hub.create_poll("Ideas?", kind=OPEN)
    everyone = [f"idea {i}" for i in range(OPEN_SHOWN + 12)]
    for i, answer in enumerate(everyone):
        hub.vote("ideas", answer, voter=f"v{i}")
    assert len(hub.poll("ideas").answers) == OPEN_SHOWN  # what a broadcast carries
    (poll,) = hub.export()["polls"]
    assert [a["text"] for a in poll["answers"]] == everyone[::-1]
    times = [a["at"] for a in poll["answers"]]
    assert times == sorted(times, reverse=True) and poll["counts"] == {} and poll["total"] == len(everyone)

    with PollServer(hub, port=0, token=TOKEN) as server:
        status, _, body = request(server, "/export.json")
        assert status == 200 and json.loads(body)["polls"][0]["answers"] == poll["answers"]
        status, _, body = request(server, "/export.csv")
        assert status == 200
        rows = rows_of(body.decode("utf-8"))[1:]
        assert [row[5] for row in rows] == everyone[::-1]
        assert [row[4] for row in rows] == [iso_time(at) for at in times]


# Ranking polls ------------------------------------------------------------------------------


def ranking_poll() -> PollState:
    """A ranking of four options and three voters: scores 5, 7, 4 and 0 (an option nobody ranked)."""
    poll = PollState("best", "Best drink?", ["Tea", "=Coffee", "Water", "Juice"], Settings(kind=RANKING, max_ranked=3))
    poll.vote("ann", ["tea", "coffee", "water"])  # 3, 2, 1
    poll.vote("bob", ["coffee", "tea"])  # 3, 2
    poll.vote("cy", ["water", "coffee"])  # 3, 2 -> coffee 7
    return poll


def test_csv_of_a_ranking_has_scores_as_votes_and_a_table_of_places_and_positions() -> None:
    poll = ranking_poll()
    single = PollState("lunch", "Lunch?", ["Pizza", "Salad"])
    rows = rows_of(to_csv(export_document([poll, single], "best")))
    assert rows == [
        list(EXPORT_COLUMNS),
        ["best", "Best drink?", "ranking", "true", "tea", "Tea", "5", "3"],
        ["best", "Best drink?", "ranking", "true", "coffee", "'=Coffee", "7", "3"],
        ["best", "Best drink?", "ranking", "true", "water", "Water", "4", "3"],
        ["best", "Best drink?", "ranking", "true", "juice", "Juice", "0", "3"],
        ["lunch", "Lunch?", "single", "true", "pizza", "Pizza", "0", "0"],
        ["lunch", "Lunch?", "single", "true", "salad", "Salad", "0", "0"],
        [],
        list(RANKING_COLUMNS),
        ["best", "1", "coffee", "'=Coffee", "7", "1.67"],  # (2 + 1 + 2) / 3
        ["best", "2", "tea", "Tea", "5", "1.5"],
        ["best", "3", "water", "Water", "4", "2.0"],
        ["best", "4", "juice", "Juice", "0", ""],  # nobody ranked it
    ]
    poll.vote("dee", ["tea", "water", "juice"])  # tea 8, water 6, juice 1
    poll.vote("eve", ["juice", "water"])  # juice 4, water 8
    table = rows_of(to_csv(export_document([poll], None)))[6:]
    assert [row[1] for row in table[1:]] == ["1", "1", "3", "4"]  # tied scores share a place
    assert [row[2] for row in table[1:]] == ["tea", "water", "coffee", "juice"]  # ties in option order
    assert [row[4] for row in table[1:]] == ["8", "8", "7", "4"]


def test_the_export_has_each_rankings_scores_and_positions(hub: Hub) -> None:
    """JSON: the poll's counts (scores) and positions; CSV: the same through /export.csv and pollhub export."""
    poll = hub.create_poll("Best drink?", ["Tea", "Coffee", "Water"], RANKING)
    hub.vote(poll.id, ["water", "tea", "coffee"], voter="ann")
    hub.vote(poll.id, ["Tea"], voter="bob")
    (exported,) = hub.export()["polls"]
    assert exported["counts"] == {"tea": 3, "coffee": 0, "water": 2}
    assert exported["positions"] == {"tea": 1.5, "coffee": 3.0, "water": 1.0} and exported["max_ranked"] == 3
    with PollServer(hub, port=0, token=TOKEN) as server:
        status, _, body = request(server, "/export.json")
        assert status == 200 and json.loads(body)["polls"][0]["positions"] == exported["positions"]
        status, _, body = request(server, "/export.csv")
        assert status == 200
        table = rows_of(body.decode("utf-8"))[5:]
    assert table == [list(RANKING_COLUMNS), ["best-drink", "1", "tea", "Tea", "3", "1.5"],
                     ["best-drink", "2", "water", "Water", "2", "1.0"], ["best-drink", "3", "coffee", "Coffee", "0", "3.0"]]  # fmt: skip


def test_pollhub_export_of_a_saved_ranking(tmp_path: Path) -> None:
    db = tmp_path / "ranking.db"
    with Hub(db=db) as hub:
        poll = hub.create_poll("Best drink?", ["Tea", "Coffee", "Water"], RANKING)
        hub.vote(poll.id, ["coffee", "water"], voter="ann")
    document = json.loads(cli_export(db, "--format", "json"))
    assert document["polls"][0]["positions"] == {"tea": None, "coffee": 1.0, "water": 2.0}
    rows = rows_of(cli_export(db))
    assert rows[5:] == [list(RANKING_COLUMNS), ["best-drink", "1", "coffee", "Coffee", "2", "1.0"],
                        ["best-drink", "2", "water", "Water", "1", "2.0"], ["best-drink", "3", "tea", "Tea", "0", ""]]  # fmt: skip


# Quizzes ----------------------------------------------------------------------------


def quiz_question(poll_id: str, options: List[str], correct: List[str], opened_at: float, time_limit: int = 20) -> PollState:
    """A quiz question as the book runs it: closed at creation, then opened with its deadline."""
    from pollhub.polls import check_new_poll

    question, labels, settings = check_new_poll(f"{poll_id}?", options, {"kind": "quiz", "correct": correct, "time_limit": time_limit})
    poll = PollState(poll_id, question, labels, settings)
    poll.closes_at = opened_at + time_limit
    return poll


def test_quiz_answers_by_nickname_with_time_and_points_and_the_leaderboard_in_json_and_csv() -> None:
    from pollhub.export import LEADERBOARD_COLUMNS, QUIZ_COLUMNS
    from pollhub.quiz import Players

    ann, bob, cid, dan = SECRET_VOTERS
    players = Players({ann: "Ann", bob: "=bob", cid: "Cid", dan: "Dan"})
    capital = quiz_question("capital", ["Paris", "Rome"], ["Paris"], ASKED_AT)
    capital.vote(bob, "paris", ASKED_AT + 5.25)  # 14.75 s of 20 left: round(500 + 500 * 14.75 / 20) = 869
    capital.vote(ann, "paris", ASKED_AT + 1)  # 19 of 20: 975
    capital.vote(cid, "rome", ASKED_AT + 2)  # wrong: 0
    capital.open, capital.closes_at, capital.answer_revealed = False, None, 1
    both = quiz_question("both", ["A", "B", "C"], ["A", "B"], ASKED_AT + 100)  # not revealed: no points on the board
    both.vote(cid, ["b", "a"], ASKED_AT + 110)  # 10 s of 20 left: 750
    nobody = quiz_question("nobody", ["X", "Y"], ["Y"], ASKED_AT + 200)
    document = export_document([capital, both, nobody], "capital", players=players)

    exported = {p["id"]: p for p in document["polls"]}
    assert (exported["capital"]["correct"], exported["capital"]["answer_revealed"]) == (["paris"], True)
    assert exported["capital"]["answers"] == [
        {"nickname": "Ann", "options": ["paris"], "correct": True, "at": ASKED_AT + 1, "points": 975},
        {"nickname": "Cid", "options": ["rome"], "correct": False, "at": ASKED_AT + 2, "points": 0},
        {"nickname": "=bob", "options": ["paris"], "correct": True, "at": ASKED_AT + 5.25, "points": 869},
    ]  # earliest first
    assert exported["capital"]["counts"] == {"paris": 2, "rome": 1}
    assert exported["both"]["correct"] == ["a", "b"]  # a presenter's view: the correct options even before the reveal
    assert exported["both"]["answers"] == [
        {"nickname": "Cid", "options": ["b", "a"], "correct": True, "at": ASKED_AT + 110, "points": 750},
    ]
    assert exported["nobody"]["answers"] == []
    assert (exported["capital"]["closes_at"], exported["nobody"]["closes_at"]) == (None, ASKED_AT + 220)  # the deadline while it runs
    assert document["leaderboard"] == [
        {"rank": 1, "nickname": "Ann", "score": 975},
        {"rank": 2, "nickname": "=bob", "score": 869},
        {"rank": 3, "nickname": "Cid", "score": 0},  # "both" is not revealed: its 750 do not count yet
        {"rank": 3, "nickname": "Dan", "score": 0},  # a nickname and no answer: on the board with 0
    ]
    text = to_csv(document)
    assert not any(voter in text or voter in json.dumps(document) for voter in SECRET_VOTERS)
    rows = rows_of(text)
    first_gap = rows.index([])
    quiz_table = rows[first_gap + 1 : first_gap + 1 + rows[first_gap + 1 :].index([])]
    assert quiz_table == [
        list(QUIZ_COLUMNS),
        ["capital", "paris", "true", "Ann", "paris", "true", "2024-03-07T09:05:01.000Z", "975"],
        ["capital", "paris", "true", "Cid", "rome", "false", "2024-03-07T09:05:02.000Z", "0"],
        ["capital", "paris", "true", "'=bob", "paris", "true", "2024-03-07T09:05:05.250Z", "869"],
        ["both", "a b", "false", "Cid", "b a", "true", "2024-03-07T09:06:50.000Z", "750"],
        ["nobody", "y", "false", "", "", "", "", ""],
    ]
    assert rows[first_gap + len(quiz_table) + 1 :] == [
        [],
        list(LEADERBOARD_COLUMNS),
        ["1", "Ann", "975"], ["2", "'=bob", "869"], ["3", "Cid", "0"], ["3", "Dan", "0"],
    ]  # fmt: skip


def test_quizzes_through_the_server_and_pollhub_export(saved: Path, hub_db: Hub, served: PollServer) -> None:
    capital = hub_db.create_poll("Capital?", ["Paris", "Rome"], "quiz", correct=["Paris"], time_limit=30).id
    for voter, nickname in zip(SECRET_VOTERS, ("Ann", "Bob", "Cid")):
        hub_db.set_nickname(nickname, voter=voter)
    hub_db.open_poll(capital)
    hub_db.vote(capital, "paris", voter=SECRET_VOTERS[0])
    hub_db.vote(capital, "rome", voter=SECRET_VOTERS[1])
    hub_db.close_poll(capital)
    hub_db.reveal_answer(capital)
    board = hub_db.leaderboard()
    csv_body, json_body = exported(served, hub_db, saved)

    document = json.loads(json_body)
    assert document["leaderboard"] == board and [e["nickname"] for e in board] == ["Ann", "Bob", "Cid"]
    answers = document["polls"][0]["answers"]
    assert [(a["nickname"], a["options"], a["correct"]) for a in answers] == [("Ann", ["paris"], True), ("Bob", ["rome"], False)]
    assert 500 <= answers[0]["points"] <= 1000 and answers[1]["points"] == 0
    assert not any(voter in json_body or voter in csv_body for voter in SECRET_VOTERS)
    assert json.loads(cli_export(saved, "--poll", capital, "--format", "json"))["leaderboard"] == []  # one poll: its results only
