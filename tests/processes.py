"""Subprocesses for tests: read their output line by line, every wait with a timeout."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from typing import IO, List

import pytest

from .conftest import TIMEOUT


class Process:
    """A Python subprocess whose output is read by threads, so every wait has a timeout."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1")  # SIGABRT prints every thread's stack
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.stdout: List[str] = []
        self.stderr: List[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True), name="test-stdout-reader"),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False), name="test-stderr-reader"),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    @classmethod
    def pollhub(cls, *args: str) -> "Process":
        """``python -m pollhub ARGS``."""
        return cls("-m", "pollhub", *args)

    def _read(self, pipe: IO[str], into: List[str], to_queue: bool) -> None:
        for line in pipe:
            into.append(line)
            if to_queue:
                self.lines.put(line)

    def expect(self, pattern: str) -> "re.Match[str]":
        """Wait for a line of standard output matching ``pattern``."""
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
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)  # the faulthandler's stacks show where it hangs
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
            for reader in self._readers:
                reader.join(TIMEOUT)
            pytest.fail(f"the process did not stop within the timeout; its stderr:\n{''.join(self.stderr)[-8000:]}")
        for reader in self._readers:
            reader.join(TIMEOUT)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, "".join(self.stdout), "".join(self.stderr))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
