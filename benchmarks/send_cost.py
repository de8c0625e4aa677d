"""The per-client cost of a broadcast, from the hub's side: what one ``client.send(message)`` costs.

Starts a pollhub server in this process with N real WebSocket connections
(clients in this process that never read, so every frame stays in the kernel
buffers and nothing else competes for the CPU), then times, for the same
sockets and the same frame, rounds of:

* ``sock.send``: a bare non-blocking ``send`` of the frame on each socket, the floor;
* ``SendQueue.offer``: pollhub's write path without the layers above it;
* ``Connection.send_frame``;
* ``Participant.send``: what the hub thread calls for every client.

Prints the median over rounds of microseconds per client, and each path's
overhead over the bare send. Pinned to one CPU where the system allows.

Run: python benchmarks/send_cost.py [--clients 1000] [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's pollhub

from pollhub import COUNTER, Hub, PollServer
from pollhub.cli import raise_file_limit
from pollhub.connection import _DONTWAIT
from pollhub.protocol import Message, results, results_key
from tests.rawws import RawClient


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=40, help="rounds of each path, taking turns (default: 40)")
    args = parser.parse_args()
    raise_file_limit()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    with Hub() as hub, PollServer(hub, port=0, max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0) as server:
        hub.create_poll("Bench", ["a", "b"], kind=COUNTER)
        clients = []
        for _ in range(args.clients):
            client = RawClient(server.port)
            client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            client.handshake()
            clients.append(client)
        deadline = time.monotonic() + 30
        while server.connection_count < args.clients or hub.client_count() < args.clients:
            if time.monotonic() > deadline:
                raise SystemExit("the clients did not all connect")
            time.sleep(0.05)
        time.sleep(0.5)  # the welcomes are out
        with server._lock:
            conns = list(server._connections.values())
        participants = [conn.participant for conn in conns]  # type: ignore[attr-defined]
        queues = [conn._queue for conn in conns]
        socks = [conn.sock for conn in conns]
        message = Message(results("bench", {"counts": {"a": 123456, "b": 654321}, "total": 777777, "voters": 4}, 1), key=results_key("bench"))
        frame, key, seal = message.frame, message.key, message.seal

        def bare() -> None:
            for sock in socks:
                sock.send(frame, _DONTWAIT)

        def offer() -> None:
            for q in queues:
                q.offer(frame, key, seal)

        def send_frame() -> None:
            for conn in conns:
                conn.send_frame(frame, key, seal)

        def participant_send() -> None:
            for participant in participants:
                participant.send(message)

        paths = {"sock.send": bare, "SendQueue.offer": offer, "Connection.send_frame": send_frame, "Participant.send": participant_send}
        times = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, run in paths.items():
                started = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - started) / len(conns) * 1e6)
        queued = sum(q.qsize() for q in queues)
        for client in clients:
            client.close()
    floor = statistics.median(times["sock.send"])
    print(f"{len(conns)} clients, {args.rounds} rounds of each path, {len(frame)}-byte frame; us per client (median):")
    for name, values in times.items():
        median = statistics.median(values)
        extra = f"  (+{median - floor:.2f} over the bare send)" if name != "sock.send" else ""
        print(f"  {name:24s} {median:6.2f}{extra}")
    if queued:
        print(f"({queued} frames were queued instead of sent: the kernel buffers filled; use fewer rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
