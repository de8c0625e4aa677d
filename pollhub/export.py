"""The results export, built once for ``pollhub export`` and the server's ``/export.csv`` and ``/export.json``.

Pure functions, no I/O. :func:`export_document` builds the JSON document
from the hub's :class:`~pollhub.polls.PollState` objects (in the hub thread,
or from a database loaded by the command line); :func:`to_csv` turns that
document into CSV text, so both formats always say the same.

Words and open answers are written by participants, so every text cell of the CSV
passes through :func:`guard_cell`: a cell a spreadsheet would run as a
formula (one beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading ``'``, as OWASP advises against CSV injection. The
JSON document is left as it is (nothing runs JSON as a formula).

Ranking polls have their own table too: each option's place by score, its
Borda score and its average position (:func:`ranking_rows`), after the
polls' rows (an empty line, then its own header).

The audience's questions (:mod:`pollhub.qa`) are exported with the polls:
every question in asking order, in every state, as the presenter sees it,
without the voter ids of who asked or upvoted. In the CSV they follow the
polls' rows (and the rankings' table) as a table of their own (an empty line, then its own header).

Quizzes (:mod:`pollhub.quiz`): each quiz question carries its correct
options and every answer, by the participant's nickname (never a voter id),
with its time and points; the document carries the leaderboard. In the CSV
they are two more tables: the quiz answers, then the leaderboard.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from .kinds import quiz_answer
from .polls import OPEN, QUIZ, RANKING, SCALE, PollState
from .qa import Question
from .quiz import Players

#: One row per option, scale value or answer (hidden answers left out).
EXPORT_COLUMNS = ("poll", "question", "kind", "open", "option", "label", "votes", "voters")
#: One row per option of each ranking poll, the highest score first: its place (ties share one),
#: id, label, Borda score and average position (1-based, among the voters who ranked it; empty: nobody did).
RANKING_COLUMNS = ("poll", "place", "option", "label", "score", "position")
#: One row per question, in asking order: its id, text, signature (empty: anonymous),
#: state, upvotes, and when it was asked and answered (ISO 8601, UTC; empty: not answered).
QUESTION_COLUMNS = ("question", "text", "name", "state", "upvotes", "asked_at", "answered_at")
#: One row per answer to a quiz question, in the order they came (a question nobody
#: answered: one row without a participant): the question's correct option ids
#: (separated by spaces), whether its answer was revealed, the participant's
#: nickname, the option ids answered, whether that is right, when it came
#: (ISO 8601, UTC, to the millisecond) and its points.
QUIZ_COLUMNS = ("poll", "correct_options", "revealed", "nickname", "answer", "correct", "answered_at", "points")
#: One row per participant, best first: rank (shared by equal scores), nickname, score.
LEADERBOARD_COLUMNS = ("rank", "nickname", "score")
#: The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
FILENAME_PREFIX = "pollhub-results-"

Cell = Union[str, int]


def guard_cell(text: str) -> str:
    """``text`` with a ``'`` in front if it begins with a character of :data:`FORMULA_STARTS`, else unchanged.

    Applies to any text, numbers-looking ones included (``"-2"`` becomes
    ``"'-2"``): a words answer is text whatever it looks like.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def iso_time(timestamp: Optional[float]) -> str:
    """A Unix time as ISO 8601 in UTC to the second (``2024-03-07T09:05:00Z``); ``""`` for None."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_time_ms(timestamp: float) -> str:
    """A Unix time as ISO 8601 in UTC to the millisecond (``2024-03-07T09:05:00.250Z``)."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def export_document(
    polls: Iterable[PollState],
    current: Optional[str],
    now: Optional[float] = None,
    questions: Iterable[Question] = (),
    players: Optional[Players] = None,
) -> Dict[str, Any]:
    """The JSON export: ``{"current": id or None, "polls": [poll object, ...], "questions": [question, ...], "leaderboard": [...]}``.

    ``now`` is the time a countdown's ``closes_in`` counts from (default: the clock).

    Each poll is the protocol's poll object (:meth:`PollState.to_json`) with
    its complete results (:meth:`PollState.results` with ``shown=None``:
    every words answer, and every open answer with its time, newest first;
    hidden ones left out; a ranking's scores as ``counts`` and its average
    places as ``positions``), in the order given. Each
    question is the protocol's question object as presenters get it
    (:meth:`Question.to_json`: id, text, name, state, upvotes, and
    ``asked_at`` and ``answered_at`` in Unix seconds), in the order given,
    dismissed ones included; no voter id.

    A quiz question's object is a presenter's (with ``correct``, its option
    ids, revealed or not) with ``answers``: each participant's answer,
    earliest first, as ``{"nickname", "options", "correct", "at",
    "points"}`` (``at`` in Unix seconds, as the server applied it; the
    points it scored then), and ``closes_at``, while it runs, the deadline
    (Unix seconds) the points count down to (None once closed). ``leaderboard`` is :func:`leaderboard`'s for
    ``players`` (the nicknames; None: nobody), counting every poll of
    ``polls``. Builds new dicts and lists only, so the result may leave the
    thread that owns the polls. Never raises for a valid poll.
    """
    polls = list(polls)
    nicknames = players.nicknames if players is not None else {}
    return {
        "current": current,
        "polls": [_poll_object(p, now, nicknames) for p in polls],
        "questions": [q.to_json() for q in questions],
        "leaderboard": leaderboard(players, polls) if players is not None else [],
    }


