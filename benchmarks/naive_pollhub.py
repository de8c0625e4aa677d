"""Baseline: pollhub's required design, naively (the issue's "naive" row).

The same hub thread (coalescing every vote already waiting into one broadcast,
encoded once) and the same read threads as pollhub, but the write path as the
design reads at first sight:

* every frame, every broadcast included, goes to each client's write thread
  through a plain ``queue.Queue`` (``put_nowait``): the hub never sends;
* nothing in the queue is ever replaced: a client that falls behind gets every
  stale results message, in order;
* the write thread takes a frame and writes it with a blocking ``sendall``.

A client whose queue fills (``send_queue_size``, as in pollhub) is dropped,
the way the original gorilla/websocket hub drops a slow subscriber. It runs
with CPython's default settings, not the CLI's ``server_settings``: under
those (a 0.2 s GIL switch interval) this design falls to about 300 votes/s,
where with the defaults it reaches 1,500 to 14,000.

Run: python benchmarks/naive_pollhub.py PORT
"""

import queue
import sys
import threading

from pollhub import COUNTER, Hub, PollServer
from pollhub.connection import Connection
from pollhub.signals import StopRequest, stop_on


class PlainQueue(queue.Queue):
    """A plain ``queue.Queue`` of frames, with the few names ``Connection`` uses."""

    superseded = 0  # nothing is ever replaced
    closed = False

    def offer(self, frame, key=None, seal=None, last=False):
        if self.closed:
            return False
        self.put_nowait(frame)  # queue.Full: Connection.send_frame drops the client
        if last:
            self.end()
        return True

    def end(self):
        with self.mutex:
            if not self.closed:
                self.closed = True
                self.queue.append(None)  # the write thread's sentinel, even when full
                self.not_empty.notify()

    def done(self):
        pass


class NaiveConnection(Connection):
    def setup(self):
        super().setup()
        self._queue = PlainQueue(self.limits.send_queue_size)
        self.offer = self._queue.offer

    def _write_loop(self):
        get, sendall = self._queue.get, self.sock.sendall  # a blocking socket: sendall blocks
        try:
            while True:
                frame = get()
                if frame is None:
                    return
                sendall(frame)
        except OSError:
            self.abort()


hub = Hub()
server = PollServer(hub, "127.0.0.1", int(sys.argv[1]), max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0, direct_writes=False)
server.RequestHandlerClass = NaiveConnection
with StopRequest() as stop, stop_on(stop), hub, server:
    hub.create_poll("Bench", ["a", "b"], kind=COUNTER)
    print(f"listening on {server.url}", flush=True)
    stop.wait()
