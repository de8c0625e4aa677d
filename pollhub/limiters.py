"""Limits shared by every connection of a server: per voter id, per client address, per wrong token.

Reconnecting resets none of them. :class:`RateTable` is a token bucket per key
(votes per voter id, votes per address); :class:`NewVoters` remembers which
voter ids each address used and limits new ones; :class:`TokenGuard` slows
an address down after wrong admin tokens. Many read threads call into them
at once: each guards its table with one lock, held for a dict lookup and a
little arithmetic. Memory stays bounded whatever clients send.

A client address (:func:`address_key`) is its IPv4 address, or the /64
prefix of its IPv6 address (one subscriber's LAN, and what one host can pick
addresses from).
"""

from __future__ import annotations

import collections
import ipaddress
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from .metrics import Counter

MAX_REMEMBERED_VOTERS = 100_000  # (address, voter id) pairs remembered as not new; the least recent go first
TOKEN_DELAY = 0.25  # seconds an address waits before its next token check after one wrong token ...
TOKEN_DELAY_MAX = 30.0  # ... doubling with each further one up to this
TOKEN_FAILURES_FORGOTTEN = 600.0  # seconds without a wrong token after which an address's failures are forgotten
LIMITER_SWEEP_SIZE = 10_000  # keys a limiter table holds before it drops the idle ones


def address_key(host: str) -> str:
    """The key that client address ``host`` is limited by: an IPv4 address, or an IPv6 /64 prefix.

    An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) counts as its IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class RateTable:
    """A token bucket per key (a voter id, an address), shared by every connection. Thread-safe.

    Each key may take ``rate`` tokens a second, with a burst of ``burst``;
    rate 0 is no limit. A key seen for the first time starts with a full
    bucket. Memory stays bounded: when the table holds more than
    ``sweep_size`` keys, the buckets that are full again (idle for
    ``burst / rate`` seconds: nothing to remember) are dropped, so the table
    holds the keys active in that time, and at least ``sweep_size``. The
    next sweep waits until the table has doubled, so sweeping costs O(1) per
    key added. ``clock`` is the monotonic clock (a test may pass its own).
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        sweep_size: int = LIMITER_SWEEP_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)  # a key can always save up one token
        self.sweep_size = sweep_size
        self.clock = clock
        self._buckets: Dict[str, List[float]] = {}  # key -> [tokens, when they were counted]
        self._next_sweep = sweep_size
        self._lock = threading.Lock()

    def take(self, key: str) -> bool:
        """Spend one of ``key``'s tokens; False (nothing spent) when it has none left."""
        if self.rate <= 0:
            return True
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._next_sweep:
                    self._sweep(now)
                self._buckets[key] = [self.burst - 1, now]
                return True
            tokens = bucket[0] + (now - bucket[1]) * self.rate
            if tokens > self.burst:
                tokens = self.burst
            bucket[1] = now
            if tokens < 1:
                bucket[0] = tokens
                return False
            bucket[0] = tokens - 1
            return True

    def _sweep(self, now: float) -> None:
        rate, burst = self.rate, self.burst
        idle = [key for key, (tokens, stamp) in self._buckets.items() if tokens + (now - stamp) * rate >= burst]
        for key in idle:
            del self._buckets[key]
        self._next_sweep = max(self.sweep_size, 2 * len(self._buckets))

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)


class NewVoters:
    """Which voter ids each client address has used, and a rate limit on new ones. Thread-safe.

    :meth:`admit` lets an address use a voter id it used before at once, and
    a new one only with a token of the address's bucket (``rate`` a second,
    a burst of ``burst``; rate 0 is no limit). At most ``remember``
    (address, voter id) pairs are remembered, the least recently used
    forgotten first (a forgotten pair counts as new again).
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        remember: int = MAX_REMEMBERED_VOTERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.buckets = RateTable(rate, burst, clock=clock)
        self.remember = remember
        self.refused = Counter("pollhub_new_voters_refused_total", "New voter ids refused: too many from one client address.")
        self._seen: "collections.OrderedDict[Tuple[str, str], None]" = collections.OrderedDict()
        self._per_address: Dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, address: str, voter: str) -> bool:
        """True when ``address`` may vote as ``voter``: it did before, or it may add a voter now."""
        key = (address, voter)
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
        if not self.buckets.take(address):
            self.refused.inc()
            return False
        with self._lock:
            if key not in self._seen:
                self._seen[key] = None
                self._per_address[address] = self._per_address.get(address, 0) + 1
                while len(self._seen) > self.remember:
                    (old, _), _ = self._seen.popitem(last=False)
                    left = self._per_address[old] - 1
                    if left:
                        self._per_address[old] = left
                    else:
                        del self._per_address[old]
        return True

    def addresses(self) -> int:
        """How many client addresses have remembered voter ids."""
        with self._lock:
            return len(self._per_address)

    def most_per_address(self) -> int:
        """The most remembered voter ids of one client address."""
        with self._lock:
            return max(self._per_address.values(), default=0)


class TokenGuard:
    """Wrong admin tokens per client address, and how long its next try must wait. Thread-safe.

    After ``n`` wrong tokens from an address (none for ``forget`` seconds
    before), each hello carrying a token from it waits ``delay * 2 ** (n - 1)``
    seconds, at most ``delay_max``, after the previous try from it: tries
    from one address are spread out even over many connections. A try that
    would have to wait longer than ``delay_max`` is refused at once.
    Remembers at most ``sweep_size`` addresses, the least recent failures
    forgotten first.
    """

    def __init__(
        self,
        delay: float = TOKEN_DELAY,
        delay_max: float = TOKEN_DELAY_MAX,
        forget: float = TOKEN_FAILURES_FORGOTTEN,
        sweep_size: int = LIMITER_SWEEP_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delay = delay
        self.delay_max = delay_max
        self.forget = forget
        self.sweep_size = sweep_size
        self.clock = clock
        self.failures = Counter("pollhub_admin_token_failures_total", "Wrong admin tokens, in a hello or an export request.")
        self._addresses: Dict[str, List[float]] = {}  # address -> [failures, last failure, next try], oldest first
        self._lock = threading.Lock()

    def wait_for(self, address: str) -> Optional[float]:
        """Seconds ``address`` must wait before its token is checked (0: none), or None: refused, too many waiting.

        Reserves the try: the next one from the address waits for this one.
        """
        now = self.clock()
        with self._lock:
            state = self._addresses.get(address)
            if state is None:
                return 0.0
            failures, last, next_try = state
            if now - last > self.forget:
                del self._addresses[address]
                return 0.0
            wait = max(0.0, next_try - now)
            if wait > self.delay_max:
                return None
            state[2] = now + wait + self._delay(failures)
            return wait

    def failed(self, address: str) -> None:
        """Count a wrong token from ``address``."""
        self.failures.inc()
        now = self.clock()
        with self._lock:
            state = self._addresses.pop(address, None)
            if state is None or now - state[1] > self.forget:
                state = [0, now, now]
            state[0] += 1
            state[1] = now
            state[2] = max(state[2], now + self._delay(state[0]))
            self._addresses[address] = state  # last: the dict stays ordered by last failure
            if len(self._addresses) > self.sweep_size:
                oldest = next(iter(self._addresses))
                del self._addresses[oldest]

    def _delay(self, failures: float) -> float:
        return min(self.delay_max, self.delay * 2 ** min(failures - 1, 64))
