"""Run a PollServer inside another program, and watch its votes from Python.

Run: python examples/server_in_app.py [--port PORT] [--seconds S], stop with Ctrl-C.
Then vote from another shell: python -m pollhub vote ws://127.0.0.1:PORT/ws yes
"""

import argparse
import logging
import queue
import time

from pollhub import Hub, PollServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seconds", type=float, default=3600.0, help="how long to serve")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)  # the host program configures logging, not pollhub

    with Hub() as hub, PollServer(hub, host="127.0.0.1", port=args.port) as server:
        poll = hub.create_poll("Ship it?", ["Yes", "No"])
        print(f"serving {server.url} for {args.seconds:g} s; admin token {server.token}", flush=True)
        deadline = time.monotonic() + args.seconds
        with hub.subscribe() as updates:
            try:
                while time.monotonic() < deadline:
                    try:
                        message = updates.get(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
                    except queue.Empty:
                        continue
                    if message["type"] == "results":
                        print(f"{message['poll']}: {message['counts']}", flush=True)
            except KeyboardInterrupt:
                pass
        print("final:", hub.results(poll.id), flush=True)


if __name__ == "__main__":
    main()
