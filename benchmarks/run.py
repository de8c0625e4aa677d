"""Benchmarks: pollhub against baselines, side by side in one run, with ratios.

Each server runs in its own process pinned to CPU 0; the load generator
(pollhub's own ``bench`` engine, one thread on epoll) runs here, pinned to CPU 1.
Both import the pollhub of this checkout, whatever pollhub is installed.

Servers (``--only``): ``pollhub``; ``naive``, pollhub's required design
written naively (``naive_pollhub.py``: the same hub, every frame through a
plain queue to a write thread per client); ``websocket-server`` and
``websockets``, a broadcast per vote from a few lines on each library.

Scenarios (``--scenarios``), as in the performance issue:

* ``fan-out``: 1,000 idle participants, one voter at 50 votes/s for 10 s:
  latency from a vote to its arrival at each participant (and, in its own row,
  to the load generator reading it there);
* ``throughput-1000``, ``throughput-100``: 4 voters x 5,000 votes as fast as
  the server takes them, with 1,000 and with 100 participants (sending stops
  after 20 s; a server still behind 10 s after the last vote sent is measured
  on the votes it acknowledged by then);
* ``connections``: 2,000 participants connecting 64 at a time; server memory
  per connection (its resident memory before and after), and server CPU per
  connection and per disconnect (all of them leave at once at the end);
* ``fan-out-stalled``, ``throughput-stalled``: the fan-out and the
  1,000-participant throughput runs again, with one participant that never reads;
* ``scale`` (pollhub only): 10,000 participants, 10 votes/s for 10 s.

Each scenario runs ``--repeat`` times (default: 3 for fan-out, 1 for the
rest), servers taking turns so that a noisy moment hits all of them, and the
table shows medians, since this machine is shared and noisy.

Run: python benchmarks/run.py [--quick] [--only pollhub,naive,...] [--scenarios fan-out,...] [--repeat N] [--json FILE]
Needs ``pip install .[bench]`` for the ``websockets`` baseline (skipped without it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Measure the checkout this script lives in, not whatever pollhub is installed
# (an editable install may point at another worktree): here and in the servers.
sys.path.insert(0, str(ROOT))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

from pollhub.bench import Bench
from pollhub.cli import raise_file_limit

POLLHUB = [sys.executable, "-m", "pollhub", "--host", "127.0.0.1", "--port", "{port}", "--memory", "--question", "Bench",
           "--option", "a", "--option", "b", "--kind", "counter", "--max-vote-rate", "0", "--max-address-vote-rate", "0", "--new-voter-rate", "0", "--log-level", "error"]  # fmt: skip
SERVERS: Dict[str, List[str]] = {
    "pollhub": POLLHUB,
    "naive": [sys.executable, str(HERE / "naive_pollhub.py"), "{port}"],
    "websocket-server": [sys.executable, str(HERE / "baseline_websocket_server.py"), "{port}"],
    "websockets": [sys.executable, str(HERE / "baseline_websockets.py"), "{port}"],
}
SERVER_CPU, LOAD_CPU = 0, 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss(pid: int) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/status") as status:
            match = re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.M)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One server process, pinned to the server CPU."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in SERVERS[name]]
        pin = (lambda: os.sched_setaffinity(0, {SERVER_CPU})) if hasattr(os, "sched_setaffinity") else None
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=pin, env=ENV)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"listening on (ws://\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"{name} did not start: {line!r}")
        self.url = match.group(1)
        self.cpu_marks: list[float | None] = []

    def memory(self) -> Optional[int]:
        """Resident memory; ``Bench`` asks before and after connecting, so the CPU time is noted too."""
        self.cpu_marks.append(cpu_seconds(self.proc.pid))
        return rss(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def settle(pid: int, quiet: float = 0.5, timeout: float = 120.0) -> float | None:
    """The server's CPU time once it has used none for ``quiet`` seconds (all disconnects handled)."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while last is not None and time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(pid)
        if now is None or now - last < 0.011:  # under one clock tick
            return now
        last = now
    return last


