"""How long a node takes to join an event with many votes behind it (README: Several nodes, one event).

Starts a private redis-server (appendonly yes, appendfsync always) in a
temporary directory and one node on it; appends VOTES votes of VOTERS voters
straight to the event's log, as nodes would (pipelines of 10,000); waits
until the node has applied them all (it writes snapshots as it goes, and the
stream is trimmed behind them); then starts a second node JOINS times and
prints how long each start took: loading the newest snapshot and applying
the entries after it.

Run: python benchmarks/join_cluster.py [--votes 1000000] [--voters 200000] [--joins 3]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cluster import RedisServer  # benchmarks/cluster.py (also puts the repository on sys.path)

from pollhub import Hub
from pollhub.cluster import encode_command
from pollhub.protocol import Vote

EVENT = "join-bench"
CHUNK = 10_000
CATCH_UP_TIMEOUT = 600.0  # seconds the first node may take to apply every appended vote


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--voters", type=int, default=200_000)
    parser.add_argument("--joins", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pollhub-join-") as folder:
        server = RedisServer(Path(folder), pin=False)
        try:
            run(server, args)
        finally:
            server.stop()


def run(server: RedisServer, args: argparse.Namespace) -> None:
    with server.client() as client:
        url = server.url
        with Hub(redis=url, event=EVENT) as first:
            poll = first.create_poll("Lunch?", ["Pizza", "Salad", "Soup"])
            commands = [encode_command(Vote(option, poll.id)) for option in ("pizza", "salad", "soup")]
            key = f"pollhub:{{{EVENT}}}:log"
            started = time.monotonic()
            for start in range(0, args.votes, CHUNK):
                pipe = client.pipeline(transaction=False)
                for n in range(start, min(args.votes, start + CHUNK)):
                    fields = {"o": "loader", "n": n + 1, "v": f"voter-{n % args.voters}", "a": "0", "c": commands[n % 3]}
                    pipe.xadd(key, fields)
                pipe.execute()
            print(f"appended {args.votes:,} votes in {time.monotonic() - started:.1f} s")
            last = client.xrevrange(key, count=1)[0][0].decode()
            deadline = time.monotonic() + CATCH_UP_TIMEOUT
            while first._call(lambda: first._sharing.position if first._sharing else "") != last:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the node did not apply every vote within {CATCH_UP_TIMEOUT:g} s")
                time.sleep(0.2)
            snapshot = client.hget(f"pollhub:{{{EVENT}}}:snapshot", "book") or b""
            print(f"stream: {client.xlen(key):,} entries kept; snapshot: {len(snapshot) / 1e6:.1f} MB")
            times = []
            for _ in range(args.joins):
                started = time.monotonic()
                with Hub(redis=url, event=EVENT) as late:
                    times.append(time.monotonic() - started)
                    assert late.poll(poll.id).total == min(args.votes, args.voters)
            print("joins (s): " + ", ".join(f"{t:.2f}" for t in times) + f"; median {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
