"""Use the hub inside a Python program, with no network at all.

Run: python examples/embedded_hub.py
"""

from pollhub import COUNTER, SCALE, WORDS, Hub, PollClosed, VoteLocked


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

        # A rating whose results participants see only once they voted, and a
        # word cloud whose first answer stands.
        rating = hub.create_poll("How was the talk?", kind=SCALE, scale=(1, 5), results="after_vote")
        for voter, stars in (("ann", 5), ("bob", 4), ("cy", 4)):
            hub.vote(rating.id, stars, voter=voter)
        print("rating:", hub.poll(rating.id).mean, "from", hub.poll(rating.id).voters, "voters")

        cloud = hub.create_poll("One word for today?", kind=WORDS, changes="locked")
        hub.vote(cloud.id, ["Sunny", "Long"], voter="ann")
        hub.vote(cloud.id, "sunny", voter="bob")
        try:
            hub.vote(cloud.id, "Rainy", voter="ann")
        except VoteLocked as exc:
            print("refused:", exc)
        print("cloud:", hub.results(cloud.id))


if __name__ == "__main__":
    main()
