"""Benchmarks of several nodes, one event (Redis): side by side in one run, medians of rounds.

Parts (``--parts``), as in issue 14's "Performance":

* ``redis``: one node on Redis (``--redis``, a private redis-server started
  here in a temporary directory, ``appendonly yes``, ``appendfsync always``,
  on a Unix socket) against today's embedded node (``--db``, SQLite in a
  temporary directory), same load: votes per second with 1,000 participants
  (4 voters x 5,000 votes as fast as the node takes them, as
  ``benchmarks/run.py``'s ``throughput-1000``) and the fan-out latency with
  1,000 participants at 50 votes/s for 10 s (its ``fan-out``). Also from the
  same runs: connections/s, and Redis's CPU time per vote. Targets: the
  Redis node at least half the SQLite node's votes/s, its p99 at most 1.5
  times the SQLite node's.
* ``workers``: ``--workers 2`` against one process, both on Redis (a private
  redis-server as above), same load: 10,000 participants (``--participants``)
  connecting 64 at a time, then one voter at 10 votes/s for 10 s: connection
  rate, the servers' CPU time per connection, fan-out p99. Targets: 1.5
  times the connection rate, p99 under 100 ms. Only the bench is pinned
  here (to CPU 1): the workers are there to use both cores, so the second
  one shares its core with the load generator.
* ``redis-cost``: Redis's own cost per appended and per read entry, with
  redis-py, on a private redis-server: ``XADD`` of a pollhub-sized vote entry
  (the very fields a node writes) one per round trip and 100 per pipeline
  (a node appends one pipeline per hub batch), under ``appendfsync always``
  and ``everysec``; ``XREAD COUNT 1000`` of a long stream (every node reads
  every entry); Redis's CPU time per entry (its process's, so the fsync
  system calls count), and ``redis-benchmark``'s XADD rate with 8 clients
  pipelining 16 (Redis without a Python client in the way), when installed.

Servers and redis-server run pinned to CPU 0, the load generator (pollhub's
``bench`` engine) and the redis-py client to CPU 1, as in ``benchmarks/run.py``.
Each part runs ``--repeat`` rounds (default 3), the two setups taking turns in
each round (which goes first alternates), and the table shows medians: this
machine is shared and its disk's fsync is noisy. Every run's figure is printed
under the table.

Run: python benchmarks/cluster.py [--quick] [--parts redis,workers,redis-cost] [--repeat N] [--participants N] [--json FILE]
Needs redis-server (Debian's package) and redis-py (``pip install .[bench]``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ENV, LOAD_CPU, ROOT, SERVER_CPU, cpu_seconds, each, figure, free_port, rss  # noqa: E402  (also puts ROOT on sys.path)

from pollhub.bench import Bench  # noqa: E402
from pollhub.cli import raise_file_limit  # noqa: E402

START_TIMEOUT = 20.0  # seconds a server or redis-server may take to start
NODE = [sys.executable, "-m", "pollhub", "--host", "127.0.0.1", "--port", "{port}", "--question", "Bench", "--option", "a",
        "--option", "b", "--kind", "counter", "--max-vote-rate", "0", "--max-address-vote-rate", "0", "--new-voter-rate", "0",
        "--log-level", "error"]  # fmt: skip


def cpu_time(pid: int) -> Optional[float]:
    """Seconds a process's threads have run, to the nanosecond (Linux's schedstat; clock ticks elsewhere)."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        return cpu_seconds(pid)


def _pin_to_server_cpu() -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {SERVER_CPU})


