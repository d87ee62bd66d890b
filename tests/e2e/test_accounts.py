"""Merchant accounts through the gateway: register and log in, dashboard tokens, API
keys, processor credentials, webhook endpoints, routing rules, login throttles."""

from __future__ import annotations

import base64
import json
import secrets
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from payloops.merchant.v1 import merchant_internal_service_pb2 as internal

from launcher.platform import Platform
from services.merchant.passwords import PasswordHasher
from tests.merchant.helpers import (
    Account,
    aip193,
    assert_no_secrets_in_logs,
    client,
    create_api_key,
    database,
    fresh_address,
    internal_stub,
    merchant_settings,
    new_email,
    new_password,
    register,
    remember,
    set_up_merchant,
    stripe_credentials,
    violated_fields,
)

VISA = {"type": "card", "token": "pm_card_visa"}


@pytest.fixture(scope="module")
def account(platform: Platform) -> Account:
    with client(platform) as anonymous:
        return register(anonymous, name="Accounts Test")


@pytest.fixture()
def dashboard(platform: Platform, account: Account) -> Any:
    with client(platform, **account.bearer) as opened:
        yield opened


def login(anonymous: httpx.Client, email: str, password: str, **headers: str) -> httpx.Response:
    return anonymous.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


# -- the whole path ------------------------------------------------------------------------


def test_register_login_create_a_key_and_pay_with_it(platform: Platform, anonymous: httpx.Client) -> None:
    email, password = f"  Pay.Flow-{secrets.token_hex(4)}@Example.COM ", new_password()
    registered = anonymous.post("/api/auth/register", json={"email": email, "password": password, "name": "Pay Flow"})
    assert registered.status_code == 200, registered.text
    body = registered.json()
    remember(body["token"])
    merchant = body["merchant"]
    assert merchant["id"].startswith("mer_") and merchant["email"] == email.strip().lower()
    assert body["token"].count(".") == 2 and body["expiresAt"].endswith("Z")

    logged_in = login(anonymous, email.strip().upper(), password)
    assert logged_in.status_code == 200, logged_in.text
    token = logged_in.json()["token"]
    remember(token)
    with client(platform, Authorization=f"Bearer {token}") as dashboard:
        assert dashboard.get("/api/merchants/me").json()["id"] == merchant["id"]
        stripe = dashboard.post("/api/processors", json={"processor": "stripe", "credentials": stripe_credentials()})
        assert stripe.status_code == 200, stripe.text
        secret, _ = create_api_key(dashboard)
        with client(platform, **{"X-API-Key": secret}) as rest:
            order = rest.post("/v1/orders", json={"amount": 2500, "currency": "USD"}).json()
            assert order["merchantId"] == merchant["id"]
            paid = rest.post(f"/v1/orders/{order['id']}/pay", json={"paymentMethod": VISA})
            assert paid.status_code == 200, paid.text
            assert (paid.json()["status"], paid.json()["processor"]) == ("SUCCEEDED", "stripe")
        # The dashboard lists the merchant's (test-mode) orders with its token.
        listed = dashboard.get("/api/orders").json()["orders"]
        assert [o["id"] for o in listed] == [order["id"]]


# -- registration and login errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason", "field"),
    [
        ({"email": "not-an-email"}, "EMAIL_INVALID", "email"),
        ({"email": "two@@example.com"}, "EMAIL_INVALID", "email"),
        ({"email": ""}, "EMAIL_INVALID", "email"),
        ({"password": "short1"}, "PASSWORD_TOO_SHORT", "password"),
        ({"password": "Password1234"}, "PASSWORD_TOO_COMMON", "password"),
        ({"password": "x" * 257}, "PASSWORD_TOO_LONG", "password"),
        ({"email": "pat.q.merchant@example.com", "password": "Pat.Q.Merchant"}, "PASSWORD_MATCHES_EMAIL", "password"),
        ({"name": "  "}, "NAME_INVALID", "name"),
    ],
)
def test_bad_registrations_are_400(anonymous: httpx.Client, fields: dict[str, str], reason: str, field: str) -> None:
    body = {"email": new_email(), "password": "long-enough-pass-1", "name": "Bad", **fields}
    got, answer = aip193(anonymous.post("/api/auth/register", json=body), 400)
    assert (got, violated_fields(answer)) == (reason, [field])
    assert "long-enough-pass" not in json.dumps(answer)


