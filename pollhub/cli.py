"""The command line: ``python -m pollhub`` (serve), ``vote`` and ``watch``.

This is the one place that configures logging and installs signal handlers.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import signal
import sys
import threading
from typing import Any, Dict, Optional, Sequence

from . import __version__, connection
from .client import PollClient
from .errors import BadMessage, PollhubError
from .hub import Hub
from .lan import lan_addresses
from .polls import KINDS, SINGLE, check_new_poll
from .server import DEFAULT_PORT, MAX_VOTE_RATE, PollServer
from .storage import StorageError, Store, default_path

logger = logging.getLogger("pollhub")

COMMANDS = ("serve", "vote", "watch", "export", "bench")
SHUTDOWN_GRACE = 1.0  # seconds clients get to answer the server's close frame at shutdown


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and args[0] in COMMANDS else "serve"
    try:
        if command == "vote":
            return vote_command(args)
        if command == "watch":
            return watch_command(args)
        if command == "export":
            return export_command(args)
        if command == "bench":
            from .bench import bench_command

            return bench_command(args)
        return serve_command(args)
    except KeyboardInterrupt:
        return 130


# serve -------------------------------------------------------------------------------


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pollhub",
        description="Run a live polling server. Other commands: vote, watch, export and bench (see 'python -m pollhub vote -h').",
    )
    parser.add_argument("--version", action="version", version=f"pollhub {__version__}")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all interfaces, %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s; 0 picks a free one)")
    parser.add_argument("--question", help="start with this poll as the current one")
    parser.add_argument("--option", action="append", default=[], metavar="LABEL", help="an option of --question (repeat it)")
    parser.add_argument("--kind", choices=KINDS, default=SINGLE, help="kind of the --question poll (default: %(default)s)")
    parser.add_argument("--token", help="admin token (default: a random one, printed at start)")
    parser.add_argument("--db", metavar="PATH", help=f"SQLite database to keep polls and votes in (default: {default_path()})")
    parser.add_argument("--memory", action="store_true", help="keep everything in memory only; nothing is saved")
    parser.add_argument(
        "--max-vote-rate",
        type=float,
        default=MAX_VOTE_RATE,
        metavar="N",
        help="votes per second per connection, with a burst of five seconds' worth; 0: no limit (default: %(default)g)",
    )
    limits = parser.add_argument_group("connection limits")
    limits.add_argument("--max-size", type=int, default=connection.MAX_SIZE, metavar="BYTES", help="largest message (default: %(default)s)")
    limits.add_argument(
        "--max-connections", type=int, default=connection.MAX_CONNECTIONS, metavar="N", help="open connections (default: %(default)s)"
    )
    limits.add_argument(
        "--handshake-timeout", type=float, default=connection.HANDSHAKE_TIMEOUT, metavar="S", help="seconds to send the HTTP request (default: %(default)g)"
    )
    limits.add_argument(
        "--ping-interval", type=float, default=connection.PING_INTERVAL, metavar="S", help="ping a silent client after S seconds (default: %(default)g)"
    )
    limits.add_argument(
        "--ping-timeout", type=float, default=connection.PING_TIMEOUT, metavar="S", help="drop a client that does not answer a ping (default: %(default)g)"
    )
    limits.add_argument(
        "--max-header-size", type=int, default=connection.MAX_HEADER_SIZE, metavar="BYTES", help="HTTP request line and headers (default: %(default)s)"
    )
    limits.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN", help="also accept browsers from this origin (repeat it)"
    )
    tls = parser.add_argument_group("TLS (serve wss:// and https://)")
    tls.add_argument("--certfile", help="certificate chain, PEM")
    tls.add_argument("--keyfile", help="private key, PEM (default: in --certfile)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"], help="(default: %(default)s)")
    return parser


def serve_command(argv: Sequence[str]) -> int:
    parser = serve_parser()
    args = parser.parse_args(argv)
    if args.option and not args.question:
        parser.error("--option needs --question")
    if args.question and len(args.option) < 2:
        parser.error("--question needs at least two --option")
    if args.keyfile and not args.certfile:
        parser.error("--keyfile needs --certfile")
    if args.memory and args.db:
        parser.error("--memory and --db exclude each other")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise_file_limit()

    try:
        context = connection.tls_context(args.certfile, args.keyfile) if args.certfile else None
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        print(f"pollhub: cannot load the TLS certificate: {exc}", file=sys.stderr)
        return 2
    db = None if args.memory else (args.db or default_path())
    try:
        hub = Hub(db=db).start()
    except StorageError as exc:
        print(f"pollhub: {exc}", file=sys.stderr)
        return 2
    try:
        if args.question:
            start_poll(hub, args.question, args.option, args.kind)
        server = PollServer(
            hub,
            args.host,
            args.port,
            token=args.token,
            max_vote_rate=args.max_vote_rate,
            allowed_origins=args.allow_origin,
            ssl_context=context,
            max_header_size=args.max_header_size,
            max_size=args.max_size,
            max_connections=args.max_connections,
            handshake_timeout=args.handshake_timeout,
            ping_interval=args.ping_interval,
            ping_timeout=args.ping_timeout,
        )
    except PollhubError as exc:
        hub.stop()
        print(f"pollhub: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        hub.stop()
        print(f"pollhub: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    print_banner(server, args.token is None)
    print(f"Saving to {db}" if db else "Keeping everything in memory (--memory): nothing is saved.", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop(timeout=SHUTDOWN_GRACE)  # clients get the 1001 close; then the hub commits and stops
        polls = hub.polls()
        hub.stop()
    votes = sum(p.total for p in polls)
    saved = f", saved to {db}" if db else ""
    print(f"pollhub stopped: {len(polls)} poll(s), {votes} vote(s) counted{saved}.", flush=True)
    return 0


def start_poll(hub: Hub, question: str, options: Sequence[str], kind: str) -> None:
    """Make the ``--question`` poll current, reusing a saved poll with that question.

    A saved poll keeps its votes, and the saved current poll stays current.
    Raises ``BadMessage`` when the saved poll has other options or another kind.
    """
    question, labels, kind = check_new_poll(question, options, kind)
    for poll in hub.polls():
        if poll.question == question:
            saved = [o.label for o in poll.options]
            if saved != labels or poll.kind != kind:
                raise BadMessage(
                    f"the database already has the poll {question!r} as a {poll.kind} poll with options "
                    f"{', '.join(saved)}; give the same --option and --kind, another --question, or another --db"
                )
            return
    hub.set_current(hub.create_poll(question, labels, kind).id)


def raise_file_limit() -> None:
    """Let this process open as many sockets as its hard limit allows (one per connection)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def print_banner(server: PollServer, token_generated: bool) -> None:
    print(f"pollhub {__version__} listening on {server.url}", flush=True)
    if server.host in ("0.0.0.0", "::", ""):
        hosts = lan_addresses() or ["127.0.0.1"]
    else:
        hosts = [server.host]
    print("Join from any phone or laptop on this network:")
    for host in hosts:
        print(f"  {server.page_url_for(host)}")
    print_qr(server.join_url)
    token = server.token if token_generated else "<your --token>"
    print(f"Presenter page (it holds the admin token: keep it private): {server.join_url}present#token={token}")
    print(f"Scripts: python -m pollhub vote {server.url} OPTION")
    print("Stop with Ctrl-C.", flush=True)


