"""Whom a request is counted as (issue 16, security findings; docs/security.md "Client
addresses and proxies"): an IPv6 client by its /64, X-Forwarded-For believed only from a
trusted proxy and then only up to the first address that is not one, uvicorn trusting no
header by itself, and no header, however malformed, ever answered with a 500."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_internal.app import create_app
from api_public.app import create_public_app
from api_public.ratelimit import RateLimiter
from deployment.bootstrap import Platform
from deployment.serving import server_config
from domain.actor import Role
from domain.staff import StaffAccount
from projections.client_address import TrustedProxies
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)
from tests.support import Clock, make_platform, open_account, settings_for

PROXIES = "10.0.0.0/8, 2001:db8:ffff::/48"


def portal(installation: Installation, address: str) -> TestClient:
    """The public API as a visitor whose connection comes from ``address``."""
    app = create_public_app(installation.public.backend)
    return TestClient(app, client=(address, 50000), raise_server_exceptions=False)


def status(client: TestClient, forwarded_for: str | None = None) -> int:
    # As bytes: a header may carry any latin-1 character, which httpx would refuse as text.
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for.encode("latin-1")}
    answer: int = client.get("/api/v1/bridge/status", headers=headers).status_code
    return answer


def is_client_key(key: str) -> bool:
    """An IPv4 address, or an IPv6 /64 network, written the one way it is written."""
    try:
        return str(ipaddress.IPv4Address(key)) == key
    except ValueError:
        pass
    try:
        network = ipaddress.IPv6Network(key)
    except ValueError:
        return False
    return network.prefixlen == 64 and str(network) == key


# -- IPv6 by /64 -------------------------------------------------------------------------------


def test_ipv6_clients_are_rate_limited_per_64_prefix(installation: Installation) -> None:
    installation.public.backend.requests = RateLimiter(per_minute=60, burst=2)
    one, same_64 = (
        portal(installation, "2001:db8:1:2::1"),
        portal(installation, "2001:db8:1:2:f::9"),
    )
    next_64 = portal(installation, "2001:db8:1:3::1")
    mapped, ipv4 = portal(installation, "::ffff:192.0.2.7"), portal(installation, "192.0.2.7")

    answers = [status(one), status(same_64), status(one), status(same_64)]
    elsewhere = [status(next_64), status(next_64)]
    # An IPv4-mapped IPv6 address is that IPv4 client, not a /64 of its own.
    as_ipv4 = [status(mapped), status(ipv4), status(ipv4)]

    assert answers == [200, 200, 429, 429]
    assert elsewhere == [200, 200]
    assert as_ipv4 == [200, 200, 429]
    assert set(installation.public.backend.requests._buckets) == {
        "2001:db8:1:2::/64",
        "2001:db8:1:3::/64",
        "192.0.2.7",
    }


# -- X-Forwarded-For ---------------------------------------------------------------------------


def failed_login_source(platform: Platform, address: str, forwarded_for: str) -> str | None:
    """Where the staff side says a failed login from ``address`` came from."""
    client = TestClient(create_app(platform.staff_backend()), client=(address, 40000))
    body = {"username": "clerk", "password": "Wrong-Horse-1"}
    answer = client.post(
        "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": forwarded_for}
    )
    assert answer.status_code == 401, answer.text
    account: Any = platform.app.repository.get(StaffAccount.create_id("clerk"))
    last = list(platform.app.events.get(account.id))[-1]
    assert isinstance(last, StaffAccount.LoginFailed)
    return last.source


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    installation: Installation, tmp_path: Path
) -> None:
    # The public side: one request a minute per client, the proxies of PROXIES trusted.
    installation.public.backend.requests = RateLimiter(per_minute=1, burst=1)
    installation.public.backend.trusted_proxies = TrustedProxies.parse(PROXIES)
    stranger, proxy = portal(installation, "203.0.113.9"), portal(installation, "10.0.0.2")

    # A stranger cannot be someone else by saying so: every request is the stranger's.
    from_stranger = [status(stranger, f"198.51.100.{n}") for n in range(3)]
    # Through the proxy, each client counts apart, a client's own prefix to the header is
    # ignored (the proxy appended its real address), and proxies in the chain are skipped.
    through_proxy = [
        status(proxy, "198.51.100.1"),
        status(proxy, "198.51.100.2"),
        status(proxy, "192.0.2.66, 198.51.100.1"),
        status(proxy, "198.51.100.3, 10.9.9.9"),
        status(proxy, "198.51.100.3"),
    ]

    assert from_stranger == [200, 429, 429]
    assert through_proxy == [200, 200, 429, 200, 429]
    assert set(installation.public.backend.requests._buckets) == {
        "203.0.113.9",
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
    }

    # The staff side: no proxy trusted by default, the trusted ones by its own setting.
    for trusted, expected in (
        ("", ["127.0.0.1", "10.0.0.2"]),
        ("10.0.0.0/8", ["127.0.0.1", "198.51.100.1"]),
    ):
        home = tmp_path / (trusted.replace("/", "-") or "none")
        platform = make_platform(settings_for(home, trusted_proxies=trusted), Clock())
        try:
            open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
            sources = [
                failed_login_source(platform, "127.0.0.1", "198.51.100.1"),
                failed_login_source(platform, "10.0.0.2", "192.0.2.66, 198.51.100.1"),
            ]
        finally:
            platform.close()
        assert sources == expected


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    """A TLS-terminating proxy in front keeps the console's __Host- cookies; nobody else can
    claim TLS for a plain connection."""
    settings = settings_for(tmp_path, trusted_proxies="10.0.0.0/8")
    platform = make_platform(settings, Clock())
    try:
        app = create_app(platform.staff_backend())
        cookies = {}
        for peer in ("10.0.0.2", "203.0.113.9"):
            client = TestClient(app, base_url="http://console.example.org", client=(peer, 1))
            page = client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
            assert page.status_code == 200
            cookies[peer] = page.headers["set-cookie"].split("=", 1)[0]
    finally:
        platform.close()

    assert cookies == {"10.0.0.2": "__Host-firegov_login_csrf", "203.0.113.9": "firegov_login_csrf"}


# -- uvicorn -----------------------------------------------------------------------------------


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that answers with the client and scheme uvicorn gave it."""
    body = orjson.dumps({"client": scope["client"][0], "scheme": scope["scheme"]})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_uvicorn_does_not_trust_forwarded_headers_by_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvicorn believes X-Forwarded-* from 127.0.0.1 by default (and from whatever
    FORWARDED_ALLOW_IPS says): behind a proxy on the same machine every client would be who
    the header says. Our servers leave the headers to the apps' own middleware."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = server_config(echo, lifespan="off", access_log=False)
    assert config.proxy_headers is False
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive(), "uvicorn failed to start"
            assert time.monotonic() < deadline, "uvicorn did not start in time"
            time.sleep(0.02)
        host, port = sock.getsockname()
        seen = httpx.get(
            f"http://{host}:{port}/",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        ).json()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    assert seen == {"client": "127.0.0.1", "scheme": "http"}


