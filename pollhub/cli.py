"""The command line: ``python -m pollhub`` (serve), ``vote``, ``watch``, ``ask``, ``upvote`` and ``unvote``.

This is the one place that configures logging and installs signal handlers.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import re
import secrets
import signal
import sys
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from . import __version__, connection, export, text, workers
from .client import PollClient
from .cluster import DEFAULT_EVENT, DURABILITIES, ClusterError, read_event, redact
from .errors import BadMessage, PollhubError, Unavailable
from .forwarded import IPNetwork, trusted_network
from .hub import Hub
from .lan import lan_addresses
from .polls import ALLOWED, ALWAYS, CHANGES, KINDS, OPTION_KINDS, SINGLE, VISIBILITIES, check_new_poll
from .polls import CHOICE_FIELDS, Choice, Poll
from .server import (
    DEFAULT_PORT,
    MAX_ADDRESS_VOTE_RATE,
    MAX_VOTE_RATE,
    NEW_VOTER_BURST,
    NEW_VOTER_RATE,
    PollServer,
    join_url,
    page_url,
    ws_url,
)
from .signals import StopRequest, stop_on
from .storage import StorageError, Store, default_path

logger = logging.getLogger("pollhub")

COMMANDS = ("serve", "vote", "watch", "ask", "upvote", "unvote", "export", "bench")
SHUTDOWN_GRACE = 1.0  # seconds clients get to answer the server's close frame at shutdown
HUB_CHECK_INTERVAL = 0.25  # seconds between checks, while serving, that the hub thread is alive
TERMINAL_LIMIT = 2000  # characters of one string from a server that watch and vote print
# Process settings while serving: see server_settings().
SWITCH_INTERVAL = 0.2  # seconds a thread may hold the GIL while others wait (CPython's default: 0.005)
GC_YOUNG_THRESHOLD = 10_000  # allocations between young-generation collections (CPython's default: 700)
QUESTION_STATES = {  # how ``ask`` describes a question's state
    "waiting": "waiting for a presenter to approve it",
    "published": "published",
    "answered": "answered",
    "dismissed": "dismissed",
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and args[0] in COMMANDS else "serve"
    try:
        if command == "vote":
            return vote_command(args)
        if command == "watch":
            return watch_command(args)
        if command == "ask":
            return ask_command(args)
        if command in ("upvote", "unvote"):
            return upvote_command(args, undo=command == "unvote")
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
        description=(
            "Run a live polling server. Other commands: vote, watch, ask, upvote, unvote, export and bench "
            "(see 'python -m pollhub vote -h')."
        ),
    )
    parser.add_argument("--version", action="version", version=f"pollhub {__version__}")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all interfaces, %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s; 0 picks a free one)")
    poll = parser.add_argument_group("the poll to start with")
    poll.add_argument("--question", help="start with this poll as the current one")
    poll.add_argument("--option", action="append", default=[], metavar="LABEL", help="an option of --question (repeat it)")
    poll.add_argument("--kind", choices=KINDS, default=SINGLE, help="kind of the --question poll (default: %(default)s)")
    poll.add_argument("--max-choices", type=int, metavar="N", help="multiple: options one voter may pick (default: all)")
    poll.add_argument("--scale", type=scale_range, metavar="MIN-MAX", help="scale: the values, e.g. 1-5 or 0-10 (default: 1-5)")
    poll.add_argument("--max-answers", type=int, metavar="N", help="words: answers one voter may give (default: 3)")
    poll.add_argument(
        "--results", choices=VISIBILITIES, default=ALWAYS, help="who sees the results before a reveal (default: %(default)s)"
    )
    poll.add_argument("--changes", choices=CHANGES, default=ALLOWED, help="whether voters may change their vote (default: %(default)s)")
    poll.add_argument("--close-after", type=float, metavar="S", help="close voting on --question after S seconds")
    parser.add_argument("--token", help="admin token (default: a random one, printed at start)")
    parser.add_argument("--db", metavar="PATH", help=f"SQLite database to keep polls and votes in (default: {default_path()})")
    parser.add_argument("--memory", action="store_true", help="keep everything in memory only; nothing is saved")
    cluster = parser.add_argument_group("several nodes, one event (Redis)")
    cluster.add_argument(
        "--redis",
        metavar="URL",
        help="share the event through this Redis instead of a database: redis://HOST:6379/0, rediss://..., unix:///path/redis.sock",
    )
    cluster.add_argument(
        "--event", default=DEFAULT_EVENT, metavar="NAME", help="the event's name in Redis, for several events in one Redis (default: %(default)s)"
    )
    cluster.add_argument(
        "--redis-durability",
        choices=DURABILITIES,
        default=DURABILITIES[0],
        help="'always': refuse a Redis that does not fsync every write; 'none': accept losing its last second (default: %(default)s)",
    )
    cluster.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N processes on this machine sharing the port and, through --redis, the event (default: %(default)s)",
    )
    # A --workers supervisor's worker (see pollhub.workers): its place, the
    # supervisor's pid, the pipe to write its node id to once it listens, and
    # whether it starts the --question poll. Not for people: hidden.
    cluster.add_argument("--worker-index", type=int, metavar="K", help=argparse.SUPPRESS)
    cluster.add_argument("--worker-supervisor", type=int, metavar="PID", help=argparse.SUPPRESS)
    cluster.add_argument("--worker-ready-fd", type=int, metavar="FD", help=argparse.SUPPRESS)
    cluster.add_argument("--worker-start-poll", action="store_true", help=argparse.SUPPRESS)
    votes = parser.add_argument_group("vote limits (0: no limit)")
    votes.add_argument(
        "--max-vote-rate",
        type=float,
        default=MAX_VOTE_RATE,
        metavar="N",
        help="votes per second per voter, with a burst of five seconds' worth (default: %(default)g)",
    )
    votes.add_argument(
        "--max-address-vote-rate",
        type=float,
        default=MAX_ADDRESS_VOTE_RATE,
        metavar="N",
        help="votes per second per client address, with a burst of five seconds' worth (default: %(default)g)",
    )
    votes.add_argument(
        "--new-voter-rate",
        type=float,
        default=NEW_VOTER_RATE,
        metavar="N",
        help="new voter ids per second per client address, after --new-voter-burst (default: %(default)g)",
    )
    votes.add_argument(
        "--new-voter-burst",
        type=int,
        default=NEW_VOTER_BURST,
        metavar="N",
        help="new voter ids one client address may add at once (default: %(default)s)",
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
        "--max-fragments", type=int, default=connection.MAX_FRAGMENTS, metavar="N", help="frames in one message (default: %(default)s)"
    )
    limits.add_argument(
        "--max-handshakes",
        type=int,
        default=connection.MAX_HANDSHAKES,
        metavar="N",
        help="connections still in their HTTP handshake; more are closed at once (default: %(default)s)",
    )
    limits.add_argument(
        "--max-handshakes-per-address",
        type=int,
        default=connection.MAX_HANDSHAKES_PER_ADDRESS,
        metavar="N",
        help="of those, from one client address (default: %(default)s)",
    )
    limits.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN", help="also accept browsers from this origin (repeat it)"
    )
    limits.add_argument(
        "--join-url",
        type=public_url,
        metavar="URL",
        help="where participants join, for the QR code and the pages (behind a proxy: https://polls.example.org/)",
    )
    limits.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME", help="answer requests for this Host name (repeat it)"
    )
    limits.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        type=trusted_proxy,
        metavar="ADDRESS",
        help="a reverse proxy (an IP address or a network such as 10.0.0.0/8) whose X-Forwarded-For names the client, "
        "for the logs and the limits per address (repeat it); from anyone else the header is ignored",
    )
    tls = parser.add_argument_group("TLS (serve wss:// and https://)")
    tls.add_argument("--certfile", help="certificate chain, PEM")
    tls.add_argument("--keyfile", help="private key, PEM (default: in --certfile)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"], help="(default: %(default)s)")
    return parser


def serve_command(argv: Sequence[str]) -> int:
    parser = serve_parser()
    args = parser.parse_args(argv)
    poll_flags = [f for f in ("option", "max_choices", "scale", "max_answers", "close_after") if getattr(args, f)]
    if poll_flags and not args.question:
        parser.error(f"--{poll_flags[0].replace('_', '-')} needs --question")
    if args.question and args.kind in OPTION_KINDS and len(args.option) < 2:
        parser.error(f"a {args.kind} --question needs at least two --option")
    if args.keyfile and not args.certfile:
        parser.error("--keyfile needs --certfile")
    if args.memory and args.db:
        parser.error("--memory and --db exclude each other")
    if args.redis and (args.memory or args.db):
        parser.error("--redis keeps the event in Redis: it excludes --db and --memory")
    if not 1 <= args.workers <= workers.max_workers():
        parser.error(f"--workers must be from 1 to {workers.max_workers()} (four per core)")
    if args.workers > 1 and not args.redis:
        parser.error(
            "--workers needs --redis URL: the workers share the event through Redis "
            "(one SQLite database, or one process's --memory, cannot be shared)"
        )
    worker = args.worker_index
    if worker is not None:  # started by a --workers supervisor: its token, and the poll only if it says so
        args.token = os.environ.get(workers.TOKEN_ENV) or args.token
        if not args.worker_start_poll:
            args.question = None
    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s %(levelname)s {'' if worker is None else f'worker {worker} '}%(name)s: %(message)s",
    )
    raise_file_limit()
    if worker is not None:
        # Ctrl-C reaches the whole process group; the supervisor alone decides, and stops its workers with SIGTERM.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    try:
        context = connection.tls_context(args.certfile, args.keyfile) if args.certfile else None
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        print(f"pollhub: cannot load the TLS certificate: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1 and worker is None:
        return supervise_workers(args, argv, context is not None)
    db = None if args.memory or args.redis else (args.db or default_path())
    try:
        hub = Hub(db=db, redis=args.redis, event=args.event, durability=args.redis_durability).start()
    except (StorageError, ClusterError) as exc:
        print(f"pollhub: {exc}", file=sys.stderr)
        return 2
    try:
        if args.question:
            start_poll(hub, args.question, args.option, poll_fields(args), args.close_after)
        server = PollServer(
            hub,
            args.host,
            args.port,
            token=args.token,
            max_vote_rate=args.max_vote_rate,
            max_address_vote_rate=args.max_address_vote_rate,
            new_voter_rate=args.new_voter_rate,
            new_voter_burst=args.new_voter_burst,
            allowed_origins=args.allow_origin,
            allowed_hosts=args.allow_host,
            join_url=args.join_url,
            trusted_proxies=args.trusted_proxy,
            ssl_context=context,
            max_header_size=args.max_header_size,
            max_size=args.max_size,
            max_connections=args.max_connections,
            handshake_timeout=args.handshake_timeout,
            ping_interval=args.ping_interval,
            ping_timeout=args.ping_timeout,
            max_fragments=args.max_fragments,
            max_handshakes=args.max_handshakes,
            max_handshakes_per_address=args.max_handshakes_per_address,
            reuse_port=worker is not None,
        )
    except PollhubError as exc:
        hub.stop()
        print(f"pollhub: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        hub.stop()
        print(f"pollhub: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1

    if worker is not None:
        with StopRequest() as stop, stop_on(stop, (signal.SIGTERM,)), server_settings():
            server.start()
            tell_supervisor(args.worker_ready_fd, hub.node)
            label = f"pollhub worker {worker} (node {hub.node})"
            return serve(server, hub, stop, db, supervisor=args.worker_supervisor, label=label)
    with StopRequest() as stop, stop_on(stop), server_settings():
        server.start()
        print_banner(server.host, server.port, context is not None, None if args.token else server.token, args.join_url)
        if args.redis:
            print(f"Event {args.event!r} shared through Redis at {redact(args.redis)} (this node: {hub.node})", flush=True)
        else:
            print(f"Saving to {db}" if db else "Keeping everything in memory (--memory): nothing is saved.", flush=True)
        return serve(server, hub, stop, db)


def supervise_workers(args: argparse.Namespace, argv: Sequence[str], tls: bool) -> int:
    """``--workers N``: run N copies of this command as workers on one port (see pollhub.workers)."""
    token = args.token or secrets.token_urlsafe(16)  # one for all the workers

    def banner(port: int) -> None:
        print(f"{args.workers} workers share the event {args.event!r} through Redis.", flush=True)
        print_banner(args.host, port, tls, None if args.token else token, args.join_url)

    with StopRequest() as stop, stop_on(stop):
        return workers.supervise(
            args.workers, argv, args.host, args.port, token, stop, banner, start_poll=args.question is not None
        )


def tell_supervisor(fd: Optional[int], node: str) -> None:
    """A worker listens: write its node id to the supervisor's pipe, and close it."""
    if fd is None:
        return
    try:
        os.write(fd, f"{node}\n".encode("ascii"))
        os.close(fd)
    except OSError as exc:  # the supervisor is gone: serve() notices and stops
        logger.warning("cannot tell the supervisor this worker listens: %s", exc)