def test_a_unicode_passphrase_registers_and_logs_in_in_any_normal_form(platform: Platform) -> None:
    typed = f"mot\u00a0de passe tre\u0300s long, sans majuscule ni chiffre, que des mots {secrets.token_hex(4)}"
    assert len(typed) >= 64
    remember(typed, unicodedata.normalize("NFKC", typed))
    with client(platform, source=fresh_address()) as anonymous:
        email = new_email()
        registered = anonymous.post("/api/auth/register", json={"email": email, "password": typed, "name": "Phrase"})
        assert registered.status_code == 200, registered.text
        remember(registered.json()["token"])
        # NBSP and a combining accent typed; a plain space and "è" given: one password.
        answer = login(anonymous, email, unicodedata.normalize("NFKC", typed))
        assert answer.status_code == 200, answer.text
        remember(answer.json()["token"])


def test_a_password_hashed_as_typed_before_nfkc_still_logs_in_and_is_rehashed(platform: Platform) -> None:
    typed = f"ancien\u00a0mot de passe {secrets.token_hex(4)}"
    settings = merchant_settings(platform)
    hasher = PasswordHasher(memory_kib=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost, concurrency=1)
    legacy = hasher.scheme.hash(typed)  # as hashed before passwords were normalised
    remember(typed, unicodedata.normalize("NFKC", typed))
    with client(platform, source=fresh_address()) as anonymous:
        account = register(anonymous, name="Before NFKC")
        select = "SELECT password_hash FROM merchant.merchants WHERE id = %s"
        with database(platform) as db:
            db.execute("UPDATE merchant.merchants SET password_hash = %s WHERE id = %s", (legacy, account.merchant_id))
        for password in (typed, unicodedata.normalize("NFKC", typed)):
            answer = login(anonymous, account.email, password)
            assert answer.status_code == 200, answer.text
            remember(answer.json()["token"])
            with database(platform) as db:
                assert db.execute(select, (account.merchant_id,)).fetchone() != (legacy,)


def test_a_registered_email_is_409_whatever_its_case(anonymous: httpx.Client, account: Account) -> None:
    body = {"email": account.email.upper(), "password": new_password(), "name": "Again"}
    reason, _ = aip193(anonymous.post("/api/auth/register", json=body), 409)
    assert reason == "EMAIL_TAKEN"


def test_unknown_email_and_wrong_password_get_the_same_answer(anonymous: httpx.Client, account: Account) -> None:
    wrong = login(anonymous, account.email, account.password + "x")
    unknown = login(anonymous, new_email(), account.password)
    assert aip193(wrong, 401)[0] == aip193(unknown, 401)[0] == "INVALID_CREDENTIALS"
    assert wrong.json() == unknown.json()
    reason, body = aip193(login(anonymous, "nobody-at-example.com", "whatever-1234"), 400)
    assert (reason, violated_fields(body)) == ("EMAIL_INVALID", ["email"])


# -- dashboard tokens --------------------------------------------------------------------------


def forge(platform: Platform, account: Account, *, algorithm: str = "HS256", **claims: Any) -> str:
    settings = merchant_settings(platform)
    now = datetime.now(UTC)
    payload = {
        "sub": account.merchant_id,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **claims,
    }
    token = jwt.encode({k: v for k, v in payload.items() if v is not None}, settings.jwt_secret, algorithm=algorithm)
    remember(token)
    return token


