"""``python -m pollhub --workers N``: N pollhub processes serving one event on one port.

One process is bound to about one core by its hub thread and the GIL. With
``--workers N`` this module's supervisor starts N worker processes, each
exactly ``python -m pollhub`` with its own hub, sharing the event through
Redis (``--redis``) and listening on one port with ``SO_REUSEPORT``: the
kernel spreads new connections over them.

The supervisor:

* reserves the port first: a socket bound with ``SO_REUSEPORT`` that never
  listens (so it takes no connection) picks the port for ``--port 0`` and
  keeps it ours for as long as the workers run;
* starts worker K as ``python -m pollhub ARGS --port P --worker-index K ...``
  with the admin token in its environment (``TOKEN_ENV``), not on its
  command line, which every local user can read; a worker that listens
  writes its node id to a pipe the supervisor reads;
* once every worker listens, lets the caller print the banner, then waits;
* restarts a worker that dies, after ``RESTART_DELAY``; past ``MAX_DEATHS``
  deaths within ``DEATH_WINDOW`` seconds it gives up and stops them all;
* when told to stop (:mod:`pollhub.cli` turns Ctrl-C and SIGTERM into a
  :class:`~pollhub.signals.StopRequest`) sends SIGTERM to every worker, waits
  up to ``STOP_TIMEOUT`` and kills those still running.

Workers ignore SIGINT: Ctrl-C in a terminal reaches the whole process group,
and a worker stopping by itself would look like a death to restart. They
stop on SIGTERM, from the supervisor.

No orphans: a worker stops by itself once its parent is no longer the
supervisor (it was re-parented: the supervisor died, even by ``kill -9``),
which its serving loop checks with ``os.getppid()`` four times a second.
Linux's ``prctl(PR_SET_PDEATHSIG)`` would be quicker, but it is Linux-only,
fires when the *thread* that started the child ends rather than the
process, and still needs the ``getppid`` check for a supervisor that died
before the call: the check alone is portable and enough.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Callable, Deque, List, Optional, Sequence

from .signals import StopRequest

logger = logging.getLogger(__name__)

TOKEN_ENV = "POLLHUB_WORKER_TOKEN"  # the admin token, from the supervisor to its workers
CHECK_INTERVAL = 0.1  # seconds between the supervisor's checks of its workers
START_TIMEOUT = 30.0  # seconds a worker may take to listen (connecting to Redis, loading the event)
RESTART_DELAY = 1.0  # seconds before a worker that died is started again
MAX_DEATHS = 5  # deaths within DEATH_WINDOW seconds that the supervisor tolerates; one more and it gives up
DEATH_WINDOW = 30.0
STOP_TIMEOUT = 10.0  # seconds workers get to stop after SIGTERM before they are killed


def max_workers() -> int:
    """The most workers ``--workers`` accepts: four per core."""
    return 4 * (os.cpu_count() or 1)


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT`` that never listens; raises ``OSError``.

    While it is open the port is ours: only sockets that also set
    ``SO_REUSEPORT`` (and belong to the same user) may bind it too, and as it
    does not listen, it takes none of their connections. With ``port=0`` the
    kernel picks the port: read it with ``getsockname()``.
    """
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError(errno.ENOPROTOOPT, "this platform has no SO_REUSEPORT: workers cannot share a port")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class Worker:
    """One of the supervisor's N places: the process that fills it now, if any."""

    def __init__(self, index: int) -> None:
        self.index = index  # 1 to N
        self.proc: "Optional[subprocess.Popen[bytes]]" = None
        self.ready: Optional[int] = None  # the pipe it writes its node id to, until it does
        self.node: Optional[str] = None  # its hub's node id, once it listens
        self.started = 0.0  # time.monotonic() of its start
        self.restart_at: Optional[float] = None  # when to start it again, after it died

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc is not None else None

    def __repr__(self) -> str:
        return f"worker {self.index} (pid {self.pid}, node {self.node})"


