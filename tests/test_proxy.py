"""Behind a reverse proxy: ``X-Forwarded-For`` from trusted proxies only, and a real nginx in front of two nodes.

The first part tests :mod:`pollhub.forwarded` on its own (no I/O). The rest
runs a real nginx (Debian's ``nginx`` package; see ``tests/nginx_server.py``)
in front of pollhub nodes started as ``python -m pollhub`` subprocesses, with
the configuration README.rst gives, and checks what a participant and the
nodes see through it.
"""

from __future__ import annotations

import ipaddress
from typing import Optional, Sequence

import pytest

from pollhub.forwarded import MAX_HOPS, IPNetwork, forwarded_client, parse_address, trusted_network, trusted_networks

# 1. The header, without I/O ---------------------------------------------------------------

PROXIES = trusted_networks(["10.0.0.0/8", "192.0.2.1", "2001:db8:f::/48"])


def client(peer: str, header: Optional[str], trusted: Sequence[IPNetwork] = PROXIES) -> str:
    return forwarded_client(peer, header, trusted)


def test_untrusted_peer_header_ignored() -> None:
    assert client("203.0.113.7", "198.51.100.1") == "203.0.113.7"
    assert client("203.0.113.7", "10.1.2.3") == "203.0.113.7"
    assert client("2001:db8:1::5", "198.51.100.1") == "2001:db8:1::5"


def test_no_trusted_proxies_header_ignored() -> None:
    assert client("10.0.0.2", "198.51.100.1", ()) == "10.0.0.2"


def test_trusted_peer_without_header_is_the_client() -> None:
    assert client("10.0.0.2", None) == "10.0.0.2"
    assert client("10.0.0.2", "") == "10.0.0.2"
    assert client("10.0.0.2", "   ") == "10.0.0.2"


def test_one_hop() -> None:
    assert client("10.0.0.2", "198.51.100.1") == "198.51.100.1"
    assert client("192.0.2.1", " 198.51.100.1 ") == "198.51.100.1"


def test_rightmost_untrusted_wins_over_what_the_client_wrote() -> None:
    """A client that sends its own header gets the real address appended by the proxy: the forged part is never read."""
    assert client("10.0.0.2", "1.1.1.1, 198.51.100.1") == "198.51.100.1"
    assert client("10.0.0.2", "garbage, 198.51.100.1") == "198.51.100.1"
    assert client("10.0.0.2", "10.9.9.9, 198.51.100.1") == "198.51.100.1"


def test_trusted_hops_are_skipped() -> None:
    """Two proxies in a row (an edge balancer, then nginx): both skipped."""
    assert client("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3") == "198.51.100.1"
    assert client("10.0.0.2", "198.51.100.1, 192.0.2.1, 10.0.0.3, 2001:db8:f::9") == "198.51.100.1"


def test_all_trusted_is_the_leftmost() -> None:
    assert client("10.0.0.2", "10.0.0.5, 10.0.0.4, 10.0.0.3") == "10.0.0.5"


def test_repeated_headers_joined() -> None:
    """pollhub.handshake joins repeated headers with ", ": read as one list."""
    assert client("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3") == "198.51.100.1"


@pytest.mark.parametrize(
    "header",
    [
        "unknown",
        "nginx.internal",
        "_hidden",  # an RFC 7239 obfuscated identifier
        "198.51.100.1, ",  # an empty hop at the right
        "198.51.100.1,,10.0.0.3",
        "198.51.100.1:99999",
        "198.51.100.1:",
        "198.51.100.1:x",
        "[2001:db8::1",
        "[2001:db8::1]x",
        "[2001:db8::1]:",
        "[198.51.100.1",
        "2001:db8::1]",
        "1.2.3",
        "256.1.1.1",
        "198.51.100.1/24",
        "\x00",
        "198.51.100.1\r\nX-Evil: 1",
        "\u0661.\u0662.\u0663.\u0664",  # Arabic-Indic digits
        "1" * 10_000,
        "A" * 200,
    ],
)
def test_malformed_header_uses_the_peer(header: str) -> None:
    assert client("10.0.0.2", header) == "10.0.0.2"


def test_garbage_left_of_the_client_is_never_read() -> None:
    assert client("10.0.0.2", "\x00\x01, x" * 1000 + ", 198.51.100.1") == "198.51.100.1"