def serve(
    server: PollServer,
    hub: Hub,
    stop: StopRequest,
    db: "Optional[Union[str, os.PathLike[str]]]" = None,
    *,
    supervisor: Optional[int] = None,
    label: str = "pollhub",
) -> int:
    """Serve until ``stop`` is set or the hub thread ends; then stop both and print a summary.

    Returns the exit status: 0 once stopped, 1 when the hub thread ended by
    itself (the server is then stopped at once). Never waits for a hub that
    is not running: the summary then says the polls could not be read.
    With the pid of a ``--workers`` ``supervisor``, it also stops (status 1)
    once that process is no longer its parent: the supervisor died and this
    worker was re-parented (see pollhub.workers). ``label`` starts the summary.
    """
    status = 0
    try:
        while not stop.wait(HUB_CHECK_INTERVAL):
            if not hub.running:
                logger.error("the hub thread has stopped: stopping the server")
                print("pollhub: the hub thread stopped unexpectedly; exiting.", file=sys.stderr, flush=True)
                status = 1
                break
            if supervisor is not None and os.getppid() != supervisor:
                logger.error("the supervisor (pid %d) is gone: stopping", supervisor)
                status = 1
                break
    finally:
        server.stop(timeout=SHUTDOWN_GRACE)  # clients get the 1001 close; then the hub commits and stops
        polls: Optional[List[Poll]] = None
        if hub.running:
            try:
                polls = hub.polls()
            except Unavailable:
                pass
        hub.stop()
    saved = f", saved to {db}" if db else ""
    if polls is None:
        print(f"{label} stopped: the polls could not be read (the hub was not running){saved}.", flush=True)
    else:
        votes = sum(p.total for p in polls)
        print(f"{label} stopped: {len(polls)} poll(s), {votes} vote(s) counted{saved}.", flush=True)
    return status