class Supervisor:
    """Run ``count`` workers, ``python -m pollhub SERVE_ARGS --port PORT``, and keep them running.

    ``serve_args`` are serve arguments as ``python -m pollhub`` takes them;
    ``--port`` and the worker's own arguments are added after them (where
    the last of a flag wins). ``token`` reaches every worker through its
    environment. With ``start_poll``, worker 1's first process starts the
    ``--question`` poll of ``serve_args``; the others, and every restart, do
    not (a restart must not reopen a poll the presenter closed). Call
    :meth:`start`, then :meth:`run` (or :meth:`check` in a loop of your own),
    and always :meth:`stop`. Call them all from one thread.
    """

    def __init__(
        self,
        count: int,
        serve_args: Sequence[str],
        port: int,
        token: str,
        *,
        start_poll: bool = False,
        python: str = sys.executable,
    ) -> None:
        if count < 1:
            raise ValueError("a supervisor needs at least one worker")
        self.workers = [Worker(index) for index in range(1, count + 1)]
        self.serve_args = list(serve_args)
        self.port = port
        self.token = token
        self.start_poll = start_poll
        self.python = python
        self.deaths: Deque[float] = collections.deque()  # time.monotonic() of each recent death
        self.restarts = 0

    def command(self, worker: Worker, ready_fd: int, first: bool) -> List[str]:
        """The command line of ``worker``'s process (see the hidden worker flags in pollhub.cli)."""
        args = [self.python, "-m", "pollhub", *self.serve_args, "--port", str(self.port)]
        args += ["--worker-index", str(worker.index), "--worker-supervisor", str(os.getpid())]
        args += ["--worker-ready-fd", str(ready_fd)]
        if self.start_poll and first and worker.index == 1:
            args.append("--worker-start-poll")
        return args

    def _spawn(self, worker: Worker, first: bool = False) -> None:
        read_end, write_end = os.pipe()
        try:
            env = dict(os.environ, **{TOKEN_ENV: self.token})
            worker.proc = subprocess.Popen(self.command(worker, write_end, first), pass_fds=(write_end,), env=env)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)  # the worker holds its own copy
        os.set_blocking(read_end, False)
        worker.ready, worker.node = read_end, None
        worker.started, worker.restart_at = time.monotonic(), None

    def _read_ready(self, worker: Worker) -> None:
        """Take the node id ``worker`` wrote once it listens, if it has."""
        if worker.ready is None:
            return
        try:
            data = os.read(worker.ready, 64)
        except BlockingIOError:
            return
        self._close_ready(worker)
        node = data.decode("ascii", "replace").strip()
        if node:  # (nothing: the worker exited before it listened; its exit says the rest)
            worker.node = node

    def _close_ready(self, worker: Worker) -> None:
        if worker.ready is not None:
            os.close(worker.ready)
            worker.ready = None

    def start(self, stop: StopRequest, timeout: float = START_TIMEOUT) -> Optional[int]:
        """Start every worker and wait until each listens, or until ``stop``.

        Returns None then; or, when a worker exited or did not listen within
        ``timeout``, the exit status to give up with (the worker's, or 1):
        the caller stops the others.
        """
        for worker in self.workers:
            self._spawn(worker, first=True)
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            waiting = False
            for worker in self.workers:
                self._read_ready(worker)
                assert worker.proc is not None
                code = worker.proc.poll()
                if code is not None:
                    logger.error("worker %d (pid %d) exited with status %d before it listened", worker.index, worker.pid, code)
                    self._close_ready(worker)
                    worker.proc = None  # reaped: stop() has nothing more to say about it
                    return code if code > 0 else 1
                waiting = waiting or worker.node is None
            if not waiting:
                return None
            if time.monotonic() > deadline:
                logger.error("the workers did not all listen within %g s", timeout)
                return 1
            stop.wait(CHECK_INTERVAL)
        return None

    def run(self, stop: StopRequest) -> int:
        """Keep the workers running until ``stop``; returns 0, or 1 when they kept dying (see :meth:`check`)."""
        while not stop.wait(CHECK_INTERVAL):
            if not self.check():
                return 1
        return 0

    def check(self) -> bool:
        """Note deaths, start again the workers due; False when there were too many deaths to go on."""
        now = time.monotonic()
        for worker in self.workers:
            if worker.proc is None:
                if worker.restart_at is not None and now >= worker.restart_at:
                    self._spawn(worker)
                    self.restarts += 1
                continue
            had_node = worker.node is not None
            self._read_ready(worker)
            if worker.node is not None and not had_node:
                logger.info("worker %d restarted: node %s (pid %d)", worker.index, worker.node, worker.pid)
            code = worker.proc.poll()
            if code is None and worker.node is None and now - worker.started > START_TIMEOUT:
                logger.error("worker %d (pid %d) did not listen within %g s: killing it", worker.index, worker.pid, START_TIMEOUT)
                worker.proc.kill()
                code = worker.proc.wait(STOP_TIMEOUT)
            if code is not None:
                self._died(worker, code, now)
        while self.deaths and self.deaths[0] < now - DEATH_WINDOW:
            self.deaths.popleft()
        if len(self.deaths) > MAX_DEATHS:
            logger.error("%d worker deaths within %g s: giving up", len(self.deaths), DEATH_WINDOW)
            return False
        return True

    def _died(self, worker: Worker, code: int, now: float) -> None:
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        logger.error("worker %d (pid %d, node %s) %s; starting it again in %g s", worker.index, worker.pid, worker.node, how, RESTART_DELAY)
        self._close_ready(worker)
        worker.proc, worker.node = None, None
        worker.restart_at = now + RESTART_DELAY
        self.deaths.append(now)

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """SIGTERM every worker, wait up to ``timeout`` s, kill those left; True when all stopped cleanly.

        Cleanly: exit status 0, or ended by that SIGTERM (a worker still
        starting). Idempotent.
        """
        running = [w for w in self.workers if w.proc is not None]
        for worker in running:
            assert worker.proc is not None
            if worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        clean = True
        for worker in running:
            assert worker.proc is not None
            try:
                code = worker.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("%r did not stop within %g s: killing it", worker, timeout)
                worker.proc.kill()
                try:
                    worker.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:  # unkillable (stuck in the kernel): nothing more to do
                    logger.error("%r did not die after SIGKILL", worker)
                clean = False
            else:
                if code not in (0, -signal.SIGTERM):
                    logger.error("%r exited with status %d", worker, code)
                    clean = False
            self._close_ready(worker)
            worker.proc = None
        for worker in self.workers:
            worker.restart_at = None
        return clean


