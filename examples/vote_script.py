"""Vote from a script with PollClient, and wait until the room has spoken.

Run: python examples/vote_script.py ws://127.0.0.1:8765/ws OPTION [--voter NAME] [--until N]
"""

import argparse

from pollhub import PollClient, PollhubError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("option", help="id or label of an option of the current poll")
    parser.add_argument("--voter", default="script", help="voting again with the same name moves the vote")
    parser.add_argument("--until", type=int, default=1, help="wait until the poll has this many votes")
    args = parser.parse_args()

    with PollClient(args.url, voter=args.voter) as client:
        try:
            option = client.vote(args.option)
        except PollhubError as exc:
            print(f"vote refused: {exc}")
            return 1
        print(f"voted for {option!r}")
        client.wait_for(lambda c: c.poll().total >= args.until, timeout=60)
        poll = client.poll()
        for choice in poll.options:
            print(f"{choice.label:>12}: {poll.counts[choice.id]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