@contextlib.contextmanager
def server_settings() -> Iterator[None]:
    """CPython settings for a process of thousands of mostly idle threads; restored after.

    The GIL: a thread waiting for it wakes every switch interval to ask for
    it. When thousands of read threads wake at once (a hall leaving together,
    every socket closed in the same second), 5 ms had them waking each other
    for seconds: 5,000 clients leaving at once cost 23 to 36 s of CPU,
    against 2 s with 0.2 s. pollhub's threads hold the GIL only between blocking
    calls (the hub thread drops it at every ``send``), so nothing here waits
    for the longer interval. The garbage collector: everything made before
    serving is frozen out of its passes, and young objects are collected
    every 10,000 allocations instead of 700 (a connection makes hundreds),
    about 7% of the CPU of a burst of connections. The library leaves both to
    the program it is embedded in.
    """
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.unfreeze()


def public_url(text: str) -> str:
    """A ``--join-url``: an http(s) URL with a host, ending in ``/``."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// address such as https://polls.example.org/, not {text!r}")
    return text if text.endswith("/") else text + "/"


def scale_range(text: str) -> Tuple[int, int]:
    """``"1-5"``, ``"0..10"`` or ``"-2:2"`` as ``(min, max)``, for ``--scale``."""
    match = re.fullmatch(r"\s*(-?\d+)\s*(?:-|\.\.|:)\s*(-?\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX such as 1-5, not {text!r}")
    return int(match.group(1)), int(match.group(2))


def trusted_proxy(text: str) -> IPNetwork:
    """``--trusted-proxy``: an IP address or a network such as ``10.0.0.0/8``."""
    try:
        return trusted_network(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def poll_fields(args: argparse.Namespace) -> Dict[str, Any]:
    """The wire fields of the ``--question`` poll from the command line."""
    fields = {"kind": args.kind, "results": args.results, "changes": args.changes}
    fields.update(max_choices=args.max_choices, max_answers=args.max_answers)
    if args.scale is not None:
        fields["min"], fields["max"] = args.scale
    return fields


def start_poll(
    hub: Hub, question: str, options: Sequence[str], fields: Dict[str, Any], close_after: Optional[float] = None
) -> None:
    """Make the ``--question`` poll current, reusing a saved poll with that question.

    A saved poll keeps its votes and takes the given ``results`` and
    ``changes``; the saved current poll stays current. Raises ``BadMessage``
    when the saved poll has other options or another kind or kind setting.
    With ``close_after``, the poll is (re)opened with that countdown.
    """
    question, labels, settings = check_new_poll(question, options, fields)
    for poll in hub.polls():
        if poll.question == question:
            saved = [o.label for o in poll.options]
            fixed = replace(poll.settings, results=settings.results, changes=settings.changes)
            if saved != labels or fixed != settings:
                described = f"options {', '.join(saved)}" if saved else f"settings {poll.settings.to_json()}"
                raise BadMessage(
                    f"the database already has the poll {question!r} as a {poll.kind} poll with {described}; "
                    "give the same --option, --kind and kind settings, another --question, or another --db"
                )
            if poll.settings != settings:
                hub.update_poll(poll.id, settings.results, settings.changes)
            break
    else:
        scale = None
        if settings.scale_min is not None and settings.scale_max is not None:
            scale = (settings.scale_min, settings.scale_max)
        poll = hub.create_poll(
            question, labels, settings.kind, max_choices=settings.max_choices, scale=scale,
            max_answers=settings.max_answers, results=settings.results, changes=settings.changes,
        )
        hub.set_current(poll.id)
    if close_after is not None:
        hub.open_poll(poll.id, close_after)


def raise_file_limit() -> None:
    """Let this process open as many sockets as its hard limit allows (one per connection)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def print_banner(host: str, port: int, tls: bool, generated_token: Optional[str], public_url: Optional[str] = None) -> None:
    """What a server on ``host:port`` tells at start: its addresses, the QR code, the presenter's link.

    The link shows ``generated_token``, or ``<your --token>`` for a token the user gave (None).
    With ``public_url`` (``--join-url``: a proxy's address) that is where participants join.
    """
    url, join = ws_url(host, port, tls), public_url or join_url(host, port, tls)
    print(f"pollhub {__version__} listening on {url}", flush=True)
    if public_url:
        print(f"Join at {public_url}")
    else:
        hosts = (lan_addresses() or ["127.0.0.1"]) if host in ("0.0.0.0", "::", "") else [host]
        print("Join from any phone or laptop on this network:")
        for name in hosts:
            print(f"  {page_url(name, port, tls)}")
    print_qr(join)
    token = generated_token or "<your --token>"
    print(f"Presenter page (it holds the admin token: keep it private): {join}present#token={token}")
    print(f"Scripts: python -m pollhub vote {url} OPTION")
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
    parser.add_argument(
        "choice", nargs="+", metavar="CHOICE",
        help=(
            "an option's id or label (several for a multiple-choice poll; for a ranking, the options in your order,"
            " first to last), a scale's value, or answers for a words poll"
        ),
    )
    parser.add_argument("--poll", help="the poll's id (default: the current poll)")
    parser.add_argument("--voter", help="your voter id (voting again with it moves your vote)")
    parser.add_argument("--nickname", metavar="NAME", help="take this nickname first (a quiz answer needs one; 2 to 20 characters)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default: %(default)g)")
    args = parser.parse_args(argv)
    try:
        with PollClient(args.url, voter=args.voter, timeout=args.timeout) as client:
            if args.nickname is not None:
                client.set_nickname(args.nickname)
            choice = client.vote(vote_choice(client, args.poll, args.choice), poll=args.poll)
            poll = client.poll(args.poll)
            playing = f" as {_shown(repr(client.nickname))}" if client.nickname else ""
    except (PollhubError, OSError, TimeoutError, ValueError) as exc:
        return _request_failed("vote", args.url, exc)
    print(f"Voted {_shown(repr(choice))} in {_shown(repr(poll.id))}{playing}: {format_results(poll.result_fields())}")
    return 0