# -- anything in the header --------------------------------------------------------------------

ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]:{443}"),
    st.ip_addresses(v=4).map(lambda ip: f"{ip}:8080"),
    st.ip_addresses(network="10.0.0.0/8").map(str),  # trusted proxies in the chain
    st.ip_addresses(network="2001:db8:ffff::/48").map(str),
)
# What a header can carry (latin-1, no line breaks): commas, spaces, brackets, garbage.
JUNK = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
HEADERS = st.one_of(
    JUNK,
    st.lists(st.one_of(ADDRESSES, JUNK), max_size=30).map(", ".join),
    st.lists(ADDRESSES, max_size=30).map(",".join),
)


@given(forwarded_for=HEADERS, peer=st.sampled_from(["10.1.2.3", "2001:db8:ffff::7", "192.0.2.1"]))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_arbitrary_forwarded_for_headers_never_cause_a_500_and_count_a_valid_client(
    installation: Installation, forwarded_for: str, peer: str
) -> None:
    installation.public.backend.requests = RateLimiter(per_minute=10**6)
    installation.public.backend.trusted_proxies = TrustedProxies.parse(PROXIES)

    answer = status(portal(installation, peer), forwarded_for)

    assert answer == 200
    (key,) = installation.public.backend.requests._buckets
    assert is_client_key(key), (forwarded_for, key)
