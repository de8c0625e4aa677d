"""Every example runs, as a user would run it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

from pollhub import Hub, PollClient, PollServer

from .conftest import TIMEOUT
from .processes import Process

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=TIMEOUT
    )


def test_embedded_hub() -> None:
    result = run_example("embedded_hub.py")
    assert result.returncode == 0, result.stderr
    assert "results: {'pizza': 0, 'sushi': 1, 'tacos': 1}" in result.stdout
    assert "refused: voting on poll 'where-shall-we-eat' is closed" in result.stdout
    assert "applause: {'clap': 3, 'cheer': 0}" in result.stdout
    assert "rating: 4.33 from 3 voters" in result.stdout
    assert "refused: votes in poll 'one-word-for-today' cannot be changed" in result.stdout
    assert "cloud: {'Sunny': 2, 'Long': 1}" in result.stdout


def test_vote_script(hub: Hub, server: PollServer) -> None:
    hub.create_poll("Tabs or spaces?", ["Tabs", "Spaces"])
    result = run_example("vote_script.py", server.url, "Spaces", "--voter", "guido")
    assert result.returncode == 0, result.stderr
    assert "voted for 'spaces'" in result.stdout
    assert re.search(r"Spaces: 1", result.stdout)
    assert hub.results() == {"tabs": 0, "spaces": 1}
    refused = run_example("vote_script.py", server.url, "Emacs")
    assert refused.returncode == 1
    assert "vote refused" in refused.stdout


def test_server_in_app() -> None:
    app = Process(str(EXAMPLES / "server_in_app.py"), "--port", "0")
    try:
        url = app.expect(r"serving (ws://\S+)").group(1)
        with PollClient(url, voter="ann", timeout=TIMEOUT) as client:
            client.vote("yes")
        app.expect(r"ship-it: \{'yes': 1, 'no': 0\}")
        finished = app.stop(signal.SIGINT)
    finally:
        app.kill()
    assert finished.returncode == 0, finished.stderr
    assert "final: {'yes': 1, 'no': 0}" in finished.stdout
    assert "Traceback" not in finished.stderr


def test_echo_server() -> None:
    """Text and binary come back unchanged, on any path, until SIGINT."""
    import websocket

    app = Process(str(EXAMPLES / "echo_server.py"), "--port", "0", "--max-size", "100")
    try:
        url = app.expect(r"echo server on (ws://\S+)").group(1)
        ws = websocket.create_connection(url + "any/path", timeout=TIMEOUT)
        try:
            ws.send("héllo")
            assert ws.recv() == "héllo"
            ws.send_binary(b"\x00\xff")
            assert ws.recv() == b"\x00\xff"
            ws.send("x" * 101)  # over --max-size: closed with 1009
            opcode, frame = ws.recv_data_frame(control_frame=True)
            assert opcode == websocket.ABNF.OPCODE_CLOSE
            assert frame.data[:2] == (1009).to_bytes(2, "big")
        finally:
            ws.close()
        finished = app.stop(signal.SIGINT)
    finally:
        app.kill()
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
