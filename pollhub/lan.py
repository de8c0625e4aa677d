"""This machine's addresses on its local networks, to tell people where to join."""

from __future__ import annotations

import socket
import struct
from typing import List

SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


def lan_addresses() -> List[str]:
    """The IPv4 addresses of this machine's network interfaces, loopback excluded."""
    found: List[str] = []
    try:
        import fcntl

        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for _index, name in socket.if_nameindex():
                request = struct.pack("256s", name.encode()[:15])
                try:
                    reply = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
                except OSError:
                    continue  # interface without an IPv4 address
                found.append(socket.inet_ntoa(reply[20:24]))
        finally:
            probe.close()
    except (ImportError, OSError, AttributeError):
        try:
            found = [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
        except OSError:
            found = []
    return sorted({a for a in found if not a.startswith("127.")})