def supervise(
    count: int,
    serve_args: Sequence[str],
    host: str,
    port: int,
    token: str,
    stop: StopRequest,
    banner: Callable[[int], None],
    *,
    start_poll: bool = False,
) -> int:
    """``--workers N``: reserve the port, run ``count`` workers until ``stop``; returns the exit status.

    ``banner(port)`` is called once every worker listens. Exit status 0
    once stopped; 1 when the port cannot be had, a worker could not start
    (or the worker's own status), the workers kept dying, or one could not
    be stopped.
    """
    try:
        reserved = reserve_port(host, port)
    except OSError as exc:
        print(f"pollhub: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    with reserved:
        port = reserved.getsockname()[1]
        supervisor = Supervisor(count, serve_args, port, token, start_poll=start_poll)
        status = 1
        failed = None
        try:
            failed = supervisor.start(stop)
            if failed is not None:
                status = failed
            elif stop.is_set():
                status = 0
            else:
                for worker in supervisor.workers:
                    print(f"worker {worker.index}: node {worker.node} listening (pid {worker.pid})", flush=True)
                banner(port)
                status = supervisor.run(stop)
        finally:
            if not supervisor.stop():
                status = status or 1
    if failed is None:
        print(f"pollhub stopped: {count} workers, restarted {supervisor.restarts} time(s).", flush=True)
    else:
        print("pollhub: the workers could not start (see above).", file=sys.stderr, flush=True)
    return status
