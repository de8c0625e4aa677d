"""Several pollhub nodes, one event: a shared, ordered, durable log of commands in Redis.

(Being written: see issue 14.)
"""

from __future__ import annotations

import re

from .errors import PollhubError

DEFAULT_EVENT = "default"
DURABILITIES = ("always", "none")  # --redis-durability: refuse a Redis that loses acknowledged writes, or accept it
EVENT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class ClusterError(PollhubError):
    """Redis cannot hold this event: unreachable at start, not durable enough, or a bad URL or event name."""

    code = "unavailable"