def measure(name: str, **options: Any) -> Dict[str, Any]:
    """Run one scenario against a fresh server."""
    server = Server(name)
    try:
        report = Bench(server.url, memory=server.memory, **options).run()
        closed = cpu_seconds(server.proc.pid)  # the bench has just closed every connection
        settled = settle(server.proc.pid)
        if closed is not None and settled is not None and report.get("connected"):
            report["disconnect_cpu_us"] = round((settled - closed) / report["connected"] * 1e6, 1)
    except (OSError, RuntimeError, TimeoutError) as exc:
        return {"error": str(exc)}
    finally:
        server.stop()
    marks = server.cpu_marks
    if len(marks) >= 2 and None not in marks[:2] and report.get("connected"):
        # The server's CPU time from the first connection to the last welcome: on
        # a shared machine, steadier than the rate.
        report["connect_cpu_us"] = round((marks[1] - marks[0]) / report["connected"] * 1e6, 1)  # type: ignore[operator]
    return report


def scenarios(quick: bool) -> Dict[str, Callable[[str], Dict[str, Any]]]:
    scale = 0.2 if quick else 1.0
    subscribers = int(1000 * scale)
    return {
        "fan-out": lambda n: measure(n, clients=subscribers, voters=1, rate=50, duration=10 * scale),
        "throughput-1000": lambda n: measure(n, clients=subscribers, voters=4, votes=int(5000 * scale), duration=20),
        "throughput-100": lambda n: measure(n, clients=100, voters=4, votes=int(5000 * scale), duration=20),
        "connections": lambda n: measure(n, clients=int(2000 * scale), voters=1, rate=1, duration=1),
        "fan-out-stalled": lambda n: measure(n, clients=subscribers, voters=1, rate=50, duration=10 * scale, stalled=1),
        "throughput-stalled": lambda n: measure(n, clients=subscribers, voters=4, votes=int(5000 * scale), duration=20, stalled=1),
    }


def each(reports: list[dict[str, Any]], key: str) -> list[float]:
    """A figure of each run of one scenario, in order (failed runs left out)."""
    return [v for v in (figure([r], key) for r in reports) if v is not None]