def print_qr(url: str) -> None:
    """Print ``url`` as a QR code of text blocks, if the terminal's encoding has them."""
    import segno

    try:
        segno.make(url, error="m").terminal(out=sys.stdout, compact=True, border=2)
    except UnicodeEncodeError:
        pass


# vote and watch ----------------------------------------------------------------------


def vote_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pollhub vote", description="Cast one vote and exit.")
    parser.add_argument("url", help="the server, e.g. ws://192.168.1.20:8765/ws or 192.168.1.20:8765")
    parser.add_argument("option", help="the option's id or label")
    parser.add_argument("--poll", help="the poll's id (default: the current poll)")
    parser.add_argument("--voter", help="your voter id (voting again with it moves your vote)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default: %(default)g)")
    args = parser.parse_args(argv)
    try:
        with PollClient(args.url, voter=args.voter, timeout=args.timeout) as client:
            option = client.vote(args.option, poll=args.poll)
            poll = client.poll(args.poll)
    except PollhubError as exc:
        print(f"pollhub vote: {exc} ({exc.code})", file=sys.stderr)
        return 1
    except (OSError, TimeoutError, ValueError) as exc:
        print(f"pollhub vote: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    print(f"Voted {option!r} in {poll.id!r}: {format_counts(poll.counts, poll.total)}")
    return 0


def watch_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pollhub watch", description="Print live results until Ctrl-C.")
    parser.add_argument("url", help="the server, e.g. ws://192.168.1.20:8765/ws or 192.168.1.20:8765")
    parser.add_argument("--poll", help="only this poll (default: every poll)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        client = PollClient(args.url)
    except (OSError, TimeoutError, ValueError, PollhubError) as exc:
        print(f"pollhub watch: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    try:
        while not stop.is_set():
            for message in client.updates(timeout=0.5):
                line = _describe(message, args.poll)
                if line:
                    print(line, flush=True)
                if stop.is_set():
                    break
            if client.closed and not stop.is_set():
                print("pollhub watch: the server closed the connection", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
    return 0


def _describe(message: Dict[str, Any], only: Optional[str]) -> Optional[str]:
    kind = message["type"]
    if kind == "welcome":
        lines = [f"{p['id']}: {format_counts(p['counts'], p['total'])}" for p in message["polls"] if only in (None, p["id"])]
        return "\n".join(lines) or "(no polls yet)"
    if kind == "results" and only in (None, message["poll"]):
        return f"{message['poll']}: {format_counts(message['counts'], message['total'])}"
    if kind == "poll" and only in (None, message["poll"]["id"]):
        poll = message["poll"]
        state = "open" if poll["open"] else "closed"
        return f"{poll['id']} ({state}): {format_counts(poll['counts'], poll['total'])}"
    if kind == "current" and only is None:
        return f"current poll: {message['poll']}"
    if kind == "deleted" and only in (None, message["poll"]):
        return f"{message['poll']}: deleted"
    return None


def format_counts(counts: Dict[str, int], total: int) -> str:
    parts = [f"{option} {count}" for option, count in counts.items()]
    return f"{', '.join(parts)} (total {total})"


# export ------------------------------------------------------------------------------

EXPORT_COLUMNS = ("poll", "question", "kind", "open", "option", "label", "votes")


def export_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pollhub export", description="Write saved results to standard output (the server may be running)."
    )
    parser.add_argument("--db", metavar="PATH", help=f"the database (default: {default_path()})")
    parser.add_argument("--poll", help="only this poll (default: every poll)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv", help="(default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        store = Store(args.db or default_path(), readonly=True)
        try:
            polls, current, _ = store.load()
        finally:
            store.close()
    except StorageError as exc:
        print(f"pollhub export: {exc}", file=sys.stderr)
        return 2
    if args.poll is not None:
        polls = [p for p in polls if p.id == args.poll]
        if not polls:
            print(f"pollhub export: there is no poll {args.poll!r}", file=sys.stderr)
            return 1
    if args.format == "json":
        json.dump({"current": current, "polls": [p.to_json() for p in polls]}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for poll in polls:
        for option in poll.options:
            writer.writerow([poll.id, poll.question, poll.kind, str(poll.open).lower(), option.id, option.label, poll.counts[option.id]])
    return 0