def unsigned(account: Account) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"sub": account.merchant_id, "iss": "payloops", "aud": "payloops-dashboard", "exp": 4102444800}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({**claims, 'iat': int(time.time())})}."


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 forgery
def test_dashboard_tokens_are_checked(platform: Platform, anonymous: httpx.Client, account: Account) -> None:
    assert anonymous.get("/api/merchants/me", headers=account.bearer).status_code == 200
    assert anonymous.get(
        "/api/merchants/me", headers={"Authorization": f"Bearer {forge(platform, account)}"}
    ).is_success
    refused = {
        "tampered": tampered(account.token),
        "alg none": unsigned(account),
        "HS512": forge(platform, account, algorithm="HS512"),
        "another audience": forge(platform, account, aud="someone-else"),
        "another issuer": forge(platform, account, iss="someone-else"),
        "no iat": forge(platform, account, iat=None),
        "not a merchant": forge(platform, account, sub="key_123"),
        "garbage": "not.a.jwt",
    }
    for case, token in refused.items():
        reason, _ = aip193(anonymous.get("/api/merchants/me", headers={"Authorization": f"Bearer {token}"}), 401)
        assert reason == "BEARER_TOKEN_INVALID", case
    expired = forge(
        platform, account, iat=datetime.now(UTC) - timedelta(hours=2), exp=datetime.now(UTC) - timedelta(hours=1)
    )
    reason, _ = aip193(anonymous.get("/api/merchants/me", headers={"Authorization": f"Bearer {expired}"}), 401)
    assert reason == "BEARER_TOKEN_EXPIRED"
    assert aip193(anonymous.get("/api/api-keys"), 401)[0] == "BEARER_TOKEN_MISSING"


def test_keys_work_on_v1_only_and_tokens_on_both(
    anonymous: httpx.Client, account: Account, merchant_a: dict[str, str]
) -> None:
    as_dashboard = anonymous.get("/v1/orders", headers=account.bearer)
    assert as_dashboard.status_code == 200, as_dashboard.text
    assert {order["merchantId"] for order in as_dashboard.json()["orders"]} <= {account.merchant_id}
    key = {"X-API-Key": merchant_a["api_key"]}
    assert aip193(anonymous.get("/api/merchants/me", headers=key), 401)[0] == "BEARER_TOKEN_MISSING"
    assert aip193(anonymous.get("/api/orders", headers=key), 401)[0] == "BEARER_TOKEN_MISSING"
    as_bearer = {"Authorization": f"Bearer {merchant_a['api_key']}"}
    assert aip193(anonymous.get("/api/merchants/me", headers=as_bearer), 401)[0] == "BEARER_TOKEN_INVALID"


# -- the merchant -------------------------------------------------------------------------------