def vote_choice(client: PollClient, poll_id: Optional[str], given: Sequence[str]) -> Choice:
    """The CHOICE arguments of ``vote`` as a vote in the poll (None: the current one), as its kind takes it.

    A poll whose vote is a list of options (``multiple``, ``ranking``, whose
    list is the voter's order, first to last) gets a list, in the order
    given, even of one; another poll gets the one choice, or a list of
    several (the answers of a words poll). A poll the client has not heard
    of gets the same, and the server says what is wrong.
    """
    try:
        kind: Optional[str] = client.poll(poll_id).kind
    except KeyError:  # no such poll, or no current one
        kind = None
    if len(given) > 1 or (kind is not None and CHOICE_FIELDS.get(kind) == "options"):
        return list(given)
    return given[0]


def _request_failed(command: str, url: str, exc: Exception) -> int:
    """Print why ``pollhub COMMAND`` failed (the server's refusal, or that it cannot reach ``url``); returns exit status 1."""
    if isinstance(exc, PollhubError):
        print(f"pollhub {command}: {_shown(exc)} ({_shown(exc.code)}){_nickname_hint(exc)}", file=sys.stderr)
    else:
        print(f"pollhub {command}: cannot reach {url}: {_shown(exc)}", file=sys.stderr)
    return 1


