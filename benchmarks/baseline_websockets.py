"""Baseline: the websockets library (asyncio), one broadcast per vote.

Speaks just enough of pollhub's protocol for the benchmark (welcome, vote,
voted, results). Needs ``pip install websockets`` (``pip install .[bench]``).

Run: python benchmarks/baseline_websockets.py PORT
"""

import asyncio
import json
import sys

from websockets.asyncio.server import broadcast, serve

POLL = {"id": "bench", "question": "Bench", "options": [{"id": "a", "label": "a"}, {"id": "b", "label": "b"}],
        "kind": "counter", "open": True, "counts": {"a": 0, "b": 0}, "total": 0}  # fmt: skip
CLIENTS = set()
seq = 0


async def handler(ws):
    global seq
    CLIENTS.add(ws)
    try:
        await ws.send(json.dumps({"type": "welcome", "version": 1, "current": "bench", "polls": [POLL], "seq": seq}, separators=(",", ":")))
        async for text in ws:
            vote = json.loads(text)
            POLL["counts"][vote["option"]] += 1
            POLL["total"] += 1
            seq += 1
            results = {"type": "results", "poll": "bench", "counts": POLL["counts"], "total": POLL["total"], "seq": seq}
            broadcast(CLIENTS, json.dumps(results, separators=(",", ":")))
            await ws.send(json.dumps({"type": "voted", "poll": "bench", "option": vote["option"]}, separators=(",", ":")))
    finally:
        CLIENTS.discard(ws)


async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), max_queue=None, ping_interval=None, backlog=1024):
        print(f"listening on ws://127.0.0.1:{sys.argv[1]}/ws", flush=True)
        await asyncio.Future()


asyncio.run(main())
