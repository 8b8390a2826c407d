"""Webhook targets and signatures: which URLs and addresses are refused, and why; HMAC checks."""

from __future__ import annotations

import pytest

from mivaa_extractor.webhooks.delivery import RetryPolicy
from mivaa_extractor.webhooks.signing import signature_header, verify
from mivaa_extractor.webhooks.targets import TargetPolicy, address_refusal, parse_target, resolve_target
from mivaa_platform.errors import InvalidArgument

STRICT = TargetPolicy()


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.64.0.1", "a private address"),
        ("fd12::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "a multicast, unspecified or reserved address"),
        ("224.0.0.1", "a multicast, unspecified or reserved address"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_addresses_outside_the_public_internet_are_refused(address, why):
    assert address_refusal(address, STRICT) == why


def test_configuration_opens_loopback_and_private_ranges_separately():
    loopback = TargetPolicy(allow_loopback=True)
    assert address_refusal("127.0.0.1", loopback) is None
    assert address_refusal("10.0.0.1", loopback) == "a private address"
    private = TargetPolicy(allow_private=True)
    assert address_refusal("10.0.0.1", private) is None
    assert address_refusal("169.254.169.254", private) is None
    assert address_refusal("127.0.0.1", private) == "a loopback address"
    assert address_refusal("224.0.0.1", TargetPolicy(allow_private=True, allow_loopback=True)) is not None


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "WEBHOOK_URI_MISSING"),
        ("http://example.com/x", "WEBHOOK_HTTPS_REQUIRED"),
        ("ftp://example.com/x", "WEBHOOK_URI_INVALID"),
        ("https:///x", "WEBHOOK_URI_INVALID"),
        ("https://u:p@example.com/", "WEBHOOK_URI_INVALID"),
        ("https://example.com/a b", "WEBHOOK_URI_INVALID"),
        ("https://example.com:99999/", "WEBHOOK_URI_INVALID"),
        ("https://example.com/#frag", "WEBHOOK_URI_INVALID"),
        ("https://example.com/" + "a" * 2048, "WEBHOOK_URI_TOO_LONG"),
    ],
)
def test_uris_are_checked_before_any_lookup(uri, reason):
    with pytest.raises(InvalidArgument) as refused:
        parse_target(uri, STRICT)
    assert refused.value.reason == reason


def test_a_target_keeps_host_port_and_path():
    target = parse_target("https://Hooks.Example.com:8443/in?x=1", STRICT)
    assert (target.https, target.host, target.port, target.path) == (True, "hooks.example.com", 8443, "/in?x=1")
    assert parse_target("http://[::1]/", TargetPolicy(allow_http=True)).port == 80


async def test_every_resolved_address_is_checked():
    target = parse_target("https://localhost/hook", STRICT)
    with pytest.raises(InvalidArgument) as refused:
        await resolve_target(target, STRICT)
    assert refused.value.reason == "WEBHOOK_TARGET_REFUSED"
    assert "loopback" in refused.value.message
    assert set(await resolve_target(target, TargetPolicy(allow_loopback=True))) <= {"127.0.0.1", "::1"}


def test_signatures_verify_only_with_the_secret_the_body_and_a_recent_time():
    body = b'{"id":"x"}'
    header = signature_header("s" * 20, body, now=1_000_000)
    assert verify("s" * 20, header, body, now=1_000_100)
    assert not verify("t" * 20, header, body, now=1_000_100)
    assert not verify("s" * 20, header, body + b" ", now=1_000_100)
    assert not verify("s" * 20, header, body, now=1_000_000 + 301)
    assert not verify("s" * 20, "garbage", body, now=1_000_000)


def test_backoff_doubles_up_to_its_ceiling():
    policy = RetryPolicy(backoff_seconds=1.0, max_backoff_seconds=5.0)
    assert [policy.wait_after(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