def test_many_hops() -> None:
    """A long chain: only the right end is read; a chain of more than MAX_HOPS trusted hops is not believed."""
    forged = ", ".join(f"198.51.100.{i % 250}" for i in range(5_000))
    assert client("10.0.0.2", forged + ", 203.0.113.9") == "203.0.113.9"
    assert client("10.0.0.2", forged + ", 203.0.113.9, 10.0.0.7") == "203.0.113.9"
    trusted = [f"10.0.0.{i}" for i in range(1, MAX_HOPS + 1)]
    assert client("10.0.0.2", ", ".join(["203.0.113.9"] + trusted[1:])) == "203.0.113.9"  # MAX_HOPS hops
    assert client("10.0.0.2", ", ".join(trusted)) == "10.0.0.1"  # MAX_HOPS hops, all trusted: the leftmost
    assert client("10.0.0.2", ", ".join(["203.0.113.9"] + trusted)) == "10.0.0.2"  # one more: the peer
    assert client("10.0.0.2", ", ".join(["10.0.0.99"] + trusted)) == "10.0.0.2"


def test_ipv6_forms() -> None:
    assert client("10.0.0.2", "2001:db8::1") == "2001:db8::1"
    assert client("10.0.0.2", "[2001:db8::1]") == "2001:db8::1"
    assert client("10.0.0.2", "[2001:db8::1]:4711") == "2001:db8::1"
    assert client("10.0.0.2", "2001:DB8:0:0:0:0:0:1") == "2001:db8::1"
    assert client("10.0.0.2", "fe80::1%eth0") == "fe80::1"
    assert client("10.0.0.2", "[fe80::1%eth0]:80") == "fe80::1"
    assert client("10.0.0.2", "::ffff:198.51.100.1") == "198.51.100.1"
    assert client("2001:db8:f::2", "198.51.100.1") == "198.51.100.1"
    assert client("[2001:db8:f::2]:443", "198.51.100.1") == "198.51.100.1"


def test_ipv4_with_port() -> None:
    assert client("10.0.0.2", "198.51.100.1:4711") == "198.51.100.1"
    assert client("10.0.0.2", "198.51.100.1:4711, 10.0.0.3:80") == "198.51.100.1"


def test_ipv4_mapped_peer_is_its_ipv4_address() -> None:
    """A dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d: a trusted IPv4 proxy is still trusted."""
    assert client("::ffff:10.0.0.2", "198.51.100.1") == "198.51.100.1"
    assert client("::ffff:203.0.113.7", "198.51.100.1") == "::ffff:203.0.113.7"  # untrusted: unchanged


def test_peer_that_is_not_an_address() -> None:
    assert client("/run/pollhub.sock", "198.51.100.1") == "/run/pollhub.sock"
    assert client("", "198.51.100.1") == ""


def test_parse_address() -> None:
    assert parse_address("198.51.100.1") == ipaddress.ip_address("198.51.100.1")
    assert parse_address(" [::1]:8765 ") == ipaddress.ip_address("::1")
    assert parse_address("::ffff:127.0.0.1") == ipaddress.ip_address("127.0.0.1")
    assert parse_address("localhost") is None
    assert parse_address("") is None


def test_trusted_network() -> None:
    assert str(trusted_network("10.0.0.0/8")) == "10.0.0.0/8"
    assert str(trusted_network(" 127.0.0.1 ")) == "127.0.0.1/32"
    assert str(trusted_network("fd00::/8")) == "fd00::/8"
    assert str(trusted_network("::1")) == "::1/128"
    assert str(trusted_network("::ffff:10.0.0.0/104")) == "10.0.0.0/8"  # compared as IPv4, like peers
    assert trusted_network(ipaddress.ip_network("10.0.0.0/8")) == ipaddress.ip_network("10.0.0.0/8")
    with pytest.raises(ValueError, match="host bits set: the network is 10.0.0.0/8"):
        trusted_network("10.0.0.1/8")
    for bad in ("nginx", "", "10.0.0.0/33", "*", "10.0.0.0/8, 10.1.0.0/16"):
        with pytest.raises(ValueError, match="not an IP address or network"):
            trusted_network(bad)


def test_trusted_ipv6_network_matches_ipv6_only() -> None:
    trusted = trusted_networks(["2001:db8:f::/48"])
    assert client("2001:db8:f:1::2", "198.51.100.1", trusted) == "198.51.100.1"
    assert client("2001:db8:e::2", "198.51.100.1", trusted) == "2001:db8:e::2"
    assert client("10.0.0.2", "198.51.100.1", trusted) == "10.0.0.2"