def _nickname_hint(error: PollhubError) -> str:
    """For ``nickname_taken``: ``; try --nickname NAME`` with the free nickname the server suggested, else nothing."""
    suggestion = error.details.get("suggestion")
    if error.code != "nickname_taken" or not suggestion:
        return ""
    return f"; try --nickname {_shown(repr(suggestion))}"


def ask_command(argv: Sequence[str]) -> int:
    """``pollhub ask URL TEXT``: ask the audience Q&A a question; prints its id and state. Exit status 1 with the server's refusal."""
    parser = argparse.ArgumentParser(prog="python -m pollhub ask", description="Ask a question in the audience Q&A and exit.")
    parser.add_argument("url", help="the server, e.g. ws://192.168.1.20:8765/ws or 192.168.1.20:8765")
    parser.add_argument("text", help="the question (up to 280 characters)")
    parser.add_argument("--name", help="sign the question with this name (default: anonymous)")
    parser.add_argument("--voter", help="your voter id (to upvote or see your question later as its asker)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default: %(default)g)")
    args = parser.parse_args(argv)
    try:
        with PollClient(args.url, voter=args.voter, timeout=args.timeout) as client:
            question = client.ask(args.text, name=args.name)
    except (PollhubError, OSError, TimeoutError, ValueError) as exc:
        return _request_failed("ask", args.url, exc)
    state = QUESTION_STATES.get(question["state"], _shown(question["state"]))
    print(f"Asked {_shown(question['id'])} ({state}): {_shown(question['text'])}")
    return 0


