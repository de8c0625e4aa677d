"""A private redis-server for tests: a Unix socket in a temporary directory, durable settings.

Each test module that needs Redis starts its own (see the ``redis_server``
fixture in conftest.py) and each test uses its own event name, so tests share
nothing. In CI Redis is required: ``.ci/run`` installs Debian's redis-server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, List, Optional

import pytest

START_TIMEOUT = 10.0  # seconds redis-server may take to accept connections


def redis_server_binary() -> Optional[str]:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )


class RedisServer:
    """One redis-server process on ``DIR/redis.sock`` with ``appendonly yes`` and ``appendfsync always``."""

    def __init__(self, directory: Path, *extra: str) -> None:
        binary = redis_server_binary()
        if binary is None:
            if os.environ.get("POLLHUB_REDIS_TESTS") == "required":
                pytest.fail("redis-server is not installed (apt-get install redis-server)")
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket = self.dir / "redis.sock"
        self.extra = extra
        self.url = f"unix://{self.socket}"
        self.proc: Optional["subprocess.Popen[bytes]"] = None
        self.start()

    def command(self) -> List[str]:
        return [
            self.binary,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
            *self.extra,
        ]

    def start(self) -> None:
        """Start it (again, on the same directory: what it kept is loaded) and wait until it answers."""
        import redis

        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1) as client:
                    if client.ping():
                        return
            except (redis.ConnectionError, redis.BusyLoadingError, OSError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.dir / "redis.log").read_text(errors="replace")[-2000:] if (self.dir / "redis.log").exists() else ""
                self.stop()
                pytest.fail(f"redis-server did not start; its log:\n{log}")
            time.sleep(0.02)

    def client(self, **kwargs: Any) -> Any:
        """A redis-py client of its own."""
        import redis

        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5, **kwargs)

    def kill(self) -> None:
        """``kill -9``: whatever it acknowledged is in its append-only file."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=START_TIMEOUT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=START_TIMEOUT)