def test_merchant_me_reads_and_updates(dashboard: httpx.Client, account: Account) -> None:
    me = dashboard.get("/api/merchants/me").json()
    assert (me["id"], me["email"], me["webhookUrl"]) == (account.merchant_id, account.email, "")
    updated = dashboard.put("/api/merchants/me", json={"name": "Renamed", "webhookUrl": "https://example.com/hooks"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["name"], updated.json()["webhookUrl"]) == ("Renamed", "https://example.com/hooks")
    assert dashboard.put("/api/merchants/me", json={}).json()["name"] == "Renamed"  # unset fields stay
    reason, body = aip193(dashboard.put("/api/merchants/me", json={"webhookUrl": "ftp://example.com"}), 400)
    assert (reason, violated_fields(body)) == ("URL_INVALID", ["webhook_url"])


# -- API keys --------------------------------------------------------------------------------------


def test_api_keys_are_listed_by_prefix_never_by_secret(platform: Platform, dashboard: httpx.Client) -> None:
    secret, key_id = create_api_key(dashboard, "live")
    assert secret.startswith("sk_live_") and len(secret) >= len("sk_live_") + 43
    with client(platform, **{"X-API-Key": secret}) as rest:
        assert rest.get("/v1/orders").status_code == 200
    listed = dashboard.get("/api/api-keys")
    assert secret not in listed.text and secret[8:] not in listed.text
    [key] = [k for k in listed.json()["apiKeys"] if k["id"] == key_id]
    assert (key["prefix"], key["mode"], key["revokedAt"] if "revokedAt" in key else None) == (secret[:12], "live", None)
    assert key["lastUsedAt"] and key["createdAt"]
    reason, body = aip193(dashboard.post("/api/api-keys", json={"mode": "prod"}), 400)
    assert (reason, violated_fields(body)) == ("API_KEY_MODE_INVALID", ["mode"])


def test_a_revoked_key_is_refused_at_once(platform: Platform, dashboard: httpx.Client) -> None:
    secret, key_id = create_api_key(dashboard)
    with client(platform, **{"X-API-Key": secret}) as rest:
        assert rest.get("/v1/orders").status_code == 200  # now in the edge's cache
        revoked = dashboard.delete(f"/api/api-keys/{key_id}")
        assert revoked.status_code == 200 and revoked.json()["revokedAt"]
        assert aip193(rest.get("/v1/orders"), 401)[0] == "API_KEY_INVALID"
    assert dashboard.delete(f"/api/api-keys/{key_id}").json()["revokedAt"] == revoked.json()["revokedAt"]
    assert aip193(dashboard.delete("/api/api-keys/key_nope"), 404)[0] == "API_KEY_NOT_FOUND"


# -- processors --------------------------------------------------------------------------------------


def test_processor_credentials_are_stored_sealed_and_shown_masked(
    platform: Platform, dashboard: httpx.Client, account: Account
) -> None:
    credentials = stripe_credentials()
    answer = dashboard.post("/api/processors", json={"processor": "stripe", "credentials": credentials})
    assert answer.status_code == 200, answer.text
    listed = dashboard.get("/api/processors")
    for text in (answer.text, listed.text):
        assert all(value not in text and value[4:-4] not in text for value in credentials.values())
    [stripe] = [p for p in listed.json()["processors"] if p["processor"] == "stripe"]
    assert stripe["enabled"] is True and stripe["updatedAt"]
    for name, value in credentials.items():
        assert stripe["maskedCredentials"][name].endswith(value[-4:])
        assert stripe["maskedCredentials"][name][:-4].strip("•") == ""
    with database(platform) as db:
        row = db.execute(
            "SELECT key_id, ciphertext FROM merchant.processor_configs WHERE merchant_id = %s AND processor = 'stripe'",
            (account.merchant_id,),
        ).fetchone()
    assert row is not None and row[0]
    assert all(value.encode() not in bytes(row[1]) for value in credentials.values())
    with internal_stub(platform, as_identity="processor-stripe") as stub:
        opened = stub.GetProcessorCredentials(
            internal.GetProcessorCredentialsRequest(merchant_id=account.merchant_id, processor="stripe")
        )
    assert dict(opened.credentials) == credentials
    disabled = dashboard.post(
        "/api/processors", json={"processor": "stripe", "credentials": credentials, "enabled": False}
    )
    assert disabled.json()["enabled"] is False


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"processor": "paypal", "credentials": {"secretKey": "sk_test_hidden1234"}}, ["processor"]),
        ({"processor": "stripe", "credentials": {"secretKey": "sk_test_hidden1234"}}, ["credentials.webhookSecret"]),
        (
            {"processor": "stripe", "credentials": {"secretKey": "pk_test_hidden1234", "webhookSecret": "whsec_x"}},
            ["credentials.secretKey"],
        ),
        (
            {"processor": "razorpay", "credentials": {"keyId": "rzp_test_1", "keySecret": "hidden1234"}},
            ["credentials.webhookSecret"],
        ),
        (
            {
                "processor": "stripe",
                "credentials": {"secretKey": "sk_test_hidden", "webhookSecret": "whsec_x", "x": "y"},
            },
            ["credentials.x"],
        ),
    ],
)
def test_processor_credentials_are_validated_without_echoing_them(
    dashboard: httpx.Client, body: dict[str, Any], fields: list[str]
) -> None:
    reason, answer = aip193(dashboard.post("/api/processors", json=body), 400)
    assert (reason, violated_fields(answer)) == ("PROCESSOR_CONFIG_INVALID", fields)
    assert "hidden" not in json.dumps(answer)


# -- webhook endpoints and routing rules ---------------------------------------------------------------


