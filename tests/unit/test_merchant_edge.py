import base64
import os

import pytest

from services.merchant.credentials import CredentialCipher, CredentialsUnreadable, Sealed, mask
from services.merchant.edge_policy import Access, decide
from services.merchant.keys import issue_key, key_hash, key_matches, parse_key

SECRET = "s" * 32


@pytest.mark.parametrize(
    ("path", "access", "processor"),
    [
        ("/v1/orders", Access.API_KEY, ""),
        ("/v1/orders?pageSize=2", Access.API_KEY, ""),
        ("/api/auth/login", Access.PUBLIC, ""),
        ("/api/orders", Access.DASHBOARD, ""),
        ("/api/routing/simulate", Access.DASHBOARD, ""),
        ("/api/routing/stats?mode=live", Access.DASHBOARD, ""),
        ("/v1/checkout/sessions/cs_1", Access.API_KEY, ""),
        ("/v1/checkout/sessions/cs_1/expire", Access.API_KEY, ""),
        ("/webhooks/stripe/mer_1", Access.PUBLIC, "stripe"),
        ("/webhooks/razorpay/mer_1", Access.PUBLIC, "razorpay"),
        ("/payloops.order.v1.OrderService/CreateOrder", Access.API_KEY, ""),
        ("/payloops.order.v1.OrderService/GetCheckoutSession", Access.API_KEY, ""),
        ("/payloops.order.v1.OrderService/ExpireCheckoutSession", Access.API_KEY, ""),
        ("/payloops.merchant.v1.MerchantService/Login", Access.PUBLIC, ""),
        ("/payloops.merchant.v1.MerchantService/ListApiKeys", Access.DASHBOARD, ""),
        ("/payloops.merchant.v1.MerchantService/SimulateRouting", Access.DASHBOARD, ""),
        ("/payloops.merchant.v1.MerchantService/GetRoutingStats", Access.DASHBOARD, ""),
        ("/payloops.webhook.v1.WebhookService/ListWebhookEvents", Access.DASHBOARD, ""),
        ("/unknown", Access.PUBLIC, ""),
    ],
)
def test_edge_policy(path: str, access: Access, processor: str) -> None:
    decision = decide(path)
    assert (decision.access, decision.processor) == (access, processor)


def test_issued_keys_parse_and_verify() -> None:
    issued = issue_key("live")
    assert issued.secret.startswith("sk_live_") and len(issued.secret) >= 8 + 43
    assert parse_key(issued.secret) == ("live", issued.lookup)
    stored = key_hash(issued.secret, hmac_secret=SECRET)
    assert key_matches(issued.secret, stored, hmac_secret=SECRET)
    assert not key_matches(issued.secret + "x", stored, hmac_secret=SECRET)
    assert not key_matches(issued.secret, stored, hmac_secret=SECRET + "x")


@pytest.mark.parametrize("bad", ["", "sk_test_short", "pk_test_" + "a" * 43, "sk_prod_" + "a" * 43])
def test_malformed_keys_do_not_parse(bad: str) -> None:
    assert parse_key(bad) is None


def cipher(**keys: bytes) -> CredentialCipher:
    encoded = {k: base64.b64encode(v).decode() for k, v in keys.items()}
    return CredentialCipher(encoded, active_key_id=next(iter(keys)))


def test_credentials_round_trip_and_never_hold_the_plaintext() -> None:
    box = cipher(k1=os.urandom(32))
    sealed = box.seal("mer_a", {"secretKey": "sk_test_supersecret"})
    assert b"supersecret" not in sealed.ciphertext and len(sealed.nonce) == 12
    assert box.open("mer_a", sealed) == {"secretKey": "sk_test_supersecret"}
    assert box.seal("mer_a", {"secretKey": "x"}).nonce != box.seal("mer_a", {"secretKey": "x"}).nonce


def test_credentials_are_bound_to_their_merchant_and_fail_closed() -> None:
    box = cipher(k1=os.urandom(32))
    sealed = box.seal("mer_a", {"secretKey": "sk"})
    with pytest.raises(CredentialsUnreadable):
        box.open("mer_b", sealed)
    tampered = Sealed(sealed.key_id, sealed.nonce, bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:])
    with pytest.raises(CredentialsUnreadable):
        box.open("mer_a", tampered)
    with pytest.raises(CredentialsUnreadable):
        box.open("mer_a", Sealed("gone", sealed.nonce, sealed.ciphertext))


def test_mask_shows_only_the_last_four() -> None:
    assert mask("sk_test_abcdef1234").endswith("1234") and "abcdef" not in mask("sk_test_abcdef1234")
    assert mask("abc") == "••••"
