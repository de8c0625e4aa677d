"""Use the hub inside a Python program, with no network at all.

Run: python examples/embedded_hub.py
"""

from pollhub import COUNTER, Hub, PollClosed


def main() -> None:
    with Hub() as hub:
        lunch = hub.create_poll("Where shall we eat?", ["Pizza", "Sushi", "Tacos"])
        with hub.subscribe() as updates:
            updates.get(timeout=5)  # the welcome: the state right now
            hub.vote(lunch.id, "pizza", voter="ann")
            hub.vote(lunch.id, "sushi", voter="bob")
            hub.vote(lunch.id, "tacos", voter="ann")  # ann changes her mind
            print("first update:", updates.get(timeout=5))

        print("results:", hub.results(lunch.id))

        hub.close_poll(lunch.id)
        try:
            hub.vote(lunch.id, "pizza", voter="cy")
        except PollClosed as exc:
            print("refused:", exc)

        applause = hub.create_poll("Applause meter", ["Clap", "Cheer"], kind=COUNTER)
        hub.set_current(applause.id)
        for _ in range(3):
            hub.vote(None, "clap")  # None: the current poll
        print("applause:", hub.results())


if __name__ == "__main__":
    main()
