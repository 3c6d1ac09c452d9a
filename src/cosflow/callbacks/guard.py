"""Where callbacks may go: http(s) only, never link-local or cloud metadata addresses, and optionally
never loopback or private networks. Checked on the resolved addresses, not the URL text."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

_ALWAYS_DENIED = [
    ipaddress.ip_network("169.254.0.0/16"),  # link-local, AWS/GCP/Azure/Tencent metadata
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("0.0.0.0/8"),
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


class Refused(Exception):
    """The URL may not be called."""


def check_address(address: str, deny_private: bool) -> None:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip in _NAT64 or (ip in _V4_COMPATIBLE and int(ip) >= 1 << 24)
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif embedded:  # 64:ff9b::a9fe:a9fe or ::169.254.169.254 reach the IPv4 address inside
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in network for network in _ALWAYS_DENIED) or ip.is_multicast or ip.is_unspecified:
        raise Refused(f"{ip} is a link-local, metadata or reserved address")
    if deny_private and (ip.is_loopback or ip.is_private):
        raise Refused(f"{ip} is a loopback or private address (callback_deny_private is on)")


async def check_url(url: str, deny_private: bool) -> None:
    """Refuse what may never be called. A name that does not resolve *now* raises ``OSError``
    (``socket.gaierror``): a DNS hiccup is worth a retry, not a dead callback."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # a port out of range or not a number, a broken IPv6 literal
        raise Refused(f"{url!r} is not a usable URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"only http and https URLs are called, not {url!r}")
    infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    for info in infos:
        check_address(str(info[4][0]), deny_private)


class GuardedResolver(AbstractResolver):
    """The HTTP client's resolver: the addresses it connects to are the ones checked, so a DNS
    answer that changes between :func:`check_url` and the connection (rebinding) is refused too."""

    def __init__(self, deny_private: bool, inner: AbstractResolver | None = None) -> None:
        self._deny_private = deny_private
        self._inner = inner  # the default is made on first use: it needs a running event loop

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = ThreadedResolver()
        results = await self._inner.resolve(host, port, family)
        for result in results:
            check_address(str(result["host"]), self._deny_private)
        return results

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()