def _poll_object(poll: PollState, now: Optional[float], nicknames: Mapping[str, str]) -> Dict[str, Any]:
    data = {**poll.to_json(now=now), **poll.results(shown=None)}
    if poll.kind == QUIZ:
        data["closes_at"] = poll.closes_at  # while it runs: the deadline its points count down to
        data["answers"] = quiz_answers(poll, nicknames)
    return data


def quiz_answers(poll: PollState, nicknames: Mapping[str, str]) -> List[Dict[str, Any]]:
    """A quiz question's answers, earliest first, each by its voter's nickname (``""`` if none): never a voter id."""
    correct = set(poll.settings.correct or ())
    answers: List[Dict[str, Any]] = []
    for voter, ballot in poll.ballots.items():
        at, points, options = quiz_answer(ballot)
        answers.append({
            "nickname": nicknames.get(voter, ""), "options": list(options), "correct": set(options) == correct,
            "at": at, "points": points,
        })  # fmt: skip
    answers.sort(key=lambda a: (a["at"], a["nickname"].casefold()))
    return answers


def leaderboard(players: Players, polls: Iterable[PollState]) -> List[Dict[str, Any]]:
    """Everyone with a nickname, ranked by the points of revealed quiz questions: ``{"rank", "nickname", "score"}``."""
    return [{"rank": s.rank, "nickname": s.nickname, "score": s.total} for s in players.standings(polls)]


def csv_rows(document: Mapping[str, Any]) -> List[List[Cell]]:
    """The CSV's rows (the header first) from an :func:`export_document`, every text cell guarded.

    One row per option (every option, 0 votes included), per scale value
    (every value from min to max; the value is written as a number and not
    guarded), per words answer (most given first; ``option`` and
    ``label`` are the answer) or per open answer (newest first; ``option``
    is the time it came (:func:`iso_time`), ``label`` the
    answer, ``votes`` 1); a ranking poll's ``votes`` are its scores.
    ``votes`` and ``voters`` are numbers. If the document has ranking
    polls, an empty row and :func:`ranking_rows` follow; then, likewise, if it has
    questions, :func:`question_rows`; quizzes, :func:`quiz_rows`; a leaderboard, :func:`leaderboard_rows`.
    Raises ``KeyError`` for a document without a poll's ``counts`` (or an
    open poll's ``answers``).
    """
    rows: List[List[Cell]] = [list(EXPORT_COLUMNS)]
    for poll in document["polls"]:
        head: List[Cell] = [guard_cell(poll["id"]), guard_cell(poll["question"]), poll["kind"], str(poll["open"]).lower()]
        if poll["kind"] == OPEN:
            rows.extend(head + [iso_time(a["at"]), guard_cell(a["text"]), 1, poll["voters"]] for a in poll["answers"])
            continue
        labels = {o["id"]: o["label"] for o in poll.get("options", ())}
        for key, count in poll["counts"].items():
            if poll["kind"] == SCALE:
                option: List[Cell] = [int(key), int(key)]
            else:
                option = [guard_cell(key), guard_cell(labels.get(key, key))]
            rows.append(head + option + [count, poll["voters"]])
    tables: List[Tuple[Callable[[Any], List[List[Cell]]], Any]] = [
        (ranking_rows, [poll for poll in document["polls"] if poll["kind"] == RANKING]),
        (question_rows, document.get("questions")),
        (quiz_rows, [poll for poll in document["polls"] if poll["kind"] == QUIZ]),
        (leaderboard_rows, document.get("leaderboard")),
    ]
    for table_rows, items in tables:  # each table that has rows: an empty line, then its header and rows
        if items:
            rows.append([])
            rows.extend(table_rows(items))
    return rows