def figure(reports: List[Dict[str, Any]], key: str) -> Optional[float]:
    """The median of a figure over the repeated runs of one scenario."""
    values = []
    for report in reports:
        if "error" in report:
            continue
        if key.startswith(("latency_", "seen_latency_")):  # e.g. latency_p99: report["latency_ms"]["p99"]
            measure, _, percentile = key.rpartition("_")
            value = report.get(measure + "_ms", {}).get(percentile)
        else:
            value = report.get(key)
        if value is not None:
            values.append(value)
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description="pollhub against baselines, side by side")
    parser.add_argument("--quick", action="store_true", help="a fifth of the load, for a smoke test")
    parser.add_argument("--only", help="comma-separated server names")
    parser.add_argument("--json", metavar="FILE", help="also write every report here")
    parser.add_argument("--no-scale", action="store_true", help="skip the 10,000-connection run")
    parser.add_argument(
        "--repeat", type=int, help="runs of each scenario, servers taking turns; medians are shown (default: 3 of fan-out, 1 of the rest)"
    )
    parser.add_argument("--scenarios", help="comma-separated scenario names, scale included (default: all)")
    parser.add_argument("--table", metavar="FILE", help="run nothing: print the table of a --json file")
    args = parser.parse_args()
    if args.table:
        results = json.loads(Path(args.table).read_text())
        present = {name for by_name in results.values() for name in by_name}
        print_table(results, [n for n in SERVERS if n in present])
        return 0
    raise_file_limit()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {LOAD_CPU})
    names = [n for n in SERVERS if not args.only or n in args.only.split(",")]
    if args.only and set(args.only.split(",")) - set(SERVERS):
        parser.error(f"--only: the servers are {', '.join(SERVERS)}")
    try:
        import websockets  # noqa: F401
    except ImportError:
        names = [n for n in names if n != "websockets"]
        print("(websockets is not installed: its baseline is skipped; pip install .[bench])", file=sys.stderr)

    results: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
    chosen = scenarios(args.quick)
    if args.scenarios:
        wanted = args.scenarios.split(",")
        if set(wanted) - set(chosen) - {"scale"}:
            parser.error(f"--scenarios: the scenarios are {', '.join(chosen)}, scale")
        chosen = {k: v for k, v in chosen.items() if k in wanted}
        args.no_scale = args.no_scale or "scale" not in wanted
    for scenario, run in chosen.items():
        repeats = args.repeat or (3 if scenario.startswith("fan-out") else 1)
        for attempt in range(repeats):  # servers take turns, so a noisy moment hits all of them
            for name in names:
                print(f"... {scenario}: {name} ({attempt + 1}/{repeats})", file=sys.stderr, flush=True)
                results.setdefault(scenario, {}).setdefault(name, []).append(run(name))
    if not args.no_scale and "pollhub" in names:
        print("... scale: pollhub, 10,000 connections", file=sys.stderr, flush=True)
        clients = 2000 if args.quick else 10000
        results["scale"] = {"pollhub": [measure("pollhub", clients=clients, voters=1, rate=10, duration=10)]}
    print_table(results, names)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def print_table(results: dict[str, dict[str, list[dict[str, Any]]]], names: list[str]) -> None:
    """The figures side by side (medians of the runs), each run's, correctness, and the scale run."""
    rows = [
        ("fan-out", "latency_p50", "fan-out p50 ms"),
        ("fan-out", "latency_p99", "fan-out p99 ms"),
        ("fan-out", "seen_latency_p99", "fan-out p99 ms, read by the bench"),
        ("throughput-1000", "votes_per_second", "votes/s, 1000 participants"),
        ("throughput-100", "votes_per_second", "votes/s, 100 participants"),
        ("connections", "connect_per_second", "connections/s (2000, 64 at a time)"),
        ("connections", "refused", "connections refused"),
        ("connections", "memory_per_connection_bytes", "memory per connection, bytes"),
        ("connections", "connect_cpu_us", "server CPU per connection, us"),
        ("connections", "disconnect_cpu_us", "server CPU per disconnect, us"),
        ("fan-out-stalled", "latency_p99", "fan-out p99 ms, one stalled"),
        ("throughput-stalled", "votes_per_second", "votes/s, 1000 + one stalled"),
    ]
    width = 36
    print("\n" + "".ljust(width) + "".join(n[:22].rjust(24) for n in names))
    for scenario, key, label in rows:
        if scenario not in results:
            continue
        cells = [figure(results[scenario].get(n, []), key) for n in names]
        base = cells[0]
        line = label.ljust(width)
        for i, value in enumerate(cells):
            text = "-" if value is None else f"{value:g}"
            if i and value and base:
                text += f" ({base / value:.2g}x)"
            line += text.rjust(24)
        print(line)
    print("\n(x): pollhub's figure divided by the baseline's: above 1 pollhub is higher (better for votes/s and")
    print("connections/s, worse for latency and memory).")
    spread = [(label, scenario, key) for scenario, key, label in rows if scenario in results and key in ("latency_p99", "votes_per_second", "connect_per_second")]
    if any(len(reports) > 1 for by_name in results.values() for reports in by_name.values()):
        print("\nEvery run (the table shows their medians):")
        for label, scenario, key in spread:
            runs = "; ".join(f"{name} " + ", ".join(f"{v:g}" for v in each(results[scenario].get(name, []), key)) for name in names)
            print(f"  {label}: {runs}")
    correctness = {
        f"{scenario} / {name} / run {i + 1}": {k: r.get(k) for k in ("lost", "duplicated", "went_backwards", "behind", "dropped", "error") if r.get(k)}
        for scenario, by_name in results.items()
        for name, reports in by_name.items()
        for i, r in enumerate(reports)
    }
    bad = {k: v for k, v in correctness.items() if v}
    print("\ncorrectness: " + ("every run exact (no vote lost or duplicated, no total went backwards)" if not bad else json.dumps(bad, indent=1)))
    if "scale" in results:
        report = results["scale"]["pollhub"][0]
        if "error" in report:
            print(f"scale: {report['error']}")
        else:
            print(
                f"scale: {report['connected']} connections held, {report['refused']} refused, fan-out p99 "
                f"{report['latency_ms']['p99']} ms at 10 votes/s ({report.get('seen_latency_ms', {}).get('p99')} ms read by the bench), "
                f"{report.get('memory_per_connection_bytes')} bytes per connection"
            )


if __name__ == "__main__":
    sys.exit(main())
