"""An echo server on pollhub's connection layer, for conformance suites such as Autobahn's.

It uses the same read and write threads, framing and limits as pollhub, but
echoes every text and binary message back and accepts the WebSocket upgrade on
any path.

Run: python examples/echo_server.py --host 127.0.0.1 --port 9001 [--max-size BYTES]
"""

import argparse
import logging
from typing import Optional

from pollhub.connection import MAX_FRAGMENTS, MAX_SIZE, Connection, ConnectionServer
from pollhub.handshake import Request
from pollhub.signals import StopRequest, stop_on


class EchoServer(ConnectionServer):
    """Echo each message back to its sender, text as text and binary as binary."""

    def http_response(self, request: Request, conn: Connection) -> Optional[bytes]:
        return None  # every path upgrades

    def on_text(self, conn: Connection, text: str) -> None:
        conn.send_text(text)

    def on_binary(self, conn: Connection, data: bytes) -> None:
        conn.send_binary(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--max-size", type=int, default=MAX_SIZE, help="largest message in bytes (default: %(default)s)")
    parser.add_argument(
        "--max-fragments", type=int, default=MAX_FRAGMENTS, help="frames in one message (default: %(default)s)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    # Not threading.Event: setting one from a signal handler can deadlock (see pollhub/signals.py).
    with StopRequest() as stop, stop_on(stop):
        with EchoServer(args.host, args.port, max_size=args.max_size, max_fragments=args.max_fragments) as server:
            print(f"echo server on ws://{args.host}:{server.port}/", flush=True)
            stop.wait()


if __name__ == "__main__":
    main()