def upvote_command(argv: Sequence[str], undo: bool = False) -> int:
    """``pollhub upvote URL ID`` (or ``unvote``): prints the question's upvotes. Exit status 1 with the server's refusal."""
    verb = "unvote" if undo else "upvote"
    parser = argparse.ArgumentParser(
        prog=f"python -m pollhub {verb}",
        description="Take back your upvote of a question and exit." if undo else "Upvote a question in the audience Q&A and exit.",
    )
    parser.add_argument("url", help="the server, e.g. ws://192.168.1.20:8765/ws or 192.168.1.20:8765")
    parser.add_argument("question", help="the question's id, e.g. q3")
    parser.add_argument(
        "--voter",
        help="your voter id (without it each run is a new voter)" if not undo else "the voter id you upvoted with",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default: %(default)g)")
    args = parser.parse_args(argv)
    try:
        with PollClient(args.url, voter=args.voter, timeout=args.timeout) as client:
            upvotes = client.unvote(args.question) if undo else client.upvote(args.question)
    except (PollhubError, OSError, TimeoutError, ValueError) as exc:
        return _request_failed(verb, args.url, exc)
    done = "Took back the upvote of" if undo else "Upvoted"
    print(f"{done} {_shown(args.question)}: {_plural(upvotes, 'upvote')}")
    return 0


