"""Every public method ``websocket-server``'s ``WebsocketServer`` gives ``ConnectionServer`` and ``PollServer``:
it works on pollhub's connections, over real sockets, or it refuses with a hint naming pollhub's way."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any, Callable, List, Tuple

import pytest
import websocket

from pollhub import Hub, PollClient, PollServer
from pollhub.connection import Connection, ConnectionServer, ConnectionState

from .conftest import TIMEOUT, wait_until
from .rawws import OP_CLOSE, OP_PING, OP_PONG, RawClient, mask_frame


class Echo(ConnectionServer):
    """Echoes text; remembers the connections it opened."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opened: List[Connection] = []

    def on_open(self, conn: Connection) -> None:
        self.opened.append(conn)

    def on_text(self, conn: Connection, text: str) -> None:
        conn.send_text(text)


def connect(server: ConnectionServer, path: str = "/") -> websocket.WebSocket:
    return websocket.create_connection(f"ws://127.0.0.1:{server.port}{path}", timeout=TIMEOUT)


def echoes(ws: websocket.WebSocket, text: str = "ping?") -> bool:
    ws.send(text)
    return bool(ws.recv() == text)


def close_frame(ws: websocket.WebSocket) -> Tuple[int, str]:
    """The code and reason of the server's close frame, skipping messages before it (websocket-client echoes it)."""
    while True:
        opcode, frame = ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", frame.data[:2])[0], frame.data[2:].decode("utf-8")


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    return False


def in_thread(fn: Callable[[], object]) -> threading.Thread:
    """Run ``fn`` (a stop) in a thread of its own, so that clients can answer its close frames meanwhile."""
    thread = threading.Thread(target=fn, name="test-stopper", daemon=True)
    thread.start()
    return thread


def joined(thread: threading.Thread) -> bool:
    thread.join(TIMEOUT)
    return not thread.is_alive()


def open_clients(server: Echo, count: int) -> List[websocket.WebSocket]:
    clients = [connect(server) for _ in range(count)]
    wait_until(lambda: len(server.clients) == count)
    return clients


# Serving -------------------------------------------------------------------------


def test_run_forever_serves_until_stop() -> None:
    """run_forever() is serve_forever(): it serves in the calling thread and returns once stop() is called."""
    server = Echo()
    runner = threading.Thread(target=server.run_forever, name="test-run-forever", daemon=True)
    runner.start()
    try:
        ws = connect(server)
        assert echoes(ws)
        assert server.thread is runner
    finally:
        stopper = in_thread(server.stop)
    assert close_frame(ws)[0] == 1001
    ws.close()
    assert joined(stopper)
    assert joined(runner)


def test_run_forever_threaded_is_start() -> None:
    """run_forever(threaded=True) returns at once, serving from the pollhub-accept thread; stop() ends it."""
    server = Echo()
    try:
        assert server.run_forever(threaded=True) is None
        assert server.thread is not None and server.thread.name == "pollhub-accept"
        ws = connect(server)
        assert echoes(ws)
        ws.close()
    finally:
        server.stop()
    assert not server.thread.is_alive()


def test_poll_server_run_forever_starts_the_hub() -> None:
    """PollServer.run_forever() starts the hub as serve_forever() does, and stop() stops it again."""
    hub = Hub()
    server = PollServer(hub, port=0)
    runner = threading.Thread(target=server.run_forever, name="test-run-forever", daemon=True)
    runner.start()
    try:
        wait_until(lambda: hub.running)
        client = PollClient(server.url, timeout=TIMEOUT)  # waits for the hub's welcome
        client.close()
    finally:
        server.stop()
    runner.join(TIMEOUT)
    assert not runner.is_alive()
    assert not hub.running


# Sending -------------------------------------------------------------------------


def test_send_message_to_all_reaches_every_open_connection() -> None:
    """One text message to each open connection (str, or UTF-8 bytes); one still in its handshake gets nothing."""
    with Echo() as server:
        first, second = open_clients(server, 2)
        with RawClient(server.port) as handshaking:
            wait_until(lambda: len(server._connections) == 3)
            assert server.send_message_to_all("to all") == 2
            assert server.send_message_to_all("é".encode("utf-8")) == 2
            for ws in (first, second):
                assert ws.recv() == "to all"
                assert ws.recv() == "é"
            handshaking.sock.settimeout(0.2)
            with pytest.raises(socket.timeout):
                handshaking.sock.recv(1)
        with pytest.raises(UnicodeDecodeError):
            server.send_message_to_all(b"\xff")
        with pytest.raises(TypeError):
            server.send_message_to_all(42)  # type: ignore[arg-type]
        first.close()
        second.close()


def test_send_message_and_clients() -> None:
    """clients lists the open connections as the package's dicts; send_message reaches only the one given."""
    with Echo() as server:
        first, second = open_clients(server, 2)
        clients = server.clients
        assert [sorted(client) for client in clients] == [["address", "handler", "id"]] * 2
        by_id = {client["id"]: client for client in clients}
        target = by_id[min(by_id)]
        assert server.handler_to_client(target["handler"]) == target
        assert server.send_message(target, "just you")
        assert server.send_message(by_id[max(by_id)]["handler"], "and you")  # a Connection will do too
        assert first.recv() == "just you"
        assert second.recv() == "and you"
        clients.clear()  # a copy: changing it changes nothing
        assert len(server.clients) == 2
        with pytest.raises(AttributeError):
            server.clients = []  # type: ignore[misc]
        first.close()
        second.close()
        wait_until(lambda: server.clients == [])
        assert server.handler_to_client(target["handler"]) is None