def quiz_rows(quizzes: Iterable[Mapping[str, Any]]) -> List[List[Cell]]:
    """The quiz answers' table (its header first): :data:`QUIZ_COLUMNS` per answer, or one row per question nobody answered.

    Nicknames (written by participants) and ids are guarded; ``points`` is a
    number; ``revealed`` and ``correct`` are ``true`` or ``false``.
    """
    rows: List[List[Cell]] = [list(QUIZ_COLUMNS)]
    for poll in quizzes:
        head: List[Cell] = [
            guard_cell(poll["id"]), guard_cell(" ".join(poll.get("correct", []))), str(poll["answer_revealed"]).lower()
        ]
        if not poll["answers"]:
            rows.append(head + ["", "", "", "", ""])
        for a in poll["answers"]:
            answer = guard_cell(" ".join(a["options"]))
            rows.append(head + [guard_cell(a["nickname"]), answer, str(a["correct"]).lower(), iso_time_ms(a["at"]), a["points"]])
    return rows


def leaderboard_rows(board: Iterable[Mapping[str, Any]]) -> List[List[Cell]]:
    """The leaderboard's table (its header first): :data:`LEADERBOARD_COLUMNS` per participant, best first."""
    rows: List[List[Cell]] = [list(LEADERBOARD_COLUMNS)]
    rows.extend([entry["rank"], guard_cell(entry["nickname"]), entry["score"]] for entry in board)
    return rows


def ranking_rows(polls: Iterable[Mapping[str, Any]]) -> List[List[Cell]]:
    """The rankings' table (its header first): a row of :data:`RANKING_COLUMNS` per option of each poll.

    A poll's options come the highest score first (equal scores in the
    poll's option order, sharing a place: 1, 1, 3). ``place`` and ``score``
    are numbers, ``position`` a number with up to 2 decimals or empty;
    ids and labels are guarded. Raises ``KeyError`` for a poll object
    without ``counts`` or ``positions``.
    """
    rows: List[List[Cell]] = [list(RANKING_COLUMNS)]
    for poll in polls:
        labels = {o["id"]: o["label"] for o in poll.get("options", ())}
        ordered = sorted(poll["counts"].items(), key=lambda item: -item[1])
        place, previous = 0, None
        for n, (option_id, score) in enumerate(ordered, start=1):
            if score != previous:
                place, previous = n, score
            position = poll["positions"].get(option_id)
            rows.append([
                guard_cell(poll["id"]), place, guard_cell(option_id), guard_cell(labels.get(option_id, option_id)), score,
                "" if position is None else str(position),
            ])  # fmt: skip
    return rows


def question_rows(questions: Iterable[Mapping[str, Any]]) -> List[List[Cell]]:
    """The questions' table (its header first): a row of :data:`QUESTION_COLUMNS` per question.

    The text and the name (written by participants) are guarded; an
    anonymous question has an empty name; ``upvotes`` is a number; the
    times are :func:`iso_time`'s. Raises ``KeyError`` for a question
    object without one of the columns.
    """
    rows: List[List[Cell]] = [list(QUESTION_COLUMNS)]
    for q in questions:
        rows.append([
            guard_cell(q["id"]), guard_cell(q["text"]), guard_cell(q["name"] or ""), q["state"], q["upvotes"],
            iso_time(q["asked_at"]), iso_time(q["answered_at"]),
        ])  # fmt: skip
    return rows


def to_csv(document: Mapping[str, Any]) -> str:
    """The CSV export of an :func:`export_document`: the rows of :func:`csv_rows`, ``\\n`` line ends.

    Fields with a comma, a quote, a carriage return or a line feed are quoted
    as RFC 4180 says.
    """
    # The csv module quotes a field for the characters of its line terminator
    # only: each row is written with "\r\n" (so both are quoted) and ends in "\n".
    out: List[str] = []
    row_text = io.StringIO()
    writer = csv.writer(row_text, lineterminator="\r\n")
    for row in csv_rows(document):
        row_text.seek(0)
        row_text.truncate()
        writer.writerow(row)
        out.append(row_text.getvalue()[:-2] + "\n")
    return "".join(out)


def filename(kind: str, now: Optional[datetime] = None) -> str:
    """The download's file name, ``pollhub-results-YYYYMMDD-HHMM.csv`` (or ``.json``), at ``now`` (default: local time now).

    Raises ``ValueError`` for a ``kind`` not in :data:`FORMATS`.
    """
    if kind not in FORMATS:
        raise ValueError(f"the export is csv or json, not {kind!r}")
    return f"{FILENAME_PREFIX}{(now or datetime.now()).strftime('%Y%m%d-%H%M')}.{kind}"