class RedisServer:
    """A private redis-server on ``DIR/redis.sock``, append-only, pinned to the server CPU."""

    def __init__(self, directory: Path, appendfsync: str = "always", pin: bool = True) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        command = [
            binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700", "--dir", str(directory),
            "--appendonly", "yes", "--appendfsync", appendfsync, "--save", "", "--daemonize", "no",
            "--logfile", str(directory / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_pin_to_server_cpu if pin else None
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with self.client() as client:
                    if client.ping():
                        return
            except Exception:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start (see {directory / 'redis.log'})")
            time.sleep(0.02)

    def client(self) -> Any:
        import redis

        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=30)

    def cpu(self) -> Optional[float]:
        return cpu_time(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Node:
    """``python -m pollhub`` with ``extra`` arguments (pinned to the server CPU unless ``pin`` is False); its URL from the "listening on" line."""

    def __init__(self, extra: Sequence[str], pin: bool = True) -> None:
        command = [part.replace("{port}", str(free_port())) for part in NODE] + list(extra)
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=_pin_to_server_cpu if pin else None, env=ENV
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # every read waits at most until the deadline
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = self.proc.stdout.readline() if ready else ""
            match = re.search(r"listening on (ws://\S+)", line)
            if match:
                self.url = match.group(1)
                self.cpu_marks: List[float] = []
                self.bench_marks: List[float] = []
                return
            if not line:
                self.stop()
                raise RuntimeError(f"the node did not start: {command}")

    def pids(self) -> List[int]:
        """The node's process and its children (the workers of ``--workers``)."""
        pids = [self.proc.pid]
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as children:
                pids += [int(pid) for pid in children.read().split()]
        except OSError:
            pass
        return pids

    def memory(self) -> Optional[int]:
        """Resident memory of the node's processes, added up; ``Bench`` asks before and after connecting, so CPU time is noted too."""
        pids = self.pids()
        self.cpu_marks.append(sum(cpu_time(pid) or 0.0 for pid in pids))
        self.bench_marks.append(time.process_time())  # the load generator's own (this process)
        figures = [rss(pid) for pid in pids]
        return sum(f for f in figures if f is not None) or None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# Part (a): one node on Redis against the embedded SQLite node -------------------------------


def measure_node(backend: str, **options: Any) -> Dict[str, Any]:
    """One bench run against a fresh node of ``backend`` ("sqlite" or "redis"), in a fresh temporary directory."""
    with tempfile.TemporaryDirectory(prefix=f"pollhub-{backend}-") as folder:
        redis = RedisServer(Path(folder)) if backend == "redis" else None
        node = None
        try:
            extra = ["--redis", redis.url, "--event", "bench"] if redis is not None else ["--db", str(Path(folder) / "pollhub.db")]
            node = Node(extra)
            before = redis.cpu() if redis is not None else None
            report = Bench(node.url, **options).run()
            after = redis.cpu() if redis is not None else None
            if before is not None and after is not None and report.get("votes_acked"):
                # Redis's whole CPU time over the run (connecting takes none of it) per vote counted.
                report["redis_cpu_per_vote_us"] = round((after - before) / report["votes_acked"] * 1e6, 1)
            return report
        except (OSError, RuntimeError, TimeoutError) as exc:
            return {"error": str(exc)}
        finally:
            if node is not None:
                node.stop()
            if redis is not None:
                redis.stop()


def redis_part(quick: bool, repeat: int) -> Dict[str, Dict[str, List[Dict[str, Any]]]]:
    scale = 0.2 if quick else 1.0
    clients = int(1000 * scale)
    scenarios: Dict[str, Callable[[str], Dict[str, Any]]] = {
        "throughput-1000": lambda b: measure_node(b, clients=clients, voters=4, votes=int(5000 * scale), duration=20),
        "fan-out": lambda b: measure_node(b, clients=clients, voters=1, rate=50, duration=10 * scale),
    }
    results: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
    for attempt in range(repeat):
        backends = ["sqlite", "redis"] if attempt % 2 == 0 else ["redis", "sqlite"]  # who goes first alternates
        for scenario, run in scenarios.items():
            for backend in backends:
                print(f"... {scenario}: {backend} ({attempt + 1}/{repeat})", file=sys.stderr, flush=True)
                results.setdefault(scenario, {}).setdefault(backend, []).append(run(backend))
    return results


REDIS_ROWS = [
    ("throughput-1000", "votes_per_second", "votes/s, 4 x 5,000, 1,000 participants"),
    ("fan-out", "latency_p50", "fan-out p50 ms, 1,000 participants, 50 votes/s"),
    ("fan-out", "latency_p99", "fan-out p99 ms"),
    ("fan-out", "seen_latency_p99", "fan-out p99 ms, read by the bench"),
    ("fan-out", "connect_per_second", "connections/s (1,000, 64 at a time)"),
    ("throughput-1000", "redis_cpu_per_vote_us", "Redis CPU per vote, us (flood)"),
    ("fan-out", "redis_cpu_per_vote_us", "Redis CPU per vote, us (50 votes/s)"),
]


def print_rows(
    results: Dict[str, Dict[str, List[Dict[str, Any]]]],
    names: Sequence[str],
    rows: Sequence[Tuple[str, str, str]],
    ratio: str,
    width: int,
    ratio_width: int,
) -> None:
    """A table of medians: a column per name in ``names`` and the second's ratio to the first; a row per ``(scenario, key, label)`` measured."""
    print("".ljust(width) + "".join(n.rjust(14) for n in names) + ratio.rjust(ratio_width))
    for scenario, key, label in rows:
        if scenario not in results:
            continue
        cells = [figure(results[scenario].get(n, []), key) for n in names]
        times = f"{cells[1] / cells[0]:.2f}x" if cells[0] and cells[1] is not None else "-"
        print(label.ljust(width) + "".join(("-" if v is None else f"{v:g}").rjust(14) for v in cells) + times.rjust(ratio_width))


def print_redis_part(results: Dict[str, Dict[str, List[Dict[str, Any]]]]) -> None:
    names = ["sqlite", "redis"]
    width = 48
    print("\n(a) one node: embedded SQLite (--db) against Redis (--redis, appendfsync always); medians")
    print_rows(results, names, REDIS_ROWS, "redis/sqlite", width, 16)
    votes = [figure(results.get("throughput-1000", {}).get(n, []), "votes_per_second") for n in names]
    p99 = [figure(results.get("fan-out", {}).get(n, []), "latency_p99") for n in names]
    if None not in votes and None not in p99:
        print(
            f"targets: votes/s at least 0.5x: {votes[1] / votes[0]:.2f}x ({'met' if votes[1] >= votes[0] / 2 else 'NOT met'});"  # type: ignore[operator]
            f" p99 at most 1.5x: {p99[1] / p99[0]:.2f}x ({'met' if p99[1] <= 1.5 * p99[0] else 'NOT met'})"  # type: ignore[operator]
        )
    print("every run:")
    for scenario, key, label in REDIS_ROWS[:3]:
        if scenario in results:
            runs = "; ".join(f"{n} " + ", ".join(f"{v:g}" for v in each(results[scenario].get(n, []), key)) for n in names)
            print(f"  {label}: {runs}")
    print_correctness(results)


def print_correctness(results: Dict[str, Dict[str, List[Dict[str, Any]]]]) -> None:
    bad = {
        f"{scenario} / {name} / run {i + 1}": {k: r.get(k) for k in ("lost", "duplicated", "went_backwards", "behind", "dropped", "error") if r.get(k)}
        for scenario, by_name in results.items()
        for name, reports in by_name.items()
        for i, r in enumerate(reports)
    }
    bad = {k: v for k, v in bad.items() if v}
    print("correctness: " + ("every run exact (no vote lost or duplicated, no total went backwards)" if not bad else json.dumps(bad, indent=1)))


# Part (b): --workers 2 against one process ---------------------------------------------------


def has_workers() -> bool:
    """True when ``python -m pollhub`` of this checkout has ``--workers``."""
    result = subprocess.run([sys.executable, "-m", "pollhub", "--help"], capture_output=True, text=True, env=ENV, timeout=60, check=False)
    return "--workers" in result.stdout


class SteadyMarks(Bench):
    """The bench, noting the servers' and its own CPU time and the clock around the steady voting."""

    def __init__(self, node: Node, url: str, **options: Any) -> None:
        super().__init__(url, memory=node.memory, **options)
        self.node = node
        self.marks: List[Tuple[float, float, float]] = []

    def _mark(self) -> None:
        self.marks.append((sum(cpu_time(pid) or 0.0 for pid in self.node.pids()), time.process_time(), time.perf_counter()))

    def _steady(self, voters: Any) -> None:
        self._mark()
        super()._steady(voters)
        self._mark()


def measure_workers(workers: int, **options: Any) -> Dict[str, Any]:
    """One bench run against ``workers`` nodes on one port (1: a plain node), on a fresh Redis; nothing pinned but the bench."""
    with tempfile.TemporaryDirectory(prefix="pollhub-workers-") as folder:
        redis = RedisServer(Path(folder), pin=False)
        node = None
        try:
            extra = ["--redis", redis.url, "--event", "bench"] + (["--workers", str(workers)] if workers > 1 else [])
            node = Node(extra, pin=False)
            bench = SteadyMarks(node, node.url, **options)
            report = bench.run()
            if len(bench.marks) == 2 and report.get("votes_sent") and report.get("connected"):
                (server0, bench0, clock0), (server1, bench1, clock1) = bench.marks
                deliveries = report["votes_sent"] * report["connected"]  # one results message per vote per participant, at most
                report["server_cpu_per_delivery_us"] = round((server1 - server0) / deliveries * 1e6, 2)
                report["bench_cpu_per_delivery_us"] = round((bench1 - bench0) / deliveries * 1e6, 2)
                report["cpu_busy_while_voting"] = round((server1 - server0 + bench1 - bench0) / (clock1 - clock0) / (os.cpu_count() or 1), 2)
            marks = node.cpu_marks
            if len(marks) >= 2 and report.get("connected"):
                # Every process's CPU time from the first connection to the last welcome.
                report["connect_cpu_us"] = round((marks[1] - marks[0]) / report["connected"] * 1e6, 1)
                own = node.bench_marks
                report["bench_connect_cpu_us"] = round((own[1] - own[0]) / report["connected"] * 1e6, 1)
            return report
        except (OSError, RuntimeError, TimeoutError) as exc:
            return {"error": str(exc)}
        finally:
            if node is not None:
                node.stop()
            redis.stop()


def workers_part(quick: bool, repeat: int, clients: int) -> Dict[str, Dict[str, List[Dict[str, Any]]]]:
    """``--workers 2`` against one process, both on Redis: ``clients`` participants connecting, then 10 votes/s for 10 s.

    The bench stays pinned to CPU 1; the servers and redis-server are not
    pinned (two workers pinned to one core would measure nothing), so on
    this 2-core machine the second worker shares its core with the load
    generator. Target (issue 14): 1.5 times the connection rate, p99 under 100 ms.
    """
    if not has_workers():
        print("(python -m pollhub has no --workers: part (b) skipped)", file=sys.stderr)
        return {}
    clients = int(clients * (0.2 if quick else 1.0))
    results: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
    for attempt in range(repeat):
        setups = [1, 2] if attempt % 2 == 0 else [2, 1]
        for workers in setups:
            name = "one process" if workers == 1 else f"--workers {workers}"
            print(f"... workers: {name}, {clients} participants ({attempt + 1}/{repeat})", file=sys.stderr, flush=True)
            report = measure_workers(workers, clients=clients, voters=1, rate=10, duration=10)
            results.setdefault("scale", {}).setdefault(name, []).append(report)
    return results


WORKERS_ROWS = [
    ("scale", "connect_per_second", "connections/s (64 at a time)"),
    ("scale", "refused", "connections refused"),
    ("scale", "connect_cpu_us", "server CPU per connection, us (all processes)"),
    ("scale", "bench_connect_cpu_us", "the bench's own CPU per connection, us"),
    ("scale", "latency_p50", "fan-out p50 ms, 10 votes/s"),
    ("scale", "latency_p99", "fan-out p99 ms"),
    ("scale", "seen_latency_p99", "fan-out p99 ms, read by the bench"),
    ("scale", "server_cpu_per_delivery_us", "server CPU per vote and participant, us"),
    ("scale", "bench_cpu_per_delivery_us", "the bench's CPU per vote and participant, us"),
    ("scale", "cpu_busy_while_voting", "both cores busy while voting (servers + bench)"),
    ("scale", "memory_per_connection_bytes", "memory per connection, bytes"),
]


def print_workers_part(results: Dict[str, Dict[str, List[Dict[str, Any]]]]) -> None:
    if not results:
        print("\n(b) --workers: not measured (python -m pollhub has no --workers)")
        return
    names = ["one process", "--workers 2"]
    clients = next((r.get("clients") for r in results["scale"]["one process"] if "clients" in r), "?")
    width = 48
    print(f"\n(b) --workers 2 against one process, both on Redis, {clients} participants; medians")
    print_rows(results, names, WORKERS_ROWS, "ratio", width, 10)
    print("every run:")
    for scenario, key, label in (WORKERS_ROWS[0], WORKERS_ROWS[4]):
        runs = "; ".join(f"{n} " + ", ".join(f"{v:g}" for v in each(results[scenario].get(n, []), key)) for n in names)
        print(f"  {label}: {runs}")
    print_correctness(results)


# Part (c): Redis's own cost per appended and per read entry ------------------------------------


def vote_entry() -> Dict[str, Any]:
    """The fields of a vote as a node appends it (pollhub.cluster's own encoding)."""
    from pollhub.cluster import _entry_fields
    from pollhub.protocol import Vote

    return _entry_fields("9f3c5a71", 123456, "~" + "5a" * 16, False, Vote("a", "pollhub-bench-07-47-21"))


def command_usec(client: Any, command: str) -> Tuple[int, int]:
    """``(calls, usec)`` of one command from ``INFO commandstats``."""
    stats = client.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0)), int(stats.get("usec", 0))