def test_connection_send_pong_and_send_close_take_the_packages_arguments() -> None:
    """The package's handler methods on a Connection: a pong with binary bytes, send_close with a bytes reason."""
    with Echo() as server:
        with RawClient(server.port) as client:
            client.handshake()
            wait_until(lambda: server.opened)
            conn = server.opened[0]
            assert conn.send_pong(b"\x00\xff")
            assert client.read_until(OP_PONG).payload == b"\x00\xff"
            conn.send_close(1000, b"bye")
            frame = client.read_until(OP_CLOSE)
            assert (frame.close_code, frame.payload[2:]) == (1000, b"bye")


# Admitting and disconnecting -----------------------------------------------------


def test_deny_then_allow_new_connections() -> None:
    """Denied, a new connection is upgraded then closed with the status and reason given, and never
    opened; connections already open keep working; allowed again, new connections open."""
    with Echo() as server:
        (kept,) = open_clients(server, 1)
        server.deny_new_connections(1013, b"come back later")
        denied = connect(server)
        assert close_frame(denied) == (1013, "come back later")
        denied.close()
        assert echoes(kept)
        assert len(server.opened) == 1
        server.allow_new_connections()
        again = connect(server)
        assert echoes(again)
        assert len(server.opened) == 2
        for ws in (kept, again):
            ws.close()


def test_disconnect_clients_gracefully_keeps_serving() -> None:
    """Every open connection gets the close frame given; new connections still open."""
    with Echo() as server:
        clients = open_clients(server, 2)
        server.disconnect_clients_gracefully(4000, "reset")
        for ws in clients:
            assert close_frame(ws) == (4000, "reset")
            ws.close()
        wait_until(lambda: all(conn.state is ConnectionState.CLOSED for conn in server.opened))
        later = connect(server)
        assert echoes(later)
        later.close()


def test_disconnect_clients_abruptly_keeps_serving() -> None:
    """Every open connection is dropped without a close frame; new connections still open."""
    with Echo() as server:
        with RawClient(server.port) as client:
            client.handshake()
            wait_until(lambda: server.opened)
            server.disconnect_clients_abruptly()
            assert [f.opcode for f in client.frames_until_eof()] == []
        assert server.opened[0].state is ConnectionState.ABORTED
        later = connect(server)
        assert echoes(later)
        later.close()


def test_shutdown_gracefully_closes_every_client_with_1001() -> None:
    """PollServer.shutdown_gracefully(): each client gets 1001, the server stops listening, its hub stops."""
    hub = Hub()
    with PollServer(hub, port=0) as server:
        clients = [websocket.create_connection(server.url, timeout=TIMEOUT) for _ in range(2)]
        wait_until(lambda: len(server.clients) == 2)
        stopper = in_thread(server.shutdown_gracefully)
        for ws in clients:
            assert close_frame(ws)[0] == 1001
            ws.close()
        assert joined(stopper)
        assert refuses_connections(server.port)
        assert not hub.running


def test_shutdown_gracefully_takes_a_status_and_reason() -> None:
    with Echo() as server:
        (ws,) = open_clients(server, 1)
        stopper = in_thread(lambda: server.shutdown_gracefully(1012, b"restarting"))
        assert close_frame(ws) == (1012, "restarting")
        ws.close()
        assert joined(stopper)


def test_shutdown_abruptly_drops_every_client() -> None:
    """No close frame, the TCP connection ends, the server stops listening."""
    with Echo() as server:
        with RawClient(server.port) as client:
            client.handshake()
            client.send(mask_frame(OP_PING, b"up?"))
            assert client.read_until(OP_PONG).payload == b"up?"
            server.shutdown_abruptly()
            assert client.frames_until_eof() == []
        assert refuses_connections(server.port)


# Refused -------------------------------------------------------------------------

REFUSED: List[Tuple[str, Callable[[ConnectionServer], object], str]] = [
    ("set_fn_new_client", lambda s: s.set_fn_new_client(print), "override on_open"),
    ("set_fn_client_left", lambda s: s.set_fn_client_left(print), "override on_close"),
    ("set_fn_message_received", lambda s: s.set_fn_message_received(print), "override on_text"),
    ("new_client", lambda s: s.new_client({}, s), "on_open"),
    ("client_left", lambda s: s.client_left({}, s), "on_close"),
    ("message_received", lambda s: s.message_received({}, s, "x"), "on_text"),
]


@pytest.mark.parametrize("name, call, hint", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_server_methods_name_pollhubs_way(name: str, call: Callable[[ConnectionServer], object], hint: str) -> None:
    with Echo() as server:
        with pytest.raises(NotImplementedError, match=f"{name}.*{hint}"):
            call(server)


def test_id_counter_is_refused() -> None:
    with Echo() as server:
        with pytest.raises(AttributeError, match="Connection has its own id"):
            server.id_counter


def test_a_subclass_defining_a_package_callback_is_refused() -> None:
    """It would never be called: the class statement itself fails, naming the hook to override."""
    with pytest.raises(TypeError, match="Chat.message_received.*override on_text"):

        class Chat(ConnectionServer):
            def message_received(self, client: Any, server: Any, message: str) -> None:  # type: ignore[override]
                pass


READERS = ["read_next_message", "read_bytes", "read_http_headers", "handshake"]


@pytest.mark.parametrize("name", READERS)
def test_refused_connection_methods(name: str) -> None:
    """The package's handler reads the socket with these; on a live Connection they refuse and leave it working."""
    with Echo() as server:
        ws = connect(server)
        wait_until(lambda: server.opened)
        method = getattr(server.opened[0], name)
        with pytest.raises(NotImplementedError, match=f"Connection.{name}"):
            method(2) if name == "read_bytes" else method()
        assert echoes(ws)
        ws.close()
