"""A private nginx for tests: its own prefix, configuration, logs and temporary files in a temporary directory.

nginx runs in the foreground (``daemon off``) with a master and one worker,
listening on a free loopback port, as a reverse proxy for pollhub nodes. The
proxy part of its configuration is README.rst's ("Behind a reverse proxy"),
without TLS. In CI nginx is required (``.ci/run`` installs Debian's
``nginx``); elsewhere the tests that need it are skipped, unless
``POLLHUB_NGINX_TESTS=required``.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import List, Optional, Sequence

import pytest

START_TIMEOUT = 10.0  # seconds nginx may take to listen
STOP_TIMEOUT = 10.0  # seconds it may take to stop
START_TRIES = 5  # free ports tried when another process takes the one picked
#: The address nginx connects to the nodes from (``proxy_bind``): a loopback
#: address of its own, so that a node tells nginx (trusted) from a test's
#: client connecting to it directly from 127.0.0.1.
PROXY_ADDRESS = "127.0.0.2"


def nginx_binary() -> Optional[str]:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def require_nginx() -> str:
    """The nginx binary; skips the test when there is none, fails it when POLLHUB_NGINX_TESTS=required."""
    binary = nginx_binary()
    if binary is None:
        if os.environ.get("POLLHUB_NGINX_TESTS") == "required":
            pytest.fail("nginx is not installed (apt-get install nginx)")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return binary


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now (another process may take it before nginx binds it: see NginxServer.start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def proxy_locations(upstream: str = "pollhub", read_timeout: str = "120s") -> str:
    """The ``map`` and ``location`` blocks of README.rst's configuration, for an upstream named ``upstream``."""
    return f"""
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}

        location = /ws {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout {read_timeout};
            proxy_send_timeout {read_timeout};
        }}
    """


def main_config(directory: Path, http: str) -> str:
    """A whole nginx.conf that keeps every file in ``directory``, around the ``http`` block's contents."""
    d = directory
    # Run as root (a container, CI), the master would start its worker as
    # "nobody", which cannot enter the test's private directory: keep it root.
    user = ""
    if os.geteuid() == 0:
        user = f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    return f"""
{user}
daemon off;
master_process on;
worker_processes 1;
pid {d / "nginx.pid"};
error_log {d / "error.log"} info;

events {{
    worker_connections 1024;
}}

http {{
    access_log {d / "access.log"};
    client_body_temp_path {d / "client_body"};
    proxy_temp_path {d / "proxy"};
    fastcgi_temp_path {d / "fastcgi"};
    uwsgi_temp_path {d / "uwsgi"};
    scgi_temp_path {d / "scgi"};
{http}
}}
"""


def check_config(directory: Path, http: str) -> "subprocess.CompletedProcess[str]":
    """``nginx -t`` on :func:`main_config` of ``http``."""
    binary = require_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(main_config(directory, http))
    command = [binary, "-t", "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")]
    return subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT)


class NginxServer:
    """One nginx in ``directory``, balancing ``nodes`` (``host:port`` each) on ``127.0.0.1:port``.

    ``balance`` is the upstream's method (``least_conn;`` or ``hash
    $remote_addr;``); ``read_timeout`` the WebSocket location's
    ``proxy_read_timeout`` and ``proxy_send_timeout``.
    """

    def __init__(
        self,
        directory: Path,
        nodes: Sequence[str],
        balance: str = "least_conn;",
        read_timeout: str = "120s",
    ) -> None:
        self.binary = require_nginx()
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.nodes = list(nodes)
        self.balance = balance
        self.read_timeout = read_timeout
        self.conf = self.dir / "nginx.conf"
        self.error_log = self.dir / "error.log"
        self.access_log = self.dir / "access.log"
        self.stderr = self.dir / "stderr.log"
        self.port = 0
        self.proc: Optional["subprocess.Popen[bytes]"] = None
        self.start()

    @property
    def url(self) -> str:
        """The WebSocket address through nginx."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def config(self) -> str:
        servers = "\n".join(f"        server {node};" for node in self.nodes)
        return main_config(
            self.dir,
            f"""
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream pollhub {{
        {self.balance}
{servers}
    }}

    server {{
        listen 127.0.0.1:{self.port};
        server_name localhost;
        proxy_bind {PROXY_ADDRESS};
{proxy_locations("pollhub", self.read_timeout)}
    }}
""",
        )

    def command(self) -> List[str]:
        return [self.binary, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.error_log)]

    def start(self) -> None:
        """Start nginx on a free port and wait until it accepts connections (another port if that one was taken)."""
        for _ in range(START_TRIES):
            self.port = free_port()
            self.conf.write_text(self.config())
            # A session of its own, so that stop() can end the master and its worker together.
            with open(self.stderr, "ab") as stderr:
                self.proc = subprocess.Popen(
                    self.command(), stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
                )
            if self._wait_listening():
                return
            log = self.log()
            self.stop()
            if "Address already in use" not in log:
                pytest.fail(f"nginx did not start; its error log:\n{log[-3000:]}")
        pytest.fail(f"nginx found no free port in {START_TRIES} tries")

    def _wait_listening(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError as exc:
                if exc.errno not in (errno.ECONNREFUSED, errno.ECONNRESET):
                    raise
            time.sleep(0.02)
        return False

    def log(self) -> str:
        """The error log, and whatever nginx wrote to its stderr before it had one."""
        return "".join(f.read_text(errors="replace") for f in (self.stderr, self.error_log) if f.exists())

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown, which closes WebSocket tunnels at once) and wait; SIGKILL after that."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # The master still runs, so its session id is still its own: its worker goes with it.
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT)