def test_webhook_endpoints_show_their_secret_once(
    platform: Platform, dashboard: httpx.Client, account: Account
) -> None:
    created = dashboard.post(
        "/api/webhook-endpoints", json={"url": "https://example.com/payloops", "events": ["order.succeeded"]}
    )
    assert created.status_code == 200, created.text
    endpoint = created.json()
    remember(endpoint["secret"])
    assert endpoint["id"].startswith("we_") and endpoint["secret"].startswith("whsec_")
    assert len(base64.b64decode(endpoint["secret"].removeprefix("whsec_"))) == 32
    everything = dashboard.post("/api/webhook-endpoints", json={"url": "http://localhost:9/all"}).json()
    remember(everything["secret"])
    listed = dashboard.get("/api/webhook-endpoints")
    assert endpoint["secret"] not in listed.text and everything["secret"] not in listed.text
    assert {e["id"]: e["events"] for e in listed.json()["webhookEndpoints"]} == {
        endpoint["id"]: ["order.succeeded"],
        everything["id"]: [],
    }
    with database(platform) as db:
        stored = db.execute("SELECT ciphertext FROM merchant.webhook_endpoints WHERE id = %s", (endpoint["id"],))
        assert endpoint["secret"].encode() not in bytes(stored.fetchone()[0])  # type: ignore[index]
    with internal_stub(platform, as_identity="webhook-worker") as stub:
        request = internal.ListWebhookSubscriptionsRequest
        succeeded = stub.ListWebhookSubscriptions(
            request(merchant_id=account.merchant_id, event_type="order.succeeded")
        )
        failed = stub.ListWebhookSubscriptions(request(merchant_id=account.merchant_id, event_type="order.failed"))
    assert {(e.id, e.secret) for e in succeeded.webhook_endpoints} == {
        (endpoint["id"], endpoint["secret"]),
        (everything["id"], everything["secret"]),
    }
    assert [e.id for e in failed.webhook_endpoints] == [everything["id"]]
    deleted = dashboard.delete(f"/api/webhook-endpoints/{endpoint['id']}")
    assert deleted.status_code == 200 and deleted.json()["secret"] == ""
    assert aip193(dashboard.delete(f"/api/webhook-endpoints/{endpoint['id']}"), 404)[0] == "WEBHOOK_ENDPOINT_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"url": "ftp://example.com/x"}, ["url"]),
        ({"url": "javascript:alert(1)"}, ["url"]),
        ({"url": "https://user:pass@example.com/"}, ["url"]),
        ({"url": "https://example.com/", "events": ["order.exploded"]}, ["events[0]"]),
    ],
)
def test_bad_webhook_endpoints_are_400(dashboard: httpx.Client, body: dict[str, Any], fields: list[str]) -> None:
    _, answer = aip193(dashboard.post("/api/webhook-endpoints", json=body), 400)
    assert violated_fields(answer) == fields


def test_routing_rules_are_stored_validated_and_served_by_priority(
    platform: Platform, dashboard: httpx.Client, account: Account
) -> None:
    later = {"priority": 20, "conditions": {"currency": "EUR"}, "action": {"single": {"processor": "stripe"}}}
    first = {
        "priority": 10,
        "conditions": {"currency": "INR", "amountGte": 100, "metadata": {"tier": "gold"}},
        "action": {
            "volumeSplit": {"splits": [{"processor": "razorpay", "weight": 70}, {"processor": "stripe", "weight": 30}]}
        },
    }
    created = [dashboard.post("/api/routing-rules", json=rule) for rule in (later, first)]
    assert all(answer.status_code == 200 for answer in created), [a.text for a in created]
    ids = [answer.json()["id"] for answer in created]
    assert all(rule_id.startswith("rr_") for rule_id in ids)
    listed = dashboard.get("/api/routing-rules").json()["routingRules"]
    assert [r["id"] for r in listed] == [ids[1], ids[0]]
    assert listed[0]["conditions"]["metadata"] == {"tier": "gold"} and listed[0]["conditions"]["amountGte"] == 100
    with internal_stub(platform, as_identity="router") as stub:
        config = stub.GetRoutingConfig(internal.GetRoutingConfigRequest(merchant_id=account.merchant_id))
    assert [r.id for r in config.routing_rules] == [ids[1], ids[0]]
    assert config.routing_rules[0].action.volume_split.splits[0].weight == 70

    bad = {"priority": 1, "action": {"single": {"processor": "paypal"}}}
    reason, answer = aip193(dashboard.post("/api/routing-rules", json=bad), 400)
    assert (reason, violated_fields(answer)) == ("ROUTING_RULE_INVALID", ["routing_rule.action.single.processor"])
    reason, _ = aip193(dashboard.post("/api/routing-rules", json={"priority": 1}), 400)
    assert reason == "ROUTING_RULE_INVALID"

    for rule_id in ids:
        assert dashboard.delete(f"/api/routing-rules/{rule_id}").json()["id"] == rule_id
    assert dashboard.get("/api/routing-rules").json()["routingRules"] == []
    assert aip193(dashboard.delete(f"/api/routing-rules/{ids[0]}"), 404)[0] == "ROUTING_RULE_NOT_FOUND"


# -- throttles -----------------------------------------------------------------------------------------------