def append_cost(redis: RedisServer, batch: int, entries: int) -> Dict[str, float]:
    """Append ``entries`` vote entries, ``batch`` per pipeline (one round trip each); per entry: wall and Redis CPU time."""
    fields = vote_entry()
    with redis.client() as client:
        client.delete("bench:log")
        calls0, usec0 = command_usec(client, "xadd")
        cpu0 = redis.cpu() or 0.0
        trips: List[float] = []
        started = time.perf_counter()
        for _ in range(max(1, entries // batch)):
            pipe = client.pipeline(transaction=False)
            for _ in range(batch):
                pipe.xadd("bench:log", fields)
            sent = time.perf_counter()
            pipe.execute()
            trips.append(time.perf_counter() - sent)
        wall = time.perf_counter() - started
        trips.sort()
        cpu = (redis.cpu() or 0.0) - cpu0
        calls, usec = command_usec(client, "xadd")
    n = calls - calls0
    return {
        "wall_us": round(wall / n * 1e6, 2),  # what the appending node waits, per entry
        "round_trip_ms": round(wall / (n / batch) * 1e3, 3),
        # The tail: an fsync of a file that grows (an append-only file) waits for the
        # filesystem's journal, which on a busy disk is where the slow votes come from.
        "round_trip_p99_ms": round(trips[min(len(trips) - 1, int(len(trips) * 0.99))] * 1e3, 3),
        "round_trip_max_ms": round(trips[-1] * 1e3, 3),
        "redis_cpu_us": round(cpu / n * 1e6, 2),  # the redis-server process, fsync system calls included
        "command_us": round((usec - usec0) / n, 2),  # XADD itself (INFO commandstats)
    }


def read_cost(redis: RedisServer, entries: int, count: int = 1000) -> Dict[str, float]:
    """Fill a stream with ``entries`` vote entries, then read them all with ``XREAD COUNT count``; per entry."""
    fields = vote_entry()
    with redis.client() as client:
        client.delete("bench:read")
        for _ in range(entries // 1000):
            pipe = client.pipeline(transaction=False)
            for _ in range(1000):
                pipe.xadd("bench:read", fields)
            pipe.execute()
        calls0, usec0 = command_usec(client, "xread")
        cpu0 = redis.cpu() or 0.0
        position, read = "0-0", 0
        started = time.perf_counter()
        while True:
            reply = client.xread({"bench:read": position}, count=count)
            if not reply:
                break
            batch = reply[0][1]
            read += len(batch)
            position = batch[-1][0]
        wall = time.perf_counter() - started
        cpu = (redis.cpu() or 0.0) - cpu0
        _, usec = command_usec(client, "xread")
        memory = client.memory_usage("bench:read") or 0
    return {
        "wall_us": round(wall / read * 1e6, 2),  # a node's reader thread: round trips and redis-py's parsing
        "redis_cpu_us": round(cpu / read * 1e6, 2),
        "command_us": round((usec - usec0) / read, 2),
        "bytes_per_entry": round(memory / entries, 1),
    }


def redis_benchmark(redis: RedisServer, requests: int) -> Optional[float]:
    """``redis-benchmark``'s XADD rate of a vote entry, 8 clients pipelining 16; None if it is not installed."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return None
    args: List[str] = []
    for key, value in vote_entry().items():
        args += [key, value.decode() if isinstance(value, bytes) else str(value)]
    command = [binary, "-s", str(redis.socket), "-n", str(requests), "-c", "8", "-P", "16", "-q", "xadd", "bench:rb", "*", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    match = re.findall(r"([\d.]+) requests per second", result.stdout.replace("\r", "\n"))
    return float(match[-1]) if match else None


def redis_cost_part(quick: bool, repeat: int) -> Dict[str, List[Dict[str, Any]]]:
    """Each round: a fresh redis-server under ``always``, then one under ``everysec``, each measured alike."""
    single = 300 if quick else 1000  # entries appended one per round trip
    batched = 5_000 if quick else 20_000
    readable = 10_000 if quick else 50_000
    results: Dict[str, List[Dict[str, Any]]] = {}
    for attempt in range(repeat):
        modes = ["always", "everysec"] if attempt % 2 == 0 else ["everysec", "always"]
        for mode in modes:
            print(f"... redis-cost: appendfsync {mode} ({attempt + 1}/{repeat})", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory(prefix="pollhub-redis-cost-") as folder:
                redis = RedisServer(Path(folder), appendfsync=mode)
                try:
                    report: Dict[str, Any] = {
                        "xadd_1": append_cost(redis, 1, single),
                        "xadd_100": append_cost(redis, 100, batched),
                        "xread": read_cost(redis, readable),
                        "redis_benchmark_xadd_per_s": redis_benchmark(redis, 10_000 if quick else 50_000),
                    }
                except Exception as exc:  # a failed round is reported, the others still count
                    report = {"error": repr(exc)}
                finally:
                    redis.stop()
            results.setdefault(mode, []).append(report)
    return results


def _median(reports: List[Dict[str, Any]], *path: str) -> Optional[float]:
    values = []
    for report in reports:
        value: Any = report
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            values.append(value)
    return statistics.median(values) if values else None


COST_ROWS = [
    (("xadd_1", "round_trip_ms"), "XADD, one per round trip: ms a round trip"),
    (("xadd_1", "round_trip_p99_ms"), "  p99 of those round trips, ms"),
    (("xadd_1", "round_trip_max_ms"), "  the slowest, ms"),
    (("xadd_1", "redis_cpu_us"), "  Redis CPU per entry, us"),
    (("xadd_100", "wall_us"), "XADD, 100 per pipeline: us per entry"),
    (("xadd_100", "round_trip_ms"), "  ms a pipeline of 100"),
    (("xadd_100", "redis_cpu_us"), "  Redis CPU per entry, us"),
    (("xadd_100", "command_us"), "  of which XADD itself, us"),
    (("redis_benchmark_xadd_per_s",), "redis-benchmark XADD/s (8 clients, -P 16)"),
    (("xread", "wall_us"), "XREAD COUNT 1000: us per entry, redis-py"),
    (("xread", "redis_cpu_us"), "  Redis CPU per entry, us"),
    (("xread", "command_us"), "  of which XREAD itself, us"),
    (("xread", "bytes_per_entry"), "stream memory per entry, bytes"),
]


def print_cost_part(results: Dict[str, List[Dict[str, Any]]]) -> None:
    modes = ["always", "everysec"]
    width = 48
    print("\n(c) Redis's own cost, a pollhub vote entry; medians")
    print("appendfsync".ljust(width) + "".join(m.rjust(14) for m in modes))
    for path, label in COST_ROWS:
        cells = [_median(results.get(m, []), *path) for m in modes]
        print(label.ljust(width) + "".join(("-" if v is None else f"{v:g}").rjust(14) for v in cells))
    print("every run (XADD one per round trip, ms; 100 per pipeline, us per entry):")
    for mode in modes:
        one = ", ".join(f"{r['xadd_1']['round_trip_ms']:g}" for r in results.get(mode, []) if "xadd_1" in r)
        many = ", ".join(f"{r['xadd_100']['wall_us']:g}" for r in results.get(mode, []) if "xadd_100" in r)
        print(f"  {mode}: {one}; {many}")
    errors = [r["error"] for reports in results.values() for r in reports if "error" in r]
    if errors:
        print("failed rounds: " + "; ".join(errors))
    append = _median(results.get("always", []), "xadd_100", "redis_cpu_us")
    read = _median(results.get("always", []), "xread", "redis_cpu_us")
    if append and read:
        print("on paper, Redis's one core (appendfsync always, appends in pipelines of 100), entries/s it can take:")
        print("  " + ", ".join(f"{n} nodes {1e6 / (append + n * read):,.0f}" for n in (1, 2, 4, 8, 16)))


# ---------------------------------------------------------------------------------------------


PARTS = ("redis", "workers", "redis-cost")


def main() -> int:
    parser = argparse.ArgumentParser(description="pollhub on Redis: one node against SQLite, --workers, Redis's own costs")
    parser.add_argument("--quick", action="store_true", help="a fifth of the load, for a smoke test")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each part; medians are shown (default: %(default)s)")
    parser.add_argument("--json", metavar="FILE", help="also write every report here")
    parser.add_argument(
        "--participants", type=int, default=10_000, help="participants of the --workers part (default: %(default)s; a fifth with --quick)"
    )
    args = parser.parse_args()
    parts = args.parts.split(",")
    if set(parts) - set(PARTS):
        parser.error(f"--parts: the parts are {', '.join(PARTS)}")
    if shutil.which("redis-server") is None and not os.path.exists("/usr/bin/redis-server"):
        parser.error("redis-server is not installed (apt-get install redis-server)")
    try:
        import redis  # noqa: F401
    except ImportError:
        parser.error("redis-py is not installed (pip install .[bench])")
    raise_file_limit()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CPU})
    started = time.monotonic()
    from redis.utils import HIREDIS_AVAILABLE

    parser_name = "hiredis" if HIREDIS_AVAILABLE else "redis-py's own, in Python (no hiredis)"
    results: Dict[str, Any] = {"checkout": str(ROOT), "redis_parser": parser_name, "load_before": os.getloadavg()}
    if "redis" in parts:
        results["redis"] = redis_part(args.quick, args.repeat)
    if "workers" in parts:
        results["workers"] = workers_part(args.quick, args.repeat, args.participants)
    if "redis-cost" in parts:
        results["redis-cost"] = redis_cost_part(args.quick, args.repeat)
    if "redis" in results:
        print_redis_part(results["redis"])
    if "workers" in results:
        print_workers_part(results["workers"])
    if "redis-cost" in results:
        print_cost_part(results["redis-cost"])
    results["load_after"] = os.getloadavg()
    print(f"\nredis-py's reply parser (the nodes' too): {parser_name}")
    print("load average before and after: " + " / ".join(", ".join(f"{v:.2f}" for v in results[k]) for k in ("load_before", "load_after")))
    print(f"({time.monotonic() - started:.0f} s in all)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
