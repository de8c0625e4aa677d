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
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from pollhub import Hub
from pollhub.cluster import encode_command
from pollhub.protocol import Vote

EVENT = "join-bench"
CHUNK = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--voters", type=int, default=200_000)
    parser.add_argument("--joins", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pollhub-join-"))
    sock = folder / "redis.sock"
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(sock), "--dir", str(folder),
         "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(unix_socket_path=str(sock))
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        url = f"unix://{sock}"
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
            while first._call(lambda: first._sharing.position if first._sharing else "") != last:
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
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
