"""The client key and the trusted-proxy walk (projections.client_address) as plain functions:
what the rate limits, the login counts and the drafts' budgets count a request as."""

from __future__ import annotations

import pytest

from deployment.settings import InternalSettings, PublicSettings
from projections.client_address import UNKNOWN, TrustedProxies, client_key

PROXIES = TrustedProxies.parse("10.0.0.0/8, 2001:db8:ffff::/48")


def test_an_ipv6_client_is_its_64_network_and_an_ipv4_client_its_address() -> None:
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:DB8:1:3:0:0:0:1") == "2001:db8:1:3::/64"
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("203.0.113.1") != client_key("203.0.113.2")
    assert [client_key(x) for x in ("testclient", "", None, "1.2.3", "٣.1.1.1")] == [UNKNOWN] * 5


def test_the_client_behind_trusted_proxies_is_the_right_most_address_that_is_not_one() -> None:
    assert PROXIES.client("10.0.0.2", ["198.51.100.1"]) == "198.51.100.1"
    # What the client itself put in front is ignored; proxies in the chain are skipped.
    assert PROXIES.client("10.0.0.2", ["192.0.2.66, 198.51.100.1, 10.0.0.5"]) == "198.51.100.1"
    assert PROXIES.client("10.0.0.2", ["192.0.2.66", "198.51.100.1"]) == "198.51.100.1"
    assert PROXIES.client("10.0.0.2", ["[2001:db8:1::5]:443"]) == "2001:db8:1::5"
    # Every hop a proxy: the left-most is as far as anyone can tell.
    assert PROXIES.client("10.0.0.2", ["10.0.0.9, 10.0.0.7"]) == "10.0.0.9"
    assert PROXIES.client("10.0.0.2", []) == "10.0.0.2"


def test_forwarded_for_from_a_peer_that_is_no_trusted_proxy_is_ignored() -> None:
    assert PROXIES.client("203.0.113.9", ["198.51.100.1"]) == "203.0.113.9"
    assert TrustedProxies().client("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"
    assert PROXIES.client("testclient", ["198.51.100.1"]) is None


@pytest.mark.parametrize(
    "header", ["nonsense, 10.0.0.7", "198.51.100.1, , 10.0.0.7", "1.2.3.4:x, 10.0.0.7", "x" * 500]
)
def test_a_malformed_entry_stops_at_the_nearest_trusted_hop(header: str) -> None:
    assert PROXIES.client("10.0.0.2", [header]) in {"10.0.0.7", "10.0.0.2"}


def test_trusted_proxies_are_a_cidr_list_none_by_default_and_a_typo_is_refused() -> None:
    assert InternalSettings().trusted_proxies == PublicSettings().trusted_proxies == ""
    assert not TrustedProxies.parse("")
    listed = InternalSettings(trusted_proxies=" 10.0.0.0/8, 192.0.2.10 ,2001:db8::/32 ")
    assert listed.trusted_proxies == "10.0.0.0/8,192.0.2.10/32,2001:db8::/32"
    for typo in ("10.0.0.1/8", "proxy.example.org", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="not an address or CIDR network"):
            PublicSettings(trusted_proxies=typo)
