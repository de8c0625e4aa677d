"""Baseline: pollhub's own design without direct writes: every frame goes through a write thread.

Every broadcast is handed to each client's write thread through its queue,
which wakes a thousand threads per broadcast under the GIL.

Run: python benchmarks/naive_pollhub.py PORT
"""

import signal
import sys
import threading

from pollhub import COUNTER, Hub, PollServer

stop = threading.Event()
signal.signal(signal.SIGINT, lambda *_: stop.set())
signal.signal(signal.SIGTERM, lambda *_: stop.set())
with Hub() as hub, PollServer(hub, "127.0.0.1", int(sys.argv[1]), max_vote_rate=0, direct_writes=False) as server:
    hub.create_poll("Bench", ["a", "b"], kind=COUNTER)
    print(f"listening on {server.url}", flush=True)
    while not stop.wait(1.0):
        pass