def watch_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pollhub watch", description="Print live results until Ctrl-C.")
    parser.add_argument("url", help="the server, e.g. ws://192.168.1.20:8765/ws or 192.168.1.20:8765")
    parser.add_argument("--poll", help="only this poll (default: every poll)")
    args = parser.parse_args(argv)
    try:
        client = PollClient(args.url)
    except (OSError, TimeoutError, ValueError, PollhubError) as exc:
        print(f"pollhub watch: cannot reach {args.url}: {_shown(exc)}", file=sys.stderr)
        return 1
    with StopRequest() as stop, stop_on(stop, (signal.SIGTERM,)):
        return _watch(client, args.poll, stop)


def _watch(client: PollClient, only: Optional[str], stop: StopRequest) -> int:
    """Print each update until ``stop``, Ctrl-C or the server's close (status 1)."""
    try:
        while not stop.is_set():
            for message in client.updates(timeout=0.5):
                line = _describe(message, only)
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


def _shown(value: object) -> str:
    """Text from a server, safe to print: no control, format or bidi character reaches the terminal."""
    return text.escape(value, TERMINAL_LIMIT)


def _describe(message: Dict[str, Any], only: Optional[str]) -> Optional[str]:
    """The line(s) ``watch`` prints for a message from the server, or None; every server string escaped."""
    kind = message["type"]
    if kind == "welcome":
        lines = [f"{_shown(p['id'])}: {format_results(p)}" for p in message["polls"] if only in (None, p["id"])]
        return "\n".join(lines) or "(no polls yet)"
    if kind == "results" and only in (None, message["poll"]):
        return f"{_shown(message['poll'])}: {format_results(message)}"
    if kind == "poll" and only in (None, message["poll"]["id"]):
        poll = message["poll"]
        state = "open" if poll["open"] else "closed"
        if poll.get("closes_in") is not None:
            state += f", closes in {poll['closes_in']:g} s"
        return f"{_shown(poll['id'])} ({state}): {format_results(poll)}"
    if kind == "current" and only is None:
        return f"current poll: {_shown(message['poll'])}"
    if kind == "order" and only is None:
        return f"poll order: {', '.join(_shown(p) for p in message['polls'])}"
    if kind == "deleted" and only in (None, message["poll"]):
        return f"{_shown(message['poll'])}: deleted"
    if kind == "leaderboard" and only is None:
        places = ", ".join(f"{e['rank']}. {_shown(e['nickname'])} {e['score']}" for e in message["top"])
        return f"leaderboard ({_plural(message['participants'], 'participant')}): {places or 'nobody yet'}"
    return None


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def format_results(data: Dict[str, Any]) -> str:
    """A poll's or a results message's counts on one line: ``a 3, b 1 (4 votes, 3 voters)``; keys escaped.

    A ranking's (its results carry ``positions``) come the highest score
    first, each with its average place: ``b 5 (place 1.5), a 1 (place 3.0)
    (6 points, 2 voters)``.
    """
    if "counts" not in data:
        return "results not shown yet"
    positions = data.get("positions")
    if isinstance(positions, dict):
        return _format_ranking(data, positions)
    parts = [f"{_shown(key)} {count}" for key, count in data["counts"].items()]
    summary = f"{_plural(data.get('total', 0), 'vote')}, {_plural(data.get('voters', 0), 'voter')}"
    if data.get("mean") is not None:
        summary += f", mean {data['mean']:g}"
    return f"{', '.join(parts) or 'no answers yet'} ({summary})"


