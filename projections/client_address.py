"""Who a request comes from, for rate limits, login counting and budgets (docs/security.md,
"Client addresses and proxies"): the client's address, and the *client key* it is counted by.

- The client key of an IPv4 address is the address; of an IPv6 address, its /64 network
  (``2001:db8:1:2::/64``): one subscriber usually holds a whole /64 and can pick any address
  in it, so counting single IPv6 addresses would count nobody. An IPv4-mapped IPv6 address is
  its IPv4 address. Anything that is no address (a test client, a Unix socket) is
  ``unknown``. So a key is always an address, a /64 network or ``unknown``.
- ``X-Forwarded-For`` is believed only from a *trusted proxy* (an operator setting, a list of
  networks; none by default). When the immediate peer is one, the client is the right-most
  address of the header that is not itself a trusted proxy: every address right of it was
  written by a proxy we trust, everything left of it by someone we do not. Otherwise the
  header is ignored, and the peer is the client. A malformed entry stops the walk at the
  nearest trusted hop, so nonsense never becomes a client and never an error.
- ``X-Forwarded-Proto`` (http or https) is believed from a trusted proxy too, so that a
  TLS-terminating proxy in front keeps secure cookies and HSTS working.

The servers run uvicorn with ``proxy_headers=False`` (deployment.serving): uvicorn's own
default trust of 127.0.0.1 would otherwise rewrite the peer before this middleware sees it.

Neutral like ``projections.store``: it imports nothing of the project, so the staff API and the
public API count their clients by the same rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"
IPV6_CLIENT_PREFIX = 64
# How many entries of X-Forwarded-For are looked at, from the right: more proxies than this
# in a row are no real deployment, and a long header must not cost more than a short one.
MAX_HOPS = 16
MAX_ENTRY = 64  # characters: the longest IPv6 address with brackets and a port is far shorter


def parse_address(text: str | None) -> IPAddress | None:
    """An address as a peer or a proxy writes it: ``203.0.113.7``, ``203.0.113.7:4431``,
    ``2001:db8::1``, ``[2001:db8::1]`` or ``[2001:db8::1]:4431``; IPv4-mapped IPv6 becomes IPv4
    and an IPv6 zone is dropped. None for anything else."""
    if not text or len(text) > MAX_ENTRY:
        return None
    text = text.strip()
    if text.startswith("["):
        text, _, rest = text[1:].partition("]")
        if rest and not (rest.startswith(":") and rest[1:].isascii() and rest[1:].isdigit()):
            return None
    elif text.count(":") == 1:  # IPv4 with a port (IPv6 has at least two colons)
        text, _, port = text.partition(":")
        if not (port.isascii() and port.isdigit()):
            return None
    if ":" in text:
        text = text.split("%", 1)[0]  # the zone of a link-local IPv6 address says nothing
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def key_of(ip: IPAddress) -> str:
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, IPV6_CLIENT_PREFIX)))


def client_key(address: str | None) -> str:
    """What a rate limit, a login count or a budget counts: the IPv4 address, the IPv6
    address's /64 network, or ``unknown``."""
    ip = parse_address(address)
    return UNKNOWN if ip is None else key_of(ip)


def client_key_of(scope: Mapping[str, Any]) -> str:
    """The client key of a request (an ASGI scope, or a Starlette request, which reads as one)
    whose client the ``ClientAddress`` middleware has settled."""
    client = scope.get("client")
    return client_key(client[0] if client else None)


class TrustedProxies:
    """The networks whose requests may say, in ``X-Forwarded-For``, for whom they come."""

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = tuple(networks)

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """A comma-separated list of addresses or networks in CIDR notation (``10.0.0.0/8,
        2001:db8::/32, 192.0.2.10``); empty: none. ValueError names an entry that is not one,
        or a network with host bits set (``10.0.0.1/8``: meant /32, or 10.0.0.0/8?)."""
        networks: list[IPNetwork] = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError as error:
                raise ValueError(f"not an address or CIDR network: {entry!r} ({error})") from None
        return cls(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __str__(self) -> str:
        return ",".join(str(n) for n in self.networks)

    def trusts(self, ip: IPAddress | None) -> bool:
        return ip is not None and any(ip in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Iterable[str]) -> str | None:
        """The client's address (normalised) for a connection from ``peer`` carrying the
        ``X-Forwarded-For`` header values ``forwarded_for``; None if the peer is no address."""
        nearest = parse_address(peer)
        if not self.trusts(nearest):
            return None if nearest is None else str(nearest)
        entries = [e for value in forwarded_for for e in value.split(",")][-MAX_HOPS:]
        for entry in reversed(entries):
            hop = parse_address(entry)
            if hop is None:
                break  # written by nobody we trust: the nearest trusted hop is all we know
            nearest = hop
            if not self.trusts(hop):
                break
        return str(nearest)


class ClientAddress:
    """ASGI middleware: settles ``scope["client"]`` to the client's address (and the scheme to
    what a trusted proxy says the client used) before anything reads it."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app, self.trusted = app, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client") if scope["type"] == "http" else None
        if peer:  # a peer that is no address (a Unix socket, a test client) stays as it is
            host = peer[0]
            forwarded: list[str] = []
            if self.trusted and self.trusted.trusts(parse_address(host)):
                headers = scope.get("headers") or []
                forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
                protos = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-proto"]
                if len(protos) == 1 and protos[0].strip().lower() in ("http", "https"):
                    scope["scheme"] = protos[0].strip().lower()
            client = self.trusted.client(host, forwarded)
            if client is not None:
                scope["client"] = (client, peer[1])
        await self.app(scope, receive, send)
