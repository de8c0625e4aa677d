"""StopRequest: a stop flag that signal handlers can set without deadlocking."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from pollhub.signals import StopRequest

from .conftest import TIMEOUT

# Runs ``stop.set()`` at every line executed inside ``stop.wait()``: a signal
# handler may run at any of them. The process prints "stopped" and exits, or hangs.
REENTRANT_SET = """
import sys, threading
from pollhub.signals import StopRequest

stop = StopRequest() if sys.argv[1] == "StopRequest" else threading.Event()

def trace(frame, event, arg):
    if event == "line":
        stop.set()
    return trace

sys.settrace(trace)
stopped = stop.wait(5)
sys.settrace(None)
print("stopped" if stopped else "timed out", flush=True)
"""


def run_reentrant(kind: str, timeout: float) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-c", REENTRANT_SET, kind], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_set_inside_wait_at_any_line_returns() -> None:
    """What a signal handler does, at every point where Python could run one."""
    finished = run_reentrant("StopRequest", TIMEOUT)
    assert finished.stdout == "stopped\n", finished.stderr


def test_the_same_deadlocks_a_threading_event() -> None:
    """The check above can fail: with threading.Event the same process never ends."""
    with pytest.raises(subprocess.TimeoutExpired):
        run_reentrant("Event", 2.0)


def test_set_from_another_thread_wakes_a_waiter_at_once() -> None:
    stop = StopRequest()
    try:
        woke: list = []
        waiter = threading.Thread(target=lambda: woke.append(stop.wait(TIMEOUT)), name="test-waiter")
        waiter.start()
        started = time.monotonic()
        stop.set()
        waiter.join(TIMEOUT)
        assert woke == [True] and time.monotonic() - started < 1.0
        assert stop.is_set() and stop.wait(0) and stop.wait()
    finally:
        stop.close()


def test_wait_times_out_false_and_many_sets_never_block() -> None:
    with StopRequest() as stop:
        assert not stop.is_set() and stop.wait(0.01) is False
        for _ in range(100_000):  # far more than a socket buffer holds
            stop.set()
        assert stop.wait(0) is True
