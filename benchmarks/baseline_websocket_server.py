"""Baseline: the bare websocket-server package, sending every update from the voter's reader thread.

The naive server the user could have written in a few lines: no hub thread, no
write threads, one results message to every client per vote. It speaks just
enough of pollhub's protocol for the benchmark (welcome, vote, voted, results).

Run: python benchmarks/baseline_websocket_server.py PORT
"""

import json
import logging
import sys
import threading

from websocket_server import WebsocketServer

POLL = {"id": "bench", "question": "Bench", "options": [{"id": "a", "label": "a"}, {"id": "b", "label": "b"}],
        "kind": "counter", "open": True, "counts": {"a": 0, "b": 0}, "total": 0}  # fmt: skip
lock = threading.Lock()
seq = 0


def new_client(client, server):
    with lock:
        welcome = {"type": "welcome", "version": 1, "current": "bench", "polls": [POLL], "seq": seq}
        server.send_message(client, json.dumps(welcome, separators=(",", ":")))


def message_received(client, server, text):
    global seq
    vote = json.loads(text)
    with lock:
        POLL["counts"][vote["option"]] += 1
        POLL["total"] += 1
        seq += 1
        results = {"type": "results", "poll": "bench", "counts": POLL["counts"], "total": POLL["total"], "seq": seq}
        server.send_message_to_all(json.dumps(results, separators=(",", ":")))
    server.send_message(client, json.dumps({"type": "voted", "poll": "bench", "option": vote["option"]}, separators=(",", ":")))


server = WebsocketServer(host="127.0.0.1", port=int(sys.argv[1]), loglevel=logging.ERROR)
server.set_fn_new_client(new_client)
server.set_fn_message_received(message_received)
print(f"listening on ws://127.0.0.1:{server.port}/ws", flush=True)
server.run_forever()