def test_failed_logins_lock_the_account_and_nobody_else(platform: Platform) -> None:
    with client(platform) as anonymous:
        victim, bystander = register(anonymous), register(anonymous)
    with client(platform, source=fresh_address()) as attacker:
        answers = [login(attacker, victim.email, f"guess-{n}-wrong-password") for n in range(20)]
        statuses = [a.status_code for a in answers]
        threshold = merchant_settings(platform).lockout_threshold  # 10 at most (PCI DSS 8.3.4)
        assert statuses == [401] * (threshold - 1) + [429] * (21 - threshold), statuses
        assert all(aip193(a, 429)[0] == "ACCOUNT_LOCKED" for a in answers[threshold - 1 :])
        assert int(answers[-1].headers["retry-after"]) > 29 * 60
        # Locked even for the right password, and told why and until when.
        reason, body = aip193(login(attacker, victim.email, victim.password), 429)
        assert reason == "ACCOUNT_LOCKED" and "locked" in body["message"]
        assert int(login(attacker, victim.email, victim.password).headers["retry-after"]) >= 29 * 60
        # Another account logs in from the same address, and from anywhere else.
        assert login(attacker, bystander.email, bystander.password).status_code == 200
    with client(platform) as anonymous:
        assert login(anonymous, bystander.email, bystander.password).status_code == 200
        assert aip193(login(anonymous, victim.email, victim.password), 429)[0] == "ACCOUNT_LOCKED"


def test_many_emails_from_one_address_are_throttled(platform: Platform, account: Account) -> None:
    limit = merchant_settings(platform).login_ip_max_failures
    with client(platform, source=fresh_address()) as sprayer:
        statuses = [login(sprayer, new_email(), f"spray-{n}-password").status_code for n in range(200)]
        assert statuses[:limit] == [401] * limit and set(statuses[limit:]) == {429}, statuses
        answer = login(sprayer, new_email(), "spray-password-1")
        assert aip193(answer, 429)[0] == "RATE_LIMITED" and int(answer.headers["retry-after"]) > 0
        assert aip193(login(sprayer, account.email, account.password), 429)[0] == "RATE_LIMITED"
        # The address is the gateway's view of the connection: client headers cannot change it.
        spoofed = {"X-Envoy-External-Address": "10.9.8.7", "X-Forwarded-For": "10.9.8.7", "X-Real-IP": "10.9.8.7"}
        assert login(sprayer, account.email, account.password, **spoofed).status_code == 429
    with client(platform) as elsewhere:  # successful logins from elsewhere are not slowed
        assert login(elsewhere, account.email, account.password).status_code == 200


def test_registrations_are_throttled_per_email_and_per_address(platform: Platform) -> None:
    settings = merchant_settings(platform)
    with client(platform, source=fresh_address()) as anonymous:
        email = new_email()
        body = {"email": email, "password": new_password(), "name": "Again and again"}
        statuses = [anonymous.post("/api/auth/register", json=body).status_code for _ in range(7)]
        per_email = settings.register_email_max_attempts
        assert statuses == [200] + [409] * (per_email - 1) + [429] * (7 - per_email), statuses
    with client(platform, source=fresh_address()) as anonymous:
        per_address = settings.register_ip_max_attempts
        for n in range(per_address):
            body = {"email": new_email(), "password": "a" * 12 + "1", "name": f"n{n}"}
            answer = anonymous.post("/api/auth/register", json={**body, "password": ""})  # validated first: not counted
            assert answer.status_code == 400
        statuses = []
        for _ in range(per_address + 1):
            body = {"email": new_email(), "password": new_password(), "name": "Many"}
            answer = anonymous.post("/api/auth/register", json=body)
            statuses.append(answer.status_code)
            remember(answer.json().get("token", ""))
        assert statuses == [200] * per_address + [429], statuses


# -- logs (keep last) ---------------------------------------------------------------------------------------


def test_lastly_no_secret_reached_any_log(platform: Platform, merchant_a: dict[str, str]) -> None:
    merchant = set_up_merchant(platform)  # one more merchant's worth of secrets, used once each
    with client(platform, **{"X-API-Key": merchant.api_key}) as rest:
        assert rest.get("/v1/orders").status_code == 200
    time.sleep(1)  # let the services' log lines land
    assert_no_secrets_in_logs(platform)