def _format_ranking(data: Dict[str, Any], positions: Dict[str, Any]) -> str:
    ranked = sorted(data["counts"].items(), key=lambda item: -item[1])
    parts = [
        f"{_shown(key)} {score}" + ("" if positions.get(key) is None else f" (place {positions[key]:g})")
        for key, score in ranked
    ]
    summary = f"{_plural(data.get('total', 0), 'point')}, {_plural(data.get('voters', 0), 'voter')}"
    return f"{', '.join(parts)} ({summary})"


# export ------------------------------------------------------------------------------

#: One row per option, scale value or answer (hidden answers left out): see pollhub.export.
EXPORT_COLUMNS = export.EXPORT_COLUMNS


def export_command(argv: Sequence[str]) -> int:
    """``pollhub export``: print a database's polls and complete results as CSV or JSON; returns the exit status.

    The output is :mod:`pollhub.export`'s, the same as the server's
    ``/export.csv`` and ``/export.json``: CSV cells a spreadsheet would run as
    a formula get a leading ``'``. Exit status 2 for a database that cannot be
    read, 1 for an unknown ``--poll``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m pollhub export", description="Write saved results to standard output (the server may be running)."
    )
    parser.add_argument("--db", metavar="PATH", help=f"the database (default: {default_path()})")
    parser.add_argument("--redis", metavar="URL", help="read the event from this Redis instead of a database")
    parser.add_argument("--event", default=DEFAULT_EVENT, metavar="NAME", help="with --redis: the event (default: %(default)s)")
    parser.add_argument("--poll", help="only this poll, without the questions (default: every poll and the questions)")
    parser.add_argument("--format", choices=export.FORMATS, default="csv", help="(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.redis and args.db:
        parser.error("--redis and --db exclude each other")
    try:
        if args.redis:
            book = read_event(args.redis, args.event)
            polls, current, qa, players = list(book.polls.values()), book.current, book.qa, book.quiz
        else:
            store = Store(args.db or default_path(), readonly=True)
            try:
                polls, current, _, qa, players = store.load()
            finally:
                store.close()
    except (StorageError, ClusterError) as exc:
        print(f"pollhub export: {exc}", file=sys.stderr)
        return 2
    if args.poll is not None:
        polls = [p for p in polls if p.id == args.poll]
        if not polls:
            print(f"pollhub export: there is no poll {args.poll!r}", file=sys.stderr)
            return 1
    questions = qa.questions.values() if args.poll is None else ()  # --poll: that poll's results only
    document = export.export_document(polls, current, questions=questions, players=players if args.poll is None else None)
    if args.format == "json":
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        sys.stdout.write(export.to_csv(document))
    return 0
