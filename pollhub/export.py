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

The audience's questions (:mod:`pollhub.qa`) are exported with the polls:
every question in asking order, in every state, as the presenter sees it,
without the voter ids of who asked or upvoted. In the CSV they follow the
polls' rows as a second table (an empty line, then its own header).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from .polls import OPEN, SCALE, PollState
from .qa import Question

#: One row per option, scale value or answer (hidden answers left out).
EXPORT_COLUMNS = ("poll", "question", "kind", "open", "option", "label", "votes", "voters")
#: One row per question, in asking order: its id, text, signature (empty: anonymous),
#: state, upvotes, and when it was asked and answered (ISO 8601, UTC; empty: not answered).
QUESTION_COLUMNS = ("question", "text", "name", "state", "upvotes", "asked_at", "answered_at")
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


def export_document(
    polls: Iterable[PollState],
    current: Optional[str],
    now: Optional[float] = None,
    questions: Iterable[Question] = (),
) -> Dict[str, Any]:
    """The JSON export: ``{"current": id or None, "polls": [poll object, ...], "questions": [question, ...]}``.

    ``now`` is the time a countdown's ``closes_in`` counts from (default: the clock).

    Each poll is the protocol's poll object (:meth:`PollState.to_json`) with
    its complete results (:meth:`PollState.results` with ``shown=None``:
    every words answer, and every open answer with its time, newest first;
    hidden ones left out), in the order given. Each
    question is the protocol's question object as presenters get it
    (:meth:`Question.to_json`: id, text, name, state, upvotes, and
    ``asked_at`` and ``answered_at`` in Unix seconds), in the order given,
    dismissed ones included; no voter id. Builds new dicts and lists only, so
    the result may leave the thread that owns the polls. Never raises for a
    valid poll.
    """
    return {
        "current": current,
        "polls": [{**p.to_json(now=now), **p.results(shown=None)} for p in polls],
        "questions": [q.to_json() for q in questions],
    }


def csv_rows(document: Mapping[str, Any]) -> List[List[Cell]]:
    """The CSV's rows (the header first) from an :func:`export_document`, every text cell guarded.

    One row per option (every option, 0 votes included), per scale value
    (every value from min to max; the value is written as a number and not
    guarded), per words answer (most given first; ``option`` and
    ``label`` are the answer) or per open answer (newest first; ``option``
    is the time it came (:func:`iso_time`), ``label`` the
    answer, ``votes`` 1). ``votes`` and ``voters`` are numbers. If the
    document has questions, an empty row and :func:`question_rows` follow.
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
    if document.get("questions"):
        rows.append([])
        rows.extend(question_rows(document["questions"]))
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
