"""Subprocesses for tests: read their output line by line, every wait with a timeout."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from typing import List

import pytest

from .conftest import TIMEOUT


class Process:
    """A Python subprocess whose output lines are read by a thread, so every wait has a timeout."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.stdout: List[str] = []
        self._reader = threading.Thread(target=self._read, name="test-output-reader", daemon=True)
        self._reader.start()

    @classmethod
    def pollhub(cls, *args: str) -> "Process":
        """``python -m pollhub ARGS``."""
        return cls("-m", "pollhub", *args)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
            self.lines.put(line)

    def expect(self, pattern: str) -> "re.Match[str]":
        """Wait for an output line matching ``pattern``."""
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r}; output so far: {''.join(self.stdout)}")
            match = re.search(pattern, line)
            if match:
                return match

    def stop(self, sig: int = signal.SIGINT) -> "subprocess.CompletedProcess[str]":
        """Send ``sig`` and wait for the exit; returns the whole output."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            stderr = self.proc.communicate(timeout=TIMEOUT)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stderr = self.proc.communicate()[1]
            pytest.fail("the process did not stop within the timeout")
        self._reader.join(TIMEOUT)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, "".join(self.stdout), stderr)


    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
