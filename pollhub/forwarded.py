"""The client behind a trusted reverse proxy: ``X-Forwarded-For``, with no I/O.

A reverse proxy (nginx, say) connects to pollhub itself, so every client
would have the proxy's address. The proxy tells who its client was in
``X-Forwarded-For``: a comma-separated list of addresses, each hop appending
the address it got its request from. Only the right end of that list is
worth anything: a client can send the header itself with whatever it likes
in it, and every proxy appends to what it received. So the list is read from
the right: the addresses of trusted proxies are skipped, and the first one
that is not a trusted proxy is the client (:func:`forwarded_client`). From a
peer that is not a trusted proxy the header is ignored altogether.

A proxy is trusted when it is in one of the networks given to
:func:`trusted_networks` (an address, or a CIDR network such as
``10.0.0.0/8``; IPv4 and IPv6). An IPv4 address seen as an IPv4-mapped IPv6
address (``::ffff:10.0.0.1``, from a dual-stack socket) counts as that IPv4
address.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable, Optional, Sequence, Tuple, Union

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

HEADER = "x-forwarded-for"  # as pollhub.handshake.Request.headers names it (lower case)
# Addresses of X-Forwarded-For looked at, from the right. A real chain has a
# few hops; a longer one, all of trusted proxies, is not believed (the peer is
# used). Bounds the work a hostile header costs, whatever its length.
MAX_HOPS = 32
# Characters of one hop: an IPv6 address (45), brackets, a zone and a port fit.
MAX_HOP_LENGTH = 100


def trusted_network(value: Union[str, IPNetwork]) -> IPNetwork:
    """One trusted proxy, ``"10.0.0.7"`` or ``"10.0.0.0/8"`` (or ``"fd00::/8"``), as a network.

    Raises ``ValueError`` with a message that says what is wrong (a host
    name, host bits set in a network such as ``10.0.0.1/8``, ...).
    """
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    text = value.strip()
    try:
        network = ipaddress.ip_network(text)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or network (such as 10.0.0.0/8): {value!r}") from None
        raise ValueError(f"{text} has host bits set: the network is {loose}") from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:  # ::ffff:10.0.0.0/104 is 10.0.0.0/8: peers are compared as IPv4
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def trusted_networks(values: Iterable[Union[str, IPNetwork]]) -> Tuple[IPNetwork, ...]:
    """:func:`trusted_network` of each value; raises ``ValueError`` for the first bad one."""
    return tuple(trusted_network(value) for value in values)


def parse_address(text: str) -> Optional[IPAddress]:
    """An address as a peer or an ``X-Forwarded-For`` hop gives it, or None when it is not one.

    Takes ``203.0.113.7``, ``203.0.113.7:4711``, ``2001:db8::1``,
    ``[2001:db8::1]`` and ``[2001:db8::1]:4711``; drops an IPv6 zone
    (``%eth0``), and an IPv4-mapped IPv6 address is its IPv4 address.
    Anything else (a name, ``unknown``, an obfuscated RFC 7239 identifier,
    a bad port, an empty string) is None.
    """
    text = text.strip()
    if not text or len(text) > MAX_HOP_LENGTH:
        return None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not _is_port(rest)):
            return None
    elif text.count(":") == 1:  # IPv4 with a port (IPv6 has at least two colons)
        host, _, port = text.partition(":")
        if not _is_port(":" + port):
            return None
    else:
        host = text
    host = host.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_port(suffix: str) -> bool:
    digits = suffix[1:]
    return suffix[:1] == ":" and 0 < len(digits) <= 5 and digits.isascii() and digits.isdigit() and int(digits) <= 65535


def is_trusted(ip: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    """True when ``ip`` is in one of the ``trusted`` networks."""
    return any(ip.version == network.version and ip in network for network in trusted)


def forwarded_client(peer: str, header: Optional[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's address: from ``X-Forwarded-For`` when ``peer`` is a trusted proxy, else ``peer``.

    ``peer`` is the address of the TCP peer, ``header`` the value of the
    request's ``X-Forwarded-For`` (several headers joined with ``,``), or
    None. When ``peer`` is one of the ``trusted`` networks, the header's
    addresses are taken from right to left, skipping those of trusted
    proxies, and the first address that is not a trusted proxy's is the
    client. When every one is a trusted proxy's, the leftmost is. When the
    header is missing, or an address that has to be read is not an address
    (``unknown``, garbage, more than ``MAX_HOPS`` hops of trusted proxies),
    the result is ``peer``: nothing past a hop that cannot be read is
    believed. Addresses left of the client's are never looked at: the client
    may have written them.

    Returns an address in its canonical form (``2001:db8::1``, IPv4 for an
    IPv4-mapped one), or ``peer`` unchanged.
    """
    if not trusted or header is None:
        return peer
    peer_ip = parse_address(peer)
    if peer_ip is None or not is_trusted(peer_ip, trusted):
        return peer
    # rsplit with a bound: however long the header, at most MAX_HOPS pieces;
    # with more hops the leftmost piece holds the rest, commas and all, which
    # is not an address: reaching it, the peer is used.
    hops = header.rsplit(",", MAX_HOPS - 1)
    client: Optional[IPAddress] = None
    for hop in reversed(hops):
        ip = parse_address(hop)
        if ip is None:
            return peer
        client = ip
        if not is_trusted(ip, trusted):
            break
    return str(client) if client is not None else peer
