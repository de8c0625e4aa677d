"""``python -m pollhub bench``: rehearse an event against a running pollhub.

Opens N participant connections and V voters, votes (at a steady ``--rate``,
or ``--votes`` each as fast as the server takes them), and reports the connect
rate, the fan-out latency from a vote to every participant seeing it, votes
per second, lost or duplicated votes and the server's memory.

Given several URLs (the nodes of one event shared through Redis), it spreads
participants and voters over them in turn (round robin: the first voter, which
creates the bench's poll, on the first node) and rehearses the event as a
whole: every participant on every node must end at the same total, the base
plus every vote acknowledged by any node. The report then also has one entry
per node (``nodes``): its connections, the votes its voters got acknowledged,
its latency figures, votes lost or duplicated as its participants see them,
and every participant of it whose final total differs.

``--scenario qa`` rehearses the audience Q&A instead (:class:`QABench`): a
few participants ask questions, then every participant upvotes and unvotes
them, and the report has upvotes per second, the latency from an upvote to
each participant seeing the new count, and whether every participant ends
with every question's exact count.

``--scenario quiz`` rehearses a quiz question (:class:`QuizBench`, needs the
admin token): every participant takes a nickname, answers the moment the
question opens, and gets its score when the answer is revealed; the report has
answers per second, the time from the open to every answer acknowledged, the
time from the reveal to every participant holding its score message, and
whether every answer was counted and every score and rank is exact.

To be the measuring instrument and not the bottleneck, it runs every
connection in one thread on non-blocking sockets and ``selectors`` (epoll on
Linux), with just enough WebSocket framing: it reads frame headers, and of each
``results`` message only its ``total``, without decoding the JSON.

Latency: the k-th vote sent is counted once a participant's total for the
bench poll reaches ``base + k``. At a steady rate each results message carries
one new vote and the figure is exact; when the server folds many votes into
one message (``--votes``), each of them is charged the latency of the oldest,
an upper bound. The latency ends when the bytes arrived at that participant's
socket, as the kernel stamps them (``SO_TIMESTAMPNS``, Linux), not when this
one thread got round to reading them: in a real hall every phone reads its
own at once, and the load generator's pass over thousands of sockets would
otherwise count as the server's latency. Both are reported (``latency_ms``,
arrival; ``seen_latency_ms``, read here); without kernel stamps they are the same.
With several nodes, votes sent to different nodes may enter the shared log in
another order than they were sent: the k-th vote sent is still charged when a
participant's total reaches ``base + k``, whichever k votes those are.
"""

from __future__ import annotations

import argparse
import base64
import errno
import functools
import json
import os
import re
import secrets
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections import Counter, deque
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Set, Tuple, Union
from urllib.parse import urlsplit

from .cli import raise_file_limit
from .client import normalize_url

CONNECT_BATCH = 64  # connections opened at once
# Bytes asked of each recv(). Below glibc's mmap threshold (128 KiB) on purpose:
# recv(n) allocates n bytes and shrinks the result, and an allocation that big
# is an mmap() and an mremap() every call, which made recv() cost 13 us instead
# of 4 and the load generator, not the server, the bottleneck at 5,000 participants.
RECV_SIZE = 65536
SETTLE_TIMEOUT = 10.0  # seconds to wait for the last results after the last vote
DIFFERING_SHOWN = 20  # participants whose final total differs, listed per node (all are counted)
MASK = b"\x9f\x3c\x5a\x71"  # one masking key for every frame: the server must not care
_TOTAL = re.compile(rb'"total":(\d+)')
# Arrival stamps for every segment received (Linux; 35 on its common ports, and
# a socket that refuses it turns the stamps off): see _read.
SO_TIMESTAMPNS: Optional[int] = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None)
_TIMESPEC = struct.Struct("@ll")  # struct timespec: seconds, nanoseconds
SCENARIOS = ("votes", "qa", "quiz")  # votes: voters flood a counter poll; qa: participants upvote and unvote questions; quiz: answer one question
QA_QUESTIONS = 20  # questions the qa scenario asks, by default
QUESTIONS_PER_ASKER = 5  # the qa scenario's askers each ask this many (a server takes 10 a minute from one voter)
_QUESTION_PREFIX = b'{"type":"question'  # a "question" or "questions" message (a "question_removed" holds no count)
_QUESTION_ID = re.compile(rb'"id":"([^"\\]+)"')
_UPVOTES = re.compile(rb'"upvotes":(\d+)')
_REPLY_QUESTION = re.compile(rb'"question":"([^"\\]+)"')
_REPLY_UPVOTED = re.compile(rb'"upvoted":(true|false)')
QUIZ_OPTIONS = ["a", "b", "c", "d"]  # the quiz scenario's question: "a" is correct
QUIZ_TIME_LIMIT = 120  # seconds: the question stays open long enough for the slowest answer; the bench closes it
WRONG_EVERY = 4  # in the quiz scenario every fourth participant answers wrong ("b")


def mask_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame."""
    n = len(payload)
    header = struct.pack("!BB", 0x80 | opcode, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x80 | opcode, 0xFE, n)
    key = (MASK * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big") if n else b""
    return header + MASK + masked


class LatencyHistogram:
    """Latencies in 0.1 ms steps up to 60 s, each with a weight; percentiles from the counts."""

    STEP = 0.0001
    SIZE = 600_000

    def __init__(self) -> None:
        self.counts: Dict[int, int] = {}
        self.n = 0
        self.max = 0.0

    def add(self, seconds: float, weight: int = 1) -> None:
        index = min(int(seconds / self.STEP), self.SIZE)
        counts = self.counts
        counts[index] = counts.get(index, 0) + weight
        self.n += weight
        self.max = max(self.max, seconds)

    def summary(self) -> Dict[str, Optional[float]]:
        """p50, p90, p99 and max, in milliseconds."""
        figures = [self.percentile(p) for p in (50, 90, 99)] + [self.max if self.n else None]
        return {name: round(v * 1000, 2) if v is not None else None for name, v in zip(("p50", "p90", "p99", "max"), figures)}

    def percentile(self, p: float) -> Optional[float]:
        if not self.n:
            return None
        target, running = p / 100 * self.n, 0
        for index in sorted(self.counts):
            running += self.counts[index]
            if running >= target:
                return (index + 1) * self.STEP
        return self.max


class Peer:
    """One WebSocket connection driven by the bench loop."""

    __slots__ = (
        "sock", "role", "node", "buffer", "out", "open", "total", "welcomed", "acked", "rejected", "backwards", "wanted",
        "counts", "upvoted", "pending", "answered_at", "score",
    )  # fmt: skip

    def __init__(self, sock: socket.socket, role: str, node: int = 0) -> None:
        self.sock = sock
        self.role = role  # "subscriber" or "voter"
        self.node = node  # index of its server in Bench.nodes
        self.buffer = b""
        self.out = b""
        self.open = False
        self.total = -1
        self.welcomed = False
        self.acked = 0
        self.rejected = 0
        self.backwards = 0
        self.wanted = 0  # votes this voter still has to send
        self.counts: Dict[str, int] = {}  # qa: question id -> its upvotes as this participant last saw them
        self.upvoted: Dict[str, bool] = {}  # qa: question id -> whether the server's last reply said this voter upvotes it
        self.pending: Deque[Tuple[str, int]] = deque()  # qa: upvotes (+1) and unvotes (-1) sent, not answered yet, in order
        self.answered_at = 0.0  # quiz: when this participant sent its answer (0: not yet)
        self.score: Optional[Dict[str, Any]] = None  # quiz: the score message of the bench's question


MemoryProbe = Callable[[], Optional[int]]


class Node:
    """One server the bench spreads its connections over, and its own figures."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        parts = urlsplit(self.url)
        if parts.scheme != "ws":
            raise ValueError("bench speaks plain ws:// only")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/ws"
        self.latency = LatencyHistogram()
        self.seen_latency = LatencyHistogram()
        self.refused = 0


