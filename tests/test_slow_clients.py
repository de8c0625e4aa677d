"""Slow and stalled clients: they never slow the hub or anyone else, and stalled ones are dropped."""

from __future__ import annotations

import queue
import socket
import time

import pytest

from pollhub import COUNTER, Hub, PollClient, PollServer
from pollhub.connection import SendQueue

from .conftest import TIMEOUT, wait_until
from .rawws import RawClient


def drain(q: SendQueue) -> list:
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def test_newer_results_replace_older_in_place() -> None:
    q = SendQueue(10)
    q.put_nowait((b"results 1", "results:p", None))
    q.put_nowait((b"voted", None, None))
    q.put_nowait((b"results 2", "results:p", None))
    q.put_nowait((b"results of q", "results:q", None))
    assert q.qsize() == 3 and q.superseded == 1
    # The voted reply still comes after counts that include the vote.
    assert drain(q) == [b"results 2", b"voted", b"results of q"]


def test_a_poll_state_seals_older_results() -> None:
    q = SendQueue(10)
    q.put_nowait((b"results 1", "results:p", None))
    q.put_nowait((b"poll p reset", None, "results:p"))
    q.put_nowait((b"results 2", "results:p", None))
    q.put_nowait((b"results 3", "results:p", None))
    assert drain(q) == [b"results 1", b"poll p reset", b"results 3"]


def test_a_taken_frame_is_not_replaced() -> None:
    q = SendQueue(10)
    q.put_nowait((b"results 1", "results:p", None))
    assert q.get_nowait() == b"results 1"
    q.put_nowait((b"results 2", "results:p", None))
    assert drain(q) == [b"results 2"]


def test_full_queue_refuses() -> None:
    q = SendQueue(2)
    q.put_nowait((b"a", None, None))
    q.put_nowait((b"b", "k", None))
    with pytest.raises(queue.Full):
        q.put_nowait((b"c", None, None))


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(1 << 20, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


@pytest.mark.skipif(not hasattr(socket, "MSG_DONTWAIT"), reason="direct writes need MSG_DONTWAIT")
def test_direct_writes_hand_over_to_the_queue_and_back() -> None:
    """Frames go straight to the socket until it would block, then wait in the queue (in order,
    stale results replaced) until the write thread has written them, then go straight again."""
    ours, theirs = socket.socketpair()
    offered: list = []  # what the peer must receive, in order
    received: list = []
    with ours, theirs:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        q = SendQueue(100000)
        q.write_directly(ours)
        assert q.ready
        n = 0
        while q.qsize() == 0:  # written directly, until the socket would block
            frame = b"direct %d;" % n
            n += 1
            assert q.offer(frame)
            offered.append(frame)
        assert n > 1 and not q.ready
        assert q.queue[0][1] is None  # the rest of a frame the socket took only part of: never replaced
        assert q.offer(b"results 1;", key="results:p")
        assert q.offer(b"voted;")
        assert q.offer(b"results 2;", key="results:p")  # takes the place of results 1
        assert q.superseded == 1
        offered += [b"results 2;", b"voted;"]
        while q.qsize():  # the write thread's part: take a frame, write all of it, say so
            frame = q.get_nowait()
            assert not q.ready, "no direct write while the write thread holds a frame"
            view = memoryview(frame)
            while view:
                received.append(read_all(theirs))
                try:
                    view = view[ours.send(view, socket.MSG_DONTWAIT) :]
                except BlockingIOError:
                    pass
            q.done()
        assert q.ready
        assert q.offer(b"direct again;")
        assert q.qsize() == 0
        offered.append(b"direct again;")
        received.append(read_all(theirs))
    assert b"".join(received) == b"".join(offered)


def test_stalled_client_is_dropped_and_others_keep_up() -> None:
    """A client that stops reading fills its socket, then its write times out and it is dropped.

    Meanwhile a reading client sees every change at once and the hub never waits.
    """
    with Hub() as hub, PollServer(hub, port=0, max_vote_rate=0, write_timeout=0.5, send_queue_size=100000) as server:
        labels = [f"option {i} " + "x" * 90 for i in range(32)]
        poll = hub.create_poll("Big poll", labels, kind=COUNTER)
        stalled = RawClient(server.port)
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.handshake()  # and never read again
        with stalled, PollClient(server.url, timeout=TIMEOUT) as reader:
            wait_until(lambda: server.connection_count == 2)
            port = stalled.sock.getsockname()[1]
            for conn in list(server._connections.values()):  # small kernel buffers: a few messages fill them
                if conn.client_address[1] == port:
                    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            deadline = time.monotonic() + TIMEOUT
            toggles = 0
            while server.connection_count == 2 and time.monotonic() < deadline:
                # Each change broadcasts the whole poll, about 4 KB, without a key; the reader keeps up.
                (hub.close_poll if toggles % 2 == 0 else hub.open_poll)(poll.id)
                toggles += 1
                reader.wait_for(lambda c, is_open=toggles % 2 == 0: c.poll(poll.id).open is is_open)
            assert server.connection_count == 1, "the stalled client was not dropped"
            hub.open_poll(poll.id)
            first = poll.options[0].id
            hub.vote(poll.id, first)
            reader.wait_for(lambda c: c.results(poll.id)[first] == 1, timeout=TIMEOUT)
        assert toggles > 2
        assert server.dropped_stalled.value() == 1
