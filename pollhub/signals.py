"""A stop request that a signal handler can make safely.

``threading.Event`` must not be set from a signal handler. Python runs the
handler in the main thread between two bytecodes, and that can be while the
main thread is inside ``Event.wait()`` holding the event's lock: ``set()``
then waits for that lock, which its own thread holds, for ever. pollhub's
serving loop did exactly this (``while not stop.wait(0.25)``): on Python
3.13, 6 Ctrl-C's in 100 left ``python -m pollhub`` running for good.

:class:`StopRequest` takes no lock: ``set()`` writes a flag and one byte to a
socket pair, and ``wait()`` is a ``select()`` on the other end.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
from typing import Any, Iterable, Iterator, Optional

__all__ = ["StopRequest", "stop_on"]


class StopRequest:
    """A one-way flag, safe to set from signal handlers and from any thread.

    Use it where ``threading.Event`` would be used to stop a loop; only
    ``set()``, ``is_set()`` and ``wait()`` are offered, and it is never cleared.
    Call :meth:`close` (or use it as a context manager) to free its two sockets.
    """

    def __init__(self) -> None:
        self._flag = False
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)

    def set(self) -> None:
        """Request the stop; wakes every :meth:`wait`. Takes no lock."""
        self._flag = True
        try:
            self._writer.send(b"\0")
        except OSError:
            pass  # the buffer is full of earlier requests, or closed: waiters are woken already

    def is_set(self) -> bool:
        return self._flag

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until :meth:`set` or for ``timeout`` seconds; returns :meth:`is_set`."""
        if not self._flag:
            try:
                select.select([self._reader], [], [], timeout)
            except (OSError, ValueError):  # closed
                pass
        return self._flag

    def close(self) -> None:
        self._reader.close()
        self._writer.close()

    def __enter__(self) -> "StopRequest":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@contextlib.contextmanager
def stop_on(stop: StopRequest, signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[StopRequest]:
    """Within the block, each of ``signals`` sets ``stop``; the previous handlers are restored after.

    Call it from the main thread (Python runs signal handlers there only).
    """
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