class Bench:
    """The load generator; :meth:`run` returns the report as a dict.

    ``url`` is one server, or several serving one event (connections are
    spread over them in turn). ``memory`` reads a server's resident memory:
    one function, or one per URL (default: each server's ``/metrics``).
    """

    def __init__(
        self,
        url: Union[str, Sequence[str]],
        clients: int = 100,
        voters: int = 1,
        rate: Optional[float] = None,
        votes: Optional[int] = None,
        duration: float = 10.0,
        poll: Optional[str] = None,
        token: Optional[str] = None,
        progress: bool = False,
        stalled: int = 0,
        memory: Optional[Union[MemoryProbe, Sequence[MemoryProbe]]] = None,
    ) -> None:
        urls = [url] if isinstance(url, str) else list(url)
        if not urls:
            raise ValueError("bench needs at least one server URL")
        self.nodes = [Node(u) for u in urls]
        first = self.nodes[0]
        self.url, self.host, self.port, self.path = first.url, first.host, first.port, first.path
        self.clients, self.voters = clients, voters
        self.rate = rate if votes is None else None
        self.votes_each = votes
        self.duration = duration
        self.poll = poll
        self.token = token
        self.progress = progress
        self.stalled = stalled
        if memory is None:
            self.memories: List[MemoryProbe] = [functools.partial(server_memory, n.host, n.port) for n in self.nodes]
        elif callable(memory):
            self.memories = [memory]
        else:
            self.memories = list(memory)
        if len(self.memories) != len(self.nodes):
            raise ValueError("memory: one function per server URL")
        self._closed = False
        self._turn = {"subscriber": 0, "voter": 0, "stalled": 0}  # round robin over the nodes, per role
        self._stalled_socks: List[socket.socket] = []
        self.selector = selectors.DefaultSelector()
        self.peers: List[Peer] = []
        self.sent_times: List[float] = []
        self.base = 0
        self.latency = LatencyHistogram()
        self.seen_latency = LatencyHistogram()
        self.stamped = SO_TIMESTAMPNS is not None  # the kernel's arrival times are used
        self.clock = time.time if self.stamped else time.perf_counter  # the kernel stamps in time.time()'s clock
        self.refused = 0
        self.created_poll: Optional[str] = None
        self.poll_kind: Optional[str] = None
        self._fast_prefix = b"\x00"  # the messages _fast reads (none until the poll is known)

    # Setup -------------------------------------------------------------------------

    def _next_node(self, role: str) -> Node:
        """The node the next connection of ``role`` goes to, in turn."""
        turn = self._turn[role]
        self._turn[role] = turn + 1
        return self.nodes[turn % len(self.nodes)]

    def _handshake(self, node: Optional[Node] = None) -> bytes:
        node = node or self.nodes[0]
        key = base64.b64encode(os.urandom(16)).decode()
        return (
            f"GET {node.path} HTTP/1.1\r\nHost: {node.host}:{node.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()

    def _participants(self, deadline: float, report: Dict[str, Any]) -> List[Peer]:
        """Connect ``clients`` participants and wait for their welcomes; how it went goes in ``report``."""
        seconds = self.connect_all(self.clients, "subscriber", deadline)
        participants = [p for p in self.peers if p.role == "subscriber"]
        report.update(
            connected=len(participants),
            refused=self.refused,
            connect_per_second=round(len(participants) / seconds, 1) if seconds else None,
        )
        if not self._wait(lambda: all(p.welcomed or not p.open for p in self.peers), SETTLE_TIMEOUT):
            raise RuntimeError("not every connection got its welcome")
        return participants

    def _memory(self, before: Optional[int], participants: List[Peer], report: Dict[str, Any]) -> None:
        """The servers' memory now, and per participant since ``before``, into ``report`` (when it can be read)."""
        after = _added([probe() for probe in self.memories])
        if before and after and participants:
            report["server_memory_bytes"] = after
            report["memory_per_connection_bytes"] = round((after - before) / len(participants))

    def connect_all(self, count: int, role: str, deadline: float) -> float:
        """Open ``count`` connections, ``CONNECT_BATCH`` at a time; returns the seconds it took."""
        started = time.perf_counter()
        pending: List[Peer] = []
        opened = 0
        while opened < count or pending:
            while opened < count and len(pending) < CONNECT_BATCH:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.stamped and SO_TIMESTAMPNS is not None:
                    try:  # the kernel notes when each segment arrives: see _read
                        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                    except OSError:
                        self.stamped = False
                node = self._next_node(role)
                code = sock.connect_ex((node.host, node.port))
                if code not in (0, errno.EINPROGRESS):
                    self.refused += 1
                    node.refused += 1
                    sock.close()
                    opened += 1
                    continue
                peer = Peer(sock, role, self.nodes.index(node))
                peer.out = self._handshake(node)
                self.selector.register(sock, selectors.EVENT_WRITE | selectors.EVENT_READ, peer)
                pending.append(peer)
                opened += 1
            self._poll(0.05)
            still = []
            for peer in pending:
                if peer.open:
                    self.peers.append(peer)
                elif peer.sock.fileno() < 0:
                    self.refused += 1
                    self.nodes[peer.node].refused += 1
                else:
                    still.append(peer)
            pending = still
            if time.monotonic() > deadline:
                raise TimeoutError(f"connecting took longer than the deadline ({len(pending)} pending)")
        return time.perf_counter() - started

    # The loop ----------------------------------------------------------------------

    def _poll(self, timeout: float) -> None:
        for key, events in self.selector.select(timeout):
            peer: Peer = key.data
            if events & selectors.EVENT_WRITE:
                self._write(peer)
            if events & selectors.EVENT_READ:
                self._read(peer)

    def _write(self, peer: Peer) -> None:
        if peer.out:
            try:
                sent = peer.sock.send(peer.out)
            except BlockingIOError:
                return
            except OSError:
                self._drop(peer)
                return
            peer.out = peer.out[sent:]
        if not peer.out and peer.sock.fileno() >= 0:
            self.selector.modify(peer.sock, selectors.EVENT_READ, peer)

    def _send(self, peer: Peer, data: bytes) -> None:
        if peer.out:
            peer.out += data
            return
        try:
            sent = peer.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(peer)
            return
        if sent < len(data):
            peer.out = data[sent:]
            self.selector.modify(peer.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, peer)

    def _drop(self, peer: Peer) -> None:
        if peer.sock.fileno() >= 0:
            self.selector.unregister(peer.sock)
            peer.sock.close()
        peer.open = False

    def _read(self, peer: Peer) -> None:
        arrived = 0.0
        try:
            if self.stamped:
                data, ancdata, _, _ = peer.sock.recvmsg(RECV_SIZE, 64)
                for level, kind, value in ancdata:
                    if kind == SO_TIMESTAMPNS and level == socket.SOL_SOCKET:
                        seconds, nanoseconds = _TIMESPEC.unpack_from(value)
                        arrived = seconds + nanoseconds * 1e-9
            else:
                data = peer.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(peer)
            return
        buf = peer.buffer + data if peer.buffer else data
        start = 0
        if not peer.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                peer.buffer = buf
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self._drop(peer)
                return
            peer.open = True
            start = end + 4
        peer.buffer = self._frames(peer, buf, start, arrived)

    def _frames(self, peer: Peer, buf: bytes, i: int, arrived: float = 0.0) -> bytes:
        """Handle every complete frame in ``buf`` from ``i``; return the incomplete rest."""
        n = len(buf)
        now = 0.0
        fast = self._fast_prefix
        while n - i >= 2:
            opcode, length = buf[i] & 0x0F, buf[i + 1] & 0x7F
            head = 2
            if length == 126:
                if n - i < 4:
                    break
                length, head = (buf[i + 2] << 8) | buf[i + 3], 4
            elif length == 127:
                if n - i < 10:
                    break
                (length,), head = struct.unpack_from("!Q", buf, i + 2), 10
            end = i + head + length
            if end > n:
                break
            start = i + head
            if opcode == 0x1:
                if not now:
                    now = self.clock()
                if buf.startswith(fast, start):  # most messages: the scenario reads only a figure or two of them
                    self._fast(peer, buf, start, end, now, arrived or now)
                else:
                    self._message(peer, buf, start, end)
            elif opcode == 0x9:
                self._send(peer, mask_frame(0xA, buf[start:end]))
            elif opcode == 0x8:
                self._drop(peer)
                return b""
            i = end
        return buf[i:]

    def _message(self, peer: Peer, buf: bytes, start: int, end: int) -> None:
        """A text message other than the bench poll's results."""
        if buf.startswith(b'{"type":"voted"', start):
            peer.acked += 1
        elif buf.startswith(b'{"type":"error"', start):
            peer.rejected += 1
        elif buf.startswith(b'{"type":"welcome"', start):
            welcome = json.loads(buf[start:end])
            if self.poll is None and self.token is None:
                self.poll = welcome["current"]
            for data in welcome["polls"]:
                if data["id"] == self.poll:
                    peer.total = data["total"]
                    self.poll_kind = data["kind"]
            peer.welcomed = True
        elif buf.startswith(b'{"type":"poll"', start) and peer.total < 0:
            # A node that had not applied the bench poll's creation when this
            # peer connected (several nodes: the log reaches each a little apart).
            data = json.loads(buf[start:end])["poll"]
            if data.get("id") == self.poll and isinstance(data.get("total"), int):
                peer.total = data["total"]
        elif buf.startswith(b'{"type":"ok"', start) or buf.startswith(b'{"type":"hello"', start):
            peer.acked += 1
            reply = json.loads(buf[start:end])
            if reply["type"] == "ok" and self.token is not None and self.created_poll is None:
                self.created_poll = self.poll = reply["poll"]
                self.poll_kind = "counter"

    def _fast(self, peer: Peer, buf: bytes, start: int, end: int, now: float, arrived: float) -> None:
        """A results message of the bench poll: only its total matters."""
        match = _TOTAL.search(buf, start, end)
        if match:
            self._saw_total(peer, int(match.group(1)), now, arrived)

    def _saw_total(self, peer: Peer, total: int, now: float, arrived: float) -> None:
        previous = peer.total
        if total > previous:
            peer.total = total
            if peer.role == "subscriber":
                sent = self.sent_times
                first = previous - self.base  # the oldest vote this message newly includes (0-based)
                last = min(total - self.base, len(sent))
                if last > first >= 0:
                    self.latency.add(arrived - sent[first], last - first)
                    self.seen_latency.add(now - sent[first], last - first)
                    if len(self.nodes) > 1:
                        node = self.nodes[peer.node]
                        node.latency.add(arrived - sent[first], last - first)
                        node.seen_latency.add(now - sent[first], last - first)
        elif total < previous:
            peer.backwards += 1

    # Phases ------------------------------------------------------------------------

    def _wait(self, condition: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            self._poll(0.05)
        return True

    def _first(self, deadline: float) -> Peer:
        """Open the first connection; raises ``RuntimeError`` when the server refuses it."""
        self.connect_all(1, "voter", deadline)
        if not self.peers:
            raise RuntimeError(f"{self.url} refused the first connection")
        return self.peers[0]

    def _prepare_poll(self, admin: Peer) -> None:
        """Create a counter poll for the bench when a token is given, else use the current poll."""
        if self.token is None:
            return
        admin.acked = 0
        self._send(admin, mask_frame(0x1, json.dumps({"type": "hello", "token": self.token}).encode()))
        name = f"pollhub bench {time.strftime('%H:%M:%S')}"
        self._send(
            admin,
            mask_frame(0x1, json.dumps({"type": "create_poll", "question": name, "options": ["a", "b"], "kind": "counter"}).encode()),
        )
        if not self._wait(lambda: admin.acked >= 2 or admin.rejected, SETTLE_TIMEOUT) or admin.rejected:
            raise RuntimeError("could not create the bench poll (is the token right?)")

    def run(self) -> Dict[str, Any]:
        """Connect, vote, wait for every participant's last results; the report. Closes every connection, however it ends."""
        try:
            return self._measure()
        finally:
            self._delete_poll()
            self.close()

    def _measure(self) -> Dict[str, Any]:
        deadline = time.monotonic() + max(60.0, self.clients / 100)
        admin = self._first(deadline)  # the first voter also learns which poll to use
        if not self._wait(lambda: admin.welcomed, SETTLE_TIMEOUT):
            raise RuntimeError("no welcome from the server")
        if self.token is not None:
            self._prepare_poll(admin)
        self._find_poll()
        several = len(self.nodes) > 1
        report: Dict[str, Any] = {"url": self.url, "scenario": "votes", "clients": self.clients, "voters": self.voters}
        if several:
            report["urls"] = [node.url for node in self.nodes]
        memory_before = [probe() for probe in self.memories]
        seconds = self.connect_all(self.clients, "subscriber", deadline)
        if self.voters > 1:
            self.connect_all(self.voters - 1, "voter", deadline)
        subscribers = [p for p in self.peers if p.role == "subscriber"]
        voters = [p for p in self.peers if p.role == "voter"]
        report["connected"] = len(subscribers)
        report["refused"] = self.refused
        report["connect_per_second"] = round(len(subscribers) / seconds, 1) if seconds else None
        if not self._wait(lambda: all(p.welcomed or not p.open for p in self.peers), SETTLE_TIMEOUT):
            raise RuntimeError("not every connection got its welcome")
        # The admin, on the first node, heard of the poll before it knew its id; every other connection must know it.
        others = self.peers[1:]
        if several and not self._wait(lambda: all(p.total >= 0 or not p.open for p in others), SETTLE_TIMEOUT):
            unaware = sorted({self.nodes[p.node].url for p in others if p.open and p.total < 0})
            raise RuntimeError(f"poll {self.poll!r} never reached {', '.join(unaware)}: do the servers share one event?")
        memory_after = [probe() for probe in self.memories]
        self._stall()
        total_before, total_after = _added(memory_before), _added(memory_after)
        if total_before and total_after and subscribers:
            report["server_memory_bytes"] = total_after
            report["memory_per_connection_bytes"] = round((total_after - total_before) / len(subscribers))
        self.base = max(p.total for p in self.peers if p.open)
        for voter in voters:
            voter.acked = voter.rejected = 0
        started = time.perf_counter()
        if self.votes_each is not None:
            self._flood(voters)
        else:
            self._steady(voters)
        sent = len(self.sent_times)
        self._wait(lambda: sum(v.acked + v.rejected for v in voters) >= sent, SETTLE_TIMEOUT)
        voting = time.perf_counter() - started
        acked = sum(v.acked for v in voters)
        expected = self.base + acked  # at least: every acknowledged vote must be counted
        self._wait(lambda: all(p.total >= expected or not p.open for p in subscribers), SETTLE_TIMEOUT)
        final = max((p.total for p in subscribers if p.open), default=self.base)
        self._wait(lambda: all(p.total >= final or not p.open for p in subscribers), SETTLE_TIMEOUT)
        report.update(
            votes_sent=sent,
            votes_acked=acked,
            votes_rejected=sum(v.rejected for v in voters),
            votes_per_second=round(acked / voting, 1) if voting else None,
            lost=max(0, expected - final),  # acknowledged, never counted
            duplicated=max(0, final - self.base - sent),  # counted more often than sent
            behind=sum(1 for p in subscribers if p.open and p.total < final),
            went_backwards=sum(p.backwards for p in subscribers),
            dropped=sum(1 for p in subscribers if not p.open),
            latency_ms=self.latency.summary(),
            seen_latency_ms=self.seen_latency.summary(),
            latency_end="arrival" if self.stamped else "read",
        )
        if several:
            nodes = [self._node_report(i, expected, sent, memory_before[i], memory_after[i]) for i in range(len(self.nodes))]
            report.update(
                # Across nodes: a vote lost or duplicated on any node is lost or duplicated.
                lost=max(n["lost"] for n in nodes),
                duplicated=max(n["duplicated"] for n in nodes),
                expected_total=expected,
                differing=sum(n["differing"] for n in nodes),
                nodes=nodes,
            )
        return report

    def _delete_poll(self) -> None:
        """Delete the bench's own poll, if it made one."""
        if self.created_poll is None or not self.peers or not self.peers[0].open:
            return
        admin, poll, self.created_poll = self.peers[0], self.created_poll, None
        acked = admin.acked
        self._send(admin, mask_frame(0x1, json.dumps({"type": "delete_poll", "poll": poll}).encode()))
        self._wait(lambda: admin.acked > acked, 2.0)  # its "ok": the poll is gone before the bench returns

    def _node_report(self, index: int, expected: int, sent: int, memory_before: Optional[int], memory_after: Optional[int]) -> Dict[str, Any]:
        """One node's part of a run over several: what its voters got, what its participants saw."""
        node = self.nodes[index]
        subscribers = [p for p in self.peers if p.role == "subscriber" and p.node == index]
        voters = [p for p in self.peers if p.role == "voter" and p.node == index]
        open_ = [(i, p) for i, p in enumerate(subscribers) if p.open]
        final = max((p.total for _, p in open_), default=self.base)
        differing = [{"participant": i, "total": p.total} for i, p in open_ if p.total != expected]
        report: Dict[str, Any] = {
            "url": node.url,
            "connected": len(subscribers),
            "refused": node.refused,
            "voters": len(voters),
            "votes_acked": sum(v.acked for v in voters),
            "votes_rejected": sum(v.rejected for v in voters),
            "final_total": final,
            "lost": max(0, expected - final),
            "duplicated": max(0, final - self.base - sent),
            "differing": len(differing),
            "differing_participants": differing[:DIFFERING_SHOWN],
            "went_backwards": sum(p.backwards for p in subscribers),
            "dropped": len(subscribers) - len(open_),
            "latency_ms": node.latency.summary(),
            "seen_latency_ms": node.seen_latency.summary(),
        }
        if memory_before and memory_after and subscribers:
            report["server_memory_bytes"] = memory_after
            report["memory_per_connection_bytes"] = round((memory_after - memory_before) / len(subscribers))
        return report

    def _find_poll(self) -> None:
        if self.poll is None:
            raise RuntimeError("there is no current poll: give --poll, or --token to create one")
        if self.poll_kind != "counter":
            raise RuntimeError(f"poll {self.poll!r} is not a counter poll: give --token to vote in a new one")
        self._fast_prefix = b'{"type":"results","poll":"' + self.poll.encode() + b'"'

    def _stall(self) -> None:
        """Open the ``stalled`` participants: they connect and never read again."""
        for _ in range(self.stalled):
            node = self._next_node("stalled")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(SETTLE_TIMEOUT)
            sock.connect((node.host, node.port))
            sock.sendall(self._handshake(node))
            self._stalled_socks.append(sock)

    def _vote_frame(self) -> bytes:
        message: Dict[str, str] = {"type": "vote", "option": "a"}
        if self.poll is not None:
            message["poll"] = self.poll
        return mask_frame(0x1, json.dumps(message, separators=(",", ":")).encode())

    def _steady(self, voters: List[Peer]) -> None:
        frame = self._vote_frame()
        start = time.perf_counter()
        total = int(self.rate * self.duration) if self.rate else 0
        for k in range(total):
            due = start + k / self.rate  # type: ignore[operator]  # paced runs only: rate is set
            while True:
                now = time.perf_counter()
                if now >= due:
                    break
                self._poll(min(due - now, 0.05))
            voter = voters[k % len(voters)]
            self.sent_times.append(self.clock())
            self._send(voter, frame)
            self._show(k + 1, total)
        self._show(total, total, done=True)

    def _flood(self, voters: List[Peer]) -> None:
        frame = self._vote_frame()
        chunk = 64
        for voter in voters:
            voter.wanted = self.votes_each or 0
        total = sum(v.wanted for v in voters)
        stop = time.perf_counter() + self.duration
        while any(v.wanted for v in voters):
            if time.perf_counter() > stop:
                break
            for voter in voters:
                if voter.wanted and not voter.out and voter.open:
                    n = min(chunk, voter.wanted)
                    voter.wanted -= n
                    now = self.clock()
                    self.sent_times.extend([now] * n)
                    self._send(voter, frame * n)
                elif not voter.open:
                    voter.wanted = 0
            self._poll(0)
            self._show(len(self.sent_times), total)
        self._show(total, total, done=True)

    _shown = 0.0
    unit = "votes"  # what the progress bar counts

    def _show(self, done_count: int, total: int, done: bool = False) -> None:
        if not self.progress:
            return
        now = time.monotonic()
        if not done and now - self._shown < 0.2:
            return
        self._shown = now
        width = 30
        filled = int(width * done_count / total) if total else width
        p99 = self.latency.percentile(99)
        latency = f"  p99 {p99 * 1000:.1f} ms" if p99 is not None else ""
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done_count}/{total} {self.unit}{latency}   ")
        if done:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def close(self) -> None:
        """Close every connection (a close frame first where it is open); idempotent."""
        if self._closed:
            return
        self._closed = True
        for sock in self._stalled_socks:
            sock.close()
        for peer in self.peers:
            if peer.open:
                try:
                    peer.sock.send(mask_frame(0x8, struct.pack("!H", 1000)))
                except OSError:
                    pass
            self._drop(peer)
        self.selector.close()


# The Q&A scenario ------------------------------------------------------------------------


class QABench(Bench):
    """The audience Q&A scenario: participants upvote and unvote questions; :meth:`run` returns the report.

    A few participants (the askers, ``QUESTIONS_PER_ASKER`` questions each)
    ask ``questions`` questions. Then, in phases, every participant upvotes
    every question but its own, unvotes about half of them, upvotes those
    again, and so on: ``rate`` upvotes and unvotes a second in all, or
    ``votes`` of them per participant as fast as the server takes them. Every
    participant is also a viewer, and the latency runs from an upvote (or
    unvote) to each participant seeing the new count.

    Within a phase each question's count moves one way only, so the k-th
    upvote sent on a question is charged once a participant's count of it has
    moved k from where the phase began (an upper bound when the server folds
    several into one message, as in the votes scenario). A phase starts once
    every participant has seen the counts the last one left. At the end every
    participant's count of every question must be exact: the number of
    participants whose last reply for it said ``upvoted``. With ``token`` the
    bench dismisses its questions afterwards (and approves them when the
    server moderates); without it they stay.
    """

    unit = "upvotes"

    def __init__(
        self,
        url: Union[str, Sequence[str]],
        clients: int = 100,
        questions: int = QA_QUESTIONS,
        rate: Optional[float] = None,
        votes: Optional[int] = None,
        duration: float = 10.0,
        token: Optional[str] = None,
        progress: bool = False,
        memory: Optional[Union[MemoryProbe, Sequence[MemoryProbe]]] = None,
    ) -> None:
        super().__init__(url, clients=clients, voters=1, rate=rate, votes=votes, duration=duration, token=token, progress=progress, memory=memory)
        if questions < 1 or clients < 2:
            raise ValueError("the qa scenario needs at least one question and two participants")
        self.questions = questions
        self.question_ids: List[str] = []  # the bench's questions, as asked
        self.waiting: List[str] = []  # of those, the ones the server holds for a presenter's approval
        self.asker: Dict[str, Peer] = {}
        self.phase_base: Dict[str, int] = {}  # each question's count when the phase began
        self.phase_sent: Dict[str, List[float]] = {}  # each question's upvotes (or unvotes) sent this phase, when
        self.direction = 1  # +1: the phase upvotes, -1: it unvotes
        self.error: Optional[str] = None  # the last error message a connection got
        self._frames_for: Dict[Tuple[str, int], bytes] = {}
        self._fast_prefix = _QUESTION_PREFIX

    # Messages ------------------------------------------------------------------------

    def _fast(self, peer: Peer, buf: bytes, start: int, end: int, now: float, arrived: float) -> None:
        """A ``question`` message, or a ``questions`` one with several: each count as this participant now sees it."""
        for found in _QUESTION_ID.finditer(buf, start, end):  # each question object's "id" comes before its "upvotes"
            upvotes = _UPVOTES.search(buf, found.end(), end)
            if upvotes is not None:
                self._count_seen(peer, found.group(1).decode(), int(upvotes.group(1)), now, arrived)

    def _count_seen(self, peer: Peer, question: str, count: int, now: float, arrived: float) -> None:
        """``question``'s count as ``peer`` now sees it: the latency of the upvotes it shows for the first time."""
        previous = peer.counts.get(question)
        peer.counts[question] = count
        sent = self.phase_sent.get(question)
        if previous is None or sent is None or count == previous:
            return
        base, direction = self.phase_base[question], self.direction
        before, after = (previous - base) * direction, (count - base) * direction
        if after < before:
            peer.backwards += 1
            return
        first, last = max(before, 0), min(after, len(sent))
        if last > first:
            self.latency.add(arrived - sent[first], last - first)
            self.seen_latency.add(now - sent[first], last - first)

    def _message(self, peer: Peer, buf: bytes, start: int, end: int) -> None:
        if buf.startswith(b'{"type":"upvoted"', start):
            peer.acked += 1
            if peer.pending:
                peer.pending.popleft()  # a connection's replies come in the order it sent
            found, flag = _REPLY_QUESTION.search(buf, start, end), _REPLY_UPVOTED.search(buf, start, end)
            if found and flag:
                peer.upvoted[found.group(1).decode()] = flag.group(1) == b"true"
        elif buf.startswith(b'{"type":"error"', start):
            peer.rejected += 1
            if peer.pending and peer.role == "subscriber":
                peer.pending.popleft()
            self.error = str(json.loads(buf[start:end]).get("message"))
        elif buf.startswith(b'{"type":"asked"', start):
            peer.acked += 1
            question = json.loads(buf[start:end])["question"]
            self.question_ids.append(question["id"])
            self.asker[question["id"]] = peer
            if question["state"] == "waiting":
                self.waiting.append(question["id"])
        elif buf.startswith(b'{"type":"welcome"', start):
            peer.welcomed = True
        elif buf.startswith(b'{"type":"ok"', start) or buf.startswith(b'{"type":"hello"', start):
            peer.acked += 1

    def _frame(self, question: str, direction: int) -> bytes:
        key = (question, direction)
        if key not in self._frames_for:
            message = {"type": "upvote" if direction > 0 else "unvote", "question": question}
            self._frames_for[key] = mask_frame(0x1, json.dumps(message, separators=(",", ":")).encode())
        return self._frames_for[key]

    def _command(self, peer: Peer, message: Dict[str, Any]) -> None:
        self._send(peer, mask_frame(0x1, json.dumps(message).encode()))

    # Setup -----------------------------------------------------------------------------

    def _presenter(self, admin: Peer) -> None:
        """The first connection says hello with the token, to approve and dismiss the bench's questions."""
        if self.token is None:
            return
        admin.acked = admin.rejected = 0
        self._command(admin, {"type": "hello", "token": self.token})
        if not self._wait(lambda: admin.acked or admin.rejected, SETTLE_TIMEOUT) or admin.rejected:
            raise RuntimeError(f"the token was refused: {self.error}")

    def _ask(self, participants: List[Peer]) -> int:
        """The askers ask the bench's questions; every participant must see them. Returns how many asked."""
        askers = participants[: -(-self.questions // QUESTIONS_PER_ASKER)]
        stamp = time.strftime("%H:%M:%S")
        for k in range(self.questions):
            asker = askers[k // QUESTIONS_PER_ASKER]
            self._command(asker, {"type": "ask", "text": f"pollhub bench {stamp}, question {k + 1}", "name": "bench"})
        if not self._wait(lambda: len(self.question_ids) == self.questions or any(a.rejected for a in askers), SETTLE_TIMEOUT):
            raise RuntimeError("the server did not answer the bench's questions")
        if len(self.question_ids) < self.questions:
            raise RuntimeError(f"could not ask the bench's questions: {self.error}")
        if self.waiting:
            self._approve()
        ids = self.question_ids
        if not self._wait(lambda: all(all(q in p.counts for q in ids) or not p.open for p in participants), SETTLE_TIMEOUT):
            raise RuntimeError("not every participant was sent the bench's questions")
        for peer in participants:
            peer.acked = peer.rejected = 0
        return len(askers)

    def _approve(self) -> None:
        """Moderation is on: the presenter connection approves the bench's questions."""
        if self.token is None:
            raise RuntimeError("the server moderates questions: give --token so that the bench approves its own")
        admin = self.peers[0]
        admin.acked = admin.rejected = 0
        for question in self.waiting:
            self._command(admin, {"type": "approve_question", "question": question})
        if not self._wait(lambda: admin.acked + admin.rejected >= len(self.waiting), SETTLE_TIMEOUT) or admin.rejected:
            raise RuntimeError(f"could not approve the bench's questions: {self.error}")

    def _delete_poll(self) -> None:
        """With a token, dismiss the bench's questions (participants stop seeing them)."""
        if self.token is None or not self.question_ids or not self.peers or not self.peers[0].open:
            return
        admin, questions, self.question_ids = self.peers[0], self.question_ids, []
        acked = admin.acked + admin.rejected
        for question in questions:
            self._command(admin, {"type": "dismiss_question", "question": question})
        self._wait(lambda: admin.acked + admin.rejected >= acked + len(questions), 2.0)

    # Phases ----------------------------------------------------------------------------

    def _phase(self, number: int, participants: List[Peer]) -> List[List[Tuple[str, int]]]:
        """Each participant's upvotes (+1) or unvotes (-1) in phase ``number``: all, then by turns half down, half up."""
        ids = self.question_ids
        direction = 1 if number % 2 == 0 else -1
        plan = []
        for i, peer in enumerate(participants):
            turn = ids[i % len(ids):] + ids[: i % len(ids)]  # participants start on different questions
            mine = [q for j, q in enumerate(turn) if self.asker.get(q) is not peer and (number == 0 or (i + j) % 2 == 0)]
            plan.append([(q, direction) for q in mine])
        return plan

    def _start_phase(self, direction: int, participants: List[Peer]) -> None:
        self.direction = direction
        self.phase_base = self._expected(participants)
        self.phase_sent = {q: [] for q in self.question_ids}

    def _send_ops(self, peer: Peer, ops: Sequence[Tuple[str, int]]) -> None:
        now = self.clock()
        for question, _ in ops:
            self.phase_sent[question].append(now)
        peer.pending.extend(ops)
        self._send(peer, b"".join(self._frame(q, d) for q, d in ops))

    def _settle(self, participants: List[Peer], sent: int) -> float:
        """Wait for every reply, then for every participant to see the counts they left; returns when the last reply came.

        Gives up once no reply came for ``SETTLE_TIMEOUT`` seconds, then once
        the counts did not settle within as long.
        """
        replies, deadline = -1, 0.0
        while True:
            now = sum(p.acked + p.rejected for p in participants)
            if now >= sent or not any(p.open for p in participants):
                break
            if now > replies:
                replies, deadline = now, time.monotonic() + SETTLE_TIMEOUT
            elif time.monotonic() > deadline:
                break
            self._poll(0.02)
        replied = time.perf_counter()
        expected = self._expected(participants)
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline and not self._all_see(participants, expected):
            self._poll(0.02)
        return replied

    def _expected(self, participants: List[Peer]) -> Dict[str, int]:
        """Each question's count as the server's replies say: the participants it last told they upvote it."""
        return {q: sum(1 for p in participants if p.upvoted.get(q)) for q in self.question_ids}

    def _all_see(self, participants: List[Peer], expected: Dict[str, int]) -> bool:
        return all(not p.open or all(p.counts.get(q) == n for q, n in expected.items()) for p in participants)

    def _flood_phases(self, participants: List[Peer]) -> Tuple[int, int, float, int]:
        """Phases as fast as the server takes them, until each participant sent ``votes``; (upvotes, unvotes, seconds, phases)."""
        left = [self.votes_each or 0] * len(participants)
        counts = {1: 0, -1: 0}
        seconds, number, stop = 0.0, 0, time.perf_counter() + self.duration
        total = sum(left)
        while any(left) and time.perf_counter() < stop:
            plan = self._phase(number, participants)
            direction = 1 if number % 2 == 0 else -1
            self._start_phase(direction, participants)
            started, sent = time.perf_counter(), 0
            replies = sum(p.acked + p.rejected for p in participants)
            for i, peer in enumerate(participants):
                ops = plan[i][: left[i]] if peer.open else []
                left[i] -= len(ops)
                if ops:
                    self._send_ops(peer, ops)
                    sent += len(ops)
                self._poll(0)
            if not sent:
                break
            counts[direction] += sent
            self._show(counts[1] + counts[-1], total)
            seconds += self._settle(participants, replies + sent) - started
            number += 1
        self._show(total, total, done=True)
        return counts[1], counts[-1], seconds, number

    def _steady_phases(self, participants: List[Peer]) -> Tuple[int, int, float, int]:
        """``rate`` upvotes and unvotes a second, participants in turn, for ``duration``; (upvotes, unvotes, seconds, phases)."""
        assert self.rate is not None
        total = int(self.rate * self.duration)
        counts = {1: 0, -1: 0}
        seconds, number, done = 0.0, 0, 0
        while done < total:
            plan = self._phase(number, participants)
            direction = 1 if number % 2 == 0 else -1
            turns: List[Tuple[Peer, Tuple[str, int]]] = []
            for k in range(max(map(len, plan), default=0)):  # participants in turn
                turns.extend((peer, ops[k]) for peer, ops in zip(participants, plan) if k < len(ops))
            if not turns:
                break
            turns = turns[: total - done]
            self._start_phase(direction, participants)
            started = time.perf_counter()
            replies = sum(p.acked + p.rejected for p in participants)
            for k, (peer, op) in enumerate(turns):
                due = started + k / self.rate
                while True:
                    now = time.perf_counter()
                    if now >= due:
                        break
                    self._poll(min(due - now, 0.05))
                self._send_ops(peer, [op])
                self._show(done + k + 1, total)
            done += len(turns)
            counts[direction] += len(turns)
            seconds += self._settle(participants, replies + len(turns)) - started
            number += 1
        self._show(total, total, done=True)
        return counts[1], counts[-1], seconds, number

    # The run ---------------------------------------------------------------------------

    def _measure(self) -> Dict[str, Any]:
        deadline = time.monotonic() + max(60.0, self.clients / 100)
        admin = self._first(deadline)  # the presenter's connection, when there is a token
        if not self._wait(lambda: admin.welcomed, SETTLE_TIMEOUT):
            raise RuntimeError("no welcome from the server")
        self._presenter(admin)
        report: Dict[str, Any] = {"url": self.url, "scenario": "qa", "clients": self.clients, "questions": self.questions}
        if len(self.nodes) > 1:
            report["urls"] = [node.url for node in self.nodes]
        memory_before = _added([probe() for probe in self.memories])
        participants = self._participants(deadline, report)
        self._memory(memory_before, participants, report)
        report["askers"] = self._ask(participants)
        if self.votes_each is not None:
            upvotes, unvotes, voting, phases = self._flood_phases(participants)
        else:
            upvotes, unvotes, voting, phases = self._steady_phases(participants)
        report.update(self._qa_outcome(participants, upvotes, unvotes, voting, phases))
        return report

    def _qa_outcome(self, participants: List[Peer], upvotes: int, unvotes: int, voting: float, phases: int) -> Dict[str, Any]:
        """The report's figures once the last phase settled: throughput, latency, and whether every count is exact.

        Each question must end at the count the server's replies say; for
        upvotes or unvotes never answered (``unanswered``), anywhere between
        that count with none of them counted and with all of them.
        """
        low, high = self._bounds(participants)
        seeing = [p for p in participants if p.open]
        final = {q: _most_common([p.counts.get(q, -1) for p in seeing], n) for q, n in low.items()}
        acked = sum(p.acked for p in participants)
        return {
            "upvotes_sent": upvotes,
            "unvotes_sent": unvotes,
            "upvotes_acked": acked,
            "upvotes_rejected": sum(p.rejected for p in participants),
            "unanswered": sum(len(p.pending) for p in participants),
            "upvotes_per_second": round(acked / voting, 1) if voting else None,
            "phases": phases,
            "expected_upvotes": sum(low.values()),
            "lost": sum(max(0, n - final[q]) for q, n in low.items()),
            "duplicated": sum(max(0, final[q] - n) for q, n in high.items()),
            "behind": sum(1 for p in seeing if any(p.counts.get(q) != final[q] for q in final)),
            "differing": sum(1 for p in seeing if any(not low[q] <= p.counts.get(q, -1) <= high[q] for q in low)),
            "went_backwards": sum(p.backwards for p in participants),
            "dropped": len(participants) - len(seeing),
            "latency_ms": self.latency.summary(),
            "seen_latency_ms": self.seen_latency.summary(),
            "latency_end": "arrival" if self.stamped else "read",
        }

    def _bounds(self, participants: List[Peer]) -> Tuple[Dict[str, int], Dict[str, int]]:
        """Each question's count with no unanswered upvote or unvote counted, and with every one (the same when all were answered)."""
        low = self._expected(participants)
        high = dict(low)
        for peer in participants:
            for question in {q for q, _ in peer.pending}:
                ops = {d for q, d in peer.pending if q == question}
                upvoted = peer.upvoted.get(question, False)
                if upvoted and -1 in ops:
                    low[question] -= 1
                if not upvoted and 1 in ops:
                    high[question] += 1
        return low, high


# The quiz scenario ----------------------------------------------------------------------


class QuizBench(Bench):
    """The quiz scenario: participants with nicknames answer one question the moment it opens; :meth:`run` returns the report.

    The first connection is the presenter (``token`` is required): it creates
    a quiz question with options a to d (``a`` correct). Every participant
    takes a nickname (``bench-<run>-<n>``, new each run), then, when the
    ``poll`` message says the question is open, answers at once: ``a``, or
    ``b`` for every fourth participant. The presenter opens the question,
    closes it once every answer is acknowledged, and reveals the answer.

    Measured: answers per second (from the first answer sent to the last
    acknowledged), the time from the open to every answer acknowledged and
    to each participant's acknowledgement, and the time from the reveal to
    each participant's ``score`` message (arrival at its socket, as in the
    votes scenario). Checked exactly: the question's counts (the
    presenter's last ``results``) are the answers acknowledged; every
    participant gets one score that says it answered, right or wrong as it
    did, with 0 points when wrong and 500 to 1,000 when right; every rank is
    1 plus the participants with more points (when the leaderboard holds the
    bench's participants only, as on a fresh server). The question is
    deleted afterwards; the nicknames stay on the server.
    """

    unit = "answers"

    def __init__(
        self,
        url: Union[str, Sequence[str]],
        clients: int = 100,
        token: Optional[str] = None,
        progress: bool = False,
        memory: Optional[Union[MemoryProbe, Sequence[MemoryProbe]]] = None,
    ) -> None:
        super().__init__(url, clients=clients, voters=1, token=token, progress=progress, memory=memory)
        if token is None:
            raise ValueError("the quiz scenario needs --token: the bench creates, opens and reveals its question")
        if clients < 1:
            raise ValueError("the quiz scenario needs at least one participant")
        self.tag = format(int(time.time()) % 36**4, "x")  # new nicknames each run: they stay on the server
        self.quiz: Optional[str] = None
        self.counts: Dict[str, int] = {}  # the question's counts, as the presenter was last sent them
        self.error: Optional[str] = None
        self.opened_at = 0.0  # when the presenter sent open_poll
        self.revealed_at = 0.0  # when it sent reveal_answer
        self.last_ack = 0.0
        self.answers_acked = 0  # the participants' "voted" replies so far (the progress bar's figure)
        self.answer_latency = LatencyHistogram()  # open -> each answer's acknowledgement
        self.score_latency = LatencyHistogram()  # reveal -> each score message's arrival
        self._wrong: Set[int] = set()  # the participants (their id()) that answer wrong
        self._answers_by_option: Dict[str, bytes] = {}
        self._fast_prefix = b'{"type":"'  # every message: the scenario needs arrival times of replies and scores

    def _fast(self, peer: Peer, buf: bytes, start: int, end: int, now: float, arrived: float) -> None:
        kind = buf[start + 9 : buf.find(b'"', start + 9, end)]
        if kind == b"voted":
            peer.acked += 1
            self.last_ack = max(self.last_ack, arrived)
            self.answer_latency.add(arrived - self.opened_at)
            if peer.role == "subscriber":
                self.answers_acked += 1
            self._show(self.answers_acked, self.clients)
        elif kind == b"score":
            score = json.loads(buf[start:end])
            if score.get("poll") == self.quiz and peer.score is None:
                peer.score = score
                self.score_latency.add(arrived - self.revealed_at)
            elif score.get("poll") == self.quiz:
                peer.backwards += 1  # a second score for the same question
        elif kind == b"poll" and peer.role == "subscriber" and not peer.answered_at:
            data = json.loads(buf[start:end])["poll"]
            if data.get("id") == self.quiz and data.get("open"):
                peer.answered_at = now
                self._send(peer, self._answer(peer))
        elif kind == b"results" and peer.role == "voter":
            results = json.loads(buf[start:end])
            if results.get("poll") == self.quiz:
                self.counts = dict(results.get("counts", {}))
        elif kind == b"error":
            peer.rejected += 1
            self.error = str(json.loads(buf[start:end]).get("message"))
        elif kind == b"welcome":
            peer.welcomed = True
        elif kind in (b"ok", b"hello", b"nickname"):
            peer.acked += 1
            if kind == b"ok" and self.quiz is None:
                self.quiz = json.loads(buf[start:end]).get("poll")

    def _answer(self, peer: Peer) -> bytes:
        return self._answers_by_option[self._option(peer)]

    def _option(self, peer: Peer) -> str:
        """The option a participant answers: ``b`` (wrong) for every fourth one, else ``a``."""
        return "b" if id(peer) in self._wrong else "a"

    def _command(self, peer: Peer, message: Dict[str, Any], what: str) -> None:
        """Send a presenter's command and wait for its reply; ``RuntimeError`` with the server's message if refused."""
        before = peer.acked
        self._send(peer, mask_frame(0x1, json.dumps(message).encode()))
        if not self._wait(lambda: peer.acked > before or peer.rejected, SETTLE_TIMEOUT) or peer.rejected:
            raise RuntimeError(f"could not {what}: {self.error or 'no reply'}")

    def _delete_poll(self) -> None:
        """Delete the bench's question, if it made one."""
        if self.quiz is None or not self.peers or not self.peers[0].open:
            return
        admin, quiz, self.quiz = self.peers[0], self.quiz, None
        acked = admin.acked + admin.rejected
        self._send(admin, mask_frame(0x1, json.dumps({"type": "delete_poll", "poll": quiz}).encode()))
        self._wait(lambda: admin.acked + admin.rejected > acked, 2.0)

    def _measure(self) -> Dict[str, Any]:
        deadline = time.monotonic() + max(60.0, self.clients / 100)
        admin = self._first(deadline)
        if not self._wait(lambda: admin.welcomed, SETTLE_TIMEOUT):
            raise RuntimeError("no welcome from the server")
        self._command(admin, {"type": "hello", "token": self.token}, "say hello with the token (is it right?)")
        question = {
            "type": "create_poll", "question": f"pollhub bench {time.strftime('%H:%M:%S')}", "kind": "quiz",
            "options": QUIZ_OPTIONS, "correct": ["a"], "time_limit": QUIZ_TIME_LIMIT,
        }  # fmt: skip
        self._command(admin, question, "create the quiz question")
        self._answers_by_option = {
            option: mask_frame(0x1, json.dumps({"type": "vote", "poll": self.quiz, "option": option}).encode())
            for option in QUIZ_OPTIONS
        }
        report: Dict[str, Any] = {"url": self.url, "scenario": "quiz", "clients": self.clients}
        memory_before = _added([probe() for probe in self.memories])
        participants = self._participants(deadline, report)
        started = time.perf_counter()
        self._nicknames(participants)
        naming = time.perf_counter() - started
        report["nicknames_per_second"] = round(len(participants) / naming, 1) if naming else None
        self._memory(memory_before, participants, report)
        report.update(self._answers(admin, participants))
        report.update(self._reveal(admin, participants))
        return report

    def _nicknames(self, participants: List[Peer]) -> None:
        """Every participant takes its nickname; ``RuntimeError`` if the server refuses one."""
        self._wrong = {id(p) for i, p in enumerate(participants) if i % WRONG_EVERY == 0}
        for number, peer in enumerate(participants, 1):
            peer.acked = peer.rejected = 0
            name = f"bench-{self.tag}-{number}"
            self._send(peer, mask_frame(0x1, json.dumps({"type": "nickname", "nickname": name}).encode()))
            self._poll(0)
        if not self._wait(lambda: all(p.acked or p.rejected or not p.open for p in participants), SETTLE_TIMEOUT * 3):
            raise RuntimeError("not every participant got the reply to its nickname")
        if any(p.rejected for p in participants):
            raise RuntimeError(f"a nickname was refused: {self.error}")
        for peer in participants:
            peer.acked = 0

    def _answers(self, admin: Peer, participants: List[Peer]) -> Dict[str, Any]:
        """Open the question; every participant answers as it learns so; close it once all are acknowledged."""
        self.opened_at = self.clock()
        self._send(admin, mask_frame(0x1, json.dumps({"type": "open_poll", "poll": self.quiz}).encode()))
        limit = time.monotonic() + max(SETTLE_TIMEOUT, self.clients / 100)
        while time.monotonic() < limit and not all(p.acked or p.rejected or not p.open for p in participants):
            self._poll(0.02)
        self._show(self.clients, self.clients, done=True)
        acked = sum(1 for p in participants if p.acked)
        first = min((p.answered_at for p in participants if p.answered_at), default=0.0)
        answering = self.last_ack - first if first else 0.0
        self._command(admin, {"type": "close_poll", "poll": self.quiz}, "close the quiz question")
        return {
            "answers_acked": acked,
            "answers_rejected": sum(1 for p in participants if p.rejected),
            "unanswered": sum(1 for p in participants if not p.answered_at),
            "answers_per_second": round(acked / answering, 1) if answering > 0 else None,
            "open_to_all_acked_ms": round((self.last_ack - self.opened_at) * 1000, 2) if acked else None,
            "answer_latency_ms": self.answer_latency.summary(),
        }

    def _reveal(self, admin: Peer, participants: List[Peer]) -> Dict[str, Any]:
        """Reveal the answer; wait for every participant's score and check every figure exactly."""
        self.revealed_at = self.clock()
        self._command(admin, {"type": "reveal_answer", "poll": self.quiz}, "reveal the answer")
        self._wait(lambda: all(p.score is not None or not p.open for p in participants), SETTLE_TIMEOUT)
        scores = [p.score for p in participants if p.score is not None]
        answered = [p for p in participants if p.acked]
        expected = Counter(self._option(p) for p in answered)
        counted = {option: self.counts.get(option, 0) for option in QUIZ_OPTIONS}
        wrong_points = sum(1 for p in answered if not self._score_ok(p))
        ranks_checked = bool(scores) and all(s.get("of") == len(participants) for s in scores)
        wrong_ranks = self._wrong_ranks(participants) if ranks_checked else 0
        return {
            "scores_received": len(scores),
            "reveal_to_all_scores_ms": round(self.score_latency.max * 1000, 2) if scores else None,
            "score_latency_ms": self.score_latency.summary(),
            "counts": counted,
            "lost": sum(max(0, n - counted.get(o, 0)) for o, n in expected.items()),
            "duplicated": sum(max(0, counted[o] - expected.get(o, 0)) for o in QUIZ_OPTIONS),
            "wrong_scores": wrong_points,
            "ranks_checked": ranks_checked,
            "wrong_ranks": wrong_ranks,
            "differing": wrong_points + wrong_ranks,
            "went_backwards": sum(p.backwards for p in participants),
            "dropped": sum(1 for p in participants if not p.open),
            "latency_end": "arrival" if self.stamped else "read",
        }

    def _score_ok(self, peer: Peer) -> bool:
        """Whether a participant's score says what it did: answered, right or wrong, points in range, its total."""
        score = peer.score
        if score is None:
            return False
        right = self._option(peer) == "a"
        points = score.get("points")
        in_range = isinstance(points, int) and (500 <= points <= 1000 if right else points == 0)
        return bool(score.get("answered")) and score.get("correct") is right and in_range and score.get("total") == points

    def _wrong_ranks(self, participants: List[Peer]) -> int:
        """Participants whose rank is not 1 plus the number with more points (ties share a rank)."""
        totals = sorted((p.score["total"] for p in participants if p.score is not None), reverse=True)
        first_place: Dict[int, int] = {}
        for place, total in enumerate(totals, 1):
            first_place.setdefault(total, place)
        return sum(1 for p in participants if p.score is not None and p.score.get("rank") != first_place[p.score["total"]])


def _most_common(values: Sequence[int], default: int) -> int:
    """The value most participants hold (``default`` if none)."""
    return Counter(values).most_common(1)[0][0] if values else default


def _added(figures: Sequence[Optional[int]]) -> Optional[int]:
    """Every server's figure added up; None if any is missing."""
    return None if not figures or None in figures else sum(f for f in figures if f is not None)


def server_memory(host: str, port: int) -> Optional[int]:
    """The server's resident memory from its ``/metrics``, if it says."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except (OSError, ValueError):
        return None
    match = re.search(r"^pollhub_process_resident_memory_bytes (\d+)", text, re.M)
    return int(match.group(1)) if match else None


def format_report(report: Dict[str, Any]) -> str:
    """The report as lines for a person."""
    if report.get("scenario") == "qa":
        return format_qa_report(report)
    if report.get("scenario") == "quiz":
        return format_quiz_report(report)
    lines = [
        _clients_line(report),
        f"votes             {report['votes_acked']} counted of {report['votes_sent']} sent, "
        f"{report['votes_rejected']} rejected, {report['votes_per_second']} votes/s",
        _latency_line(report),
        f"correctness       {report['lost']} lost, {report['duplicated']} duplicated, {report['behind']} clients behind, "
        f"{report['went_backwards']} totals went backwards, {report['dropped']} clients dropped",
    ]
    lines.extend(_memory_lines(report))
    if "nodes" in report:
        lines.append(
            f"across nodes      every participant must end at {report['expected_total']} (the base plus every vote acknowledged):"
            f" {report['differing']} did not"
        )
        for number, node in enumerate(report["nodes"], 1):
            lines.extend(_format_node(number, node))
    return "\n".join(lines)


def format_qa_report(report: Dict[str, Any]) -> str:
    """A qa scenario's report as lines for a person."""
    lines = [
        _clients_line(report),
        f"questions         {report['questions']} asked by {report['askers']} participants",
        f"upvotes           {report['upvotes_acked']} counted of {report['upvotes_sent']} upvotes and {report['unvotes_sent']} unvotes sent "
        f"in {report['phases']} phases, {report['upvotes_rejected']} rejected, {report['unanswered']} never answered, "
        f"{report['upvotes_per_second']} per second",
        _latency_line(report),
        f"correctness       {report['lost']} lost, {report['duplicated']} duplicated, {report['differing']} participants "
        f"with a count other than the server's replies say ({report['expected_upvotes']} upvotes in all), "
        f"{report['went_backwards']} counts went backwards, {report['dropped']} clients dropped",
    ]
    lines.extend(_memory_lines(report))
    return "\n".join(lines)


def format_quiz_report(report: Dict[str, Any]) -> str:
    """A quiz scenario's report as lines for a person."""
    answers, scores = report["answer_latency_ms"], report["score_latency_ms"]
    ranks = f"{report['wrong_ranks']} wrong ranks" if report["ranks_checked"] else "ranks not checked (others on the leaderboard)"
    lines = [
        _clients_line(report),
        f"nicknames         {report['nicknames_per_second']} taken per second",
        f"answers           {report['answers_acked']} acknowledged, {report['answers_rejected']} rejected, "
        f"{report['unanswered']} never sent, {report['answers_per_second']} answers/s",
        f"open to answers   all acknowledged after {report['open_to_all_acked_ms']} ms; "
        f"each: p50 {answers['p50']} ms, p99 {answers['p99']} ms",
        f"reveal to scores  all {report['scores_received']} arrived after {report['reveal_to_all_scores_ms']} ms; "
        f"each: p50 {scores['p50']} ms, p99 {scores['p99']} ms"
        + (" (to arrival at each participant)" if report.get("latency_end") == "arrival" else ""),
        f"correctness       {report['lost']} lost, {report['duplicated']} duplicated, {report['wrong_scores']} wrong scores, "
        f"{ranks}, {report['went_backwards']} second scores, {report['dropped']} clients dropped",
    ]
    lines.extend(_memory_lines(report))
    return "\n".join(lines)


def _clients_line(report: Dict[str, Any]) -> str:
    return f"clients           {report['connected']} connected, {report['refused']} refused, {report['connect_per_second']} connections/s"


def _latency_line(report: Dict[str, Any]) -> str:
    latency = report["latency_ms"]
    return (
        f"fan-out latency   p50 {latency['p50']} ms, p90 {latency['p90']} ms, p99 {latency['p99']} ms, max {latency['max']} ms"
        + (" (to arrival at each participant)" if report.get("latency_end") == "arrival" else "")
    )


def _memory_lines(report: Dict[str, Any]) -> List[str]:
    """The server memory line, if the report has the figure."""
    memory = report.get("memory_per_connection_bytes")
    if memory is None:
        return []
    return [f"server memory     {report['server_memory_bytes'] / 2**20:.1f} MiB, {memory / 1024:.1f} KiB per connection"]


def _format_node(number: int, node: Dict[str, Any]) -> List[str]:
    """A node's lines in the report of a run over several."""
    latency = node["latency_ms"]
    memory = node.get("memory_per_connection_bytes")
    lines = [
        f"node {number}            {node['url']}",
        f"  clients         {node['connected']} connected, {node['refused']} refused"
        + (f", {memory / 1024:.1f} KiB per connection" if memory is not None else ""),
        f"  votes           {node['votes_acked']} acknowledged, {node['votes_rejected']} rejected, by {node['voters']} voters here",
        f"  fan-out latency p50 {latency['p50']} ms, p90 {latency['p90']} ms, p99 {latency['p99']} ms, max {latency['max']} ms",
        f"  correctness     final total {node['final_total']}: {node['lost']} lost, {node['duplicated']} duplicated, "
        f"{node['went_backwards']} totals went backwards, {node['dropped']} clients dropped",
    ]
    if node["differing"]:
        shown = ", ".join(f"#{d['participant']} at {d['total']}" for d in node["differing_participants"])
        more = node["differing"] - len(node["differing_participants"])
        lines.append(f"  differing       {node['differing']} participants: {shown}" + (f" and {more} more" if more > 0 else ""))
    return lines


def start_own_server(token: Optional[str] = None) -> "Tuple[subprocess.Popen[str], str]":
    """``--self``: a pollhub server on a free loopback port, as the benchmarks start it (with ``token``: that admin token)."""
    command = [
        sys.executable, "-m", "pollhub", "--host", "127.0.0.1", "--port", "0", "--memory", "--question", "Bench",
        "--option", "a", "--option", "b", "--kind", "counter", "--log-level", "warning",
        # Every simulated participant comes from one address: no per-voter or per-address limits.
        "--max-vote-rate", "0", "--max-address-vote-rate", "0", "--new-voter-rate", "0",
    ]  # fmt: skip
    if token is not None:
        command += ["--token", token]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on (\S+)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return proc, match.group(1)


def _unused_flags(args: argparse.Namespace) -> List[Tuple[str, Any]]:
    """The flags given that the scenario chosen does not take, with their values (None: not given)."""
    if args.scenario == "quiz":
        return [("--voters", args.voters), ("--poll", args.poll), ("--questions", args.questions), ("--votes", args.votes),
                ("--rate", args.rate)]  # fmt: skip
    if args.scenario == "qa":
        return [("--voters", args.voters), ("--poll", args.poll)]
    return [("--questions", args.questions)]


def bench_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pollhub bench", description="Rehearse an event: load a pollhub server and measure it.")
    parser.add_argument(
        "url",
        nargs="*",
        help="the server, e.g. ws://192.168.1.20:8765/ws (not with --self); several: the nodes of one event, connections spread over them in turn",
    )
    parser.add_argument("--self", dest="own", action="store_true", help="start a pollhub server on loopback to measure")
    parser.add_argument("--clients", type=int, default=100, help="participant connections (default: %(default)s)")
    parser.add_argument("--voters", type=int, help="voting connections (default: one per server)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--rate", type=float, help="votes per second in all (default: 10)")
    how.add_argument("--votes", type=int, help="votes per voter (qa: upvotes and unvotes per participant), as fast as the server takes them")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of voting at --rate; at most this long with --votes (default: %(default)g)"
    )
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default=SCENARIOS[0],
        help="votes: --voters flood a counter poll that --clients watch; qa: --clients upvote and unvote questions "
        "(a few of them ask those first), every one watching the counts; quiz: --clients take nicknames and answer a quiz "
        "question the moment it opens, then get their scores (needs --token or --self) (default: %(default)s)",
    )
    parser.add_argument("--questions", type=int, help=f"qa: questions to ask and upvote (default: {QA_QUESTIONS})")
    parser.add_argument("--poll", help="votes: vote in this counter poll (default: the current poll)")
    parser.add_argument(
        "--token",
        help="admin token: votes in a new counter poll, deleted afterwards; qa: the bench's questions are dismissed afterwards "
        "(and approved, when the server moderates)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.own == bool(args.url):
        parser.error("give a URL or --self")
    qa, quiz = args.scenario == "qa", args.scenario == "quiz"
    for flag, value in _unused_flags(args):
        if value is not None:
            parser.error(f"{flag} does not apply to the {args.scenario} scenario")
    if quiz and args.token is None and not args.own:
        parser.error("the quiz scenario needs --token (or --self): the bench creates, opens and reveals its question")
    raise_file_limit()
    proc = None
    try:
        urls: List[str] = args.url
        if args.own:
            if quiz and args.token is None:
                args.token = secrets.token_urlsafe(16)
            proc, url = start_own_server(args.token if quiz else None)
            urls = [url]
        rate = args.rate if args.rate is not None or args.votes is not None else 10.0
        progress = sys.stderr.isatty() and not args.json
        if quiz:
            bench: Bench = QuizBench(urls, clients=args.clients, token=args.token, progress=progress)
        elif qa:
            questions = args.questions if args.questions is not None else QA_QUESTIONS
            bench = QABench(
                urls, clients=args.clients, questions=questions, rate=rate, votes=args.votes, duration=args.duration,
                token=args.token, progress=progress,
            )  # fmt: skip
        else:
            bench = Bench(
                urls,
                clients=args.clients,
                voters=args.voters if args.voters is not None else len(urls),
                rate=rate,
                votes=args.votes,
                duration=args.duration,
                poll=args.poll,
                token=args.token,
                progress=progress,
            )
        report = bench.run()
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print(f"pollhub bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    ok = report["lost"] == 0 and report["duplicated"] == 0 and report["went_backwards"] == 0 and not report.get("differing")
    return 0 if ok else 3
