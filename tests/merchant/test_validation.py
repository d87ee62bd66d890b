"""The dashboard API's field checks (pure)."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.merchant.catalogue import events_violations, new_webhook_secret, processor_violations, subscribed
from services.merchant.validation import (
    check,
    email_violations,
    normalise_email,
    password_check,
    url_violations,
)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [(" Ada@Example.COM ", "ada@example.com"), ("ＡＤＡ@example.com", "ada@example.com"), ("a+b@x.io", "a+b@x.io")],
)
def test_emails_are_normalised(raw: str, stored: str) -> None:
    assert normalise_email(raw) == stored and email_violations(stored) == []


@pytest.mark.parametrize(
    "bad",
    ["", "plain", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@-b.co", "a@b_c.com", "a@1.2.3.4", "x" * 65 + "@b.co"],
)
def test_malformed_emails_are_refused(bad: str) -> None:
    assert [v.field for v in email_violations(normalise_email(bad))] == ["email"]


EMAIL = "ada.lovelace.1815@example.com"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", "PASSWORD_TOO_SHORT"),
        ("abc123def45", "PASSWORD_TOO_SHORT"),  # 11 characters
        ("e\u0301" * 6, "PASSWORD_TOO_SHORT"),  # 12 code points typed, 6 after NFKC: é x 6
        ("a" * 257, "PASSWORD_TOO_LONG"),
        ("ab1 " * 64 + "x", "PASSWORD_TOO_LONG"),  # 257
        ("password1234", "PASSWORD_TOO_COMMON"),
        ("QwertyUiop123", "PASSWORD_TOO_COMMON"),
        ("ＰＡＳＳＷＯＲＤ１２３４", "PASSWORD_TOO_COMMON"),  # full-width: NFKC makes it password1234
        ("zzzzzzzzzzzzzzzz", "PASSWORD_TOO_COMMON"),  # one character repeated
        (" " * 12, "PASSWORD_TOO_COMMON"),
        ("ada.lovelace.1815", "PASSWORD_MATCHES_EMAIL"),
        ("Ada.Lovelace.1815", "PASSWORD_MATCHES_EMAIL"),
        ("ADA.LOVELACE.1815@EXAMPLE.COM", "PASSWORD_MATCHES_EMAIL"),
    ],
)
def test_password_policy(password: str, reason: str) -> None:
    got, violations = password_check(password, min_length=12, email=EMAIL)
    assert (got, [v.field for v in violations]) == (reason, ["password"])
    assert all(password[:5] not in v.description for v in violations if password.strip())


@pytest.mark.parametrize("password", ["password123", "Password123", "qwertyuiop", "QWERTYuiop"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    # Shorter than the configured minimum (12): checked against the list with NIST's 8.
    assert password_check(password, min_length=8, email=EMAIL)[0] == "PASSWORD_TOO_COMMON"


@pytest.mark.parametrize(
    "password",
    [
        "abcdefghijk1",
        "correct horse battery staple",  # letters and spaces only
        "theblackcatsleepsonthewarmmat",  # letters only
        "123 905 771 640",  # digits and spaces only
        "mon mot de passe préféré, très long",
        "пароль из четырёх слов",
        "🔐 emoji are characters too 🔑",
        "x" * 11 + "y" * 245,  # 256, the most
    ],
)
def test_passphrases_of_any_characters_pass(password: str) -> None:
    assert password_check(password, min_length=12, email=EMAIL) == ("PASSWORD_TOO_SHORT", [])


def test_a_64_character_passphrase_with_spaces_passes() -> None:
    passphrase = "four words is a start but a longer sentence is what we remember "
    assert len(passphrase) == 64
    assert password_check(passphrase, min_length=12, email=EMAIL)[1] == []


def test_the_local_part_alone_is_refused_only_when_it_is_the_whole_password() -> None:
    assert password_check("ada.lovelace.1815 rocks", min_length=12, email=EMAIL)[1] == []
    assert password_check(" ada.lovelace.1815 ", min_length=12, email=EMAIL)[0] == "PASSWORD_MATCHES_EMAIL"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/hooks", True),
        ("http://localhost:8000/x", True),
        ("http://[::1]:80/x", True),
        ("ftp://example.com", False),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://user:pass@example.com", False),
        ("https://example.com:99999/", False),
        ("https:///path", False),
        ("https://exa mple.com/", False),
        ("https://example.com/" + "x" * 2048, False),
    ],
)
def test_webhook_urls(url: str, ok: bool) -> None:
    assert (url_violations(url, allow_loopback=True) == []) is ok
    if "localhost" in url or "[::1]" in url:  # loopback only with the development switch
        assert url_violations(url) != []


def test_check_names_every_violation_with_the_first_reason() -> None:
    with pytest.raises(InvalidArgument) as raised:
        check(
            ("EMAIL_INVALID", []),
            password_check("short", min_length=12, email=EMAIL),
            ("NAME_INVALID", url_violations("x")),
        )
    assert raised.value.reason == "PASSWORD_TOO_SHORT"
    assert [v.field for v in raised.value.violations] == ["password", "url"]


def test_processor_credentials_are_complete_known_and_never_echoed() -> None:
    stripe = {"secretKey": "sk_test_abc", "webhookSecret": "whsec_abc"}
    assert processor_violations("stripe", stripe) == []
    razorpay = {"keyId": "rzp_test_abc", "keySecret": "s3cr3t", "webhookSecret": "w"}
    assert processor_violations("razorpay", razorpay) == []
    problems = processor_violations(
        "stripe", {"secretKey": "pk_live_VERYSECRET", "webhookSecret": " whsec_VERYSECRET", "extra": "VERYSECRET"}
    )
    assert [v.field for v in problems] == ["credentials.extra", "credentials.secretKey", "credentials.webhookSecret"]
    assert all("VERYSECRET" not in v.description for v in problems)
    assert [v.field for v in processor_violations("razorpay", {"keyId": "rzp_test_1"})] == [
        "credentials.keySecret",
        "credentials.webhookSecret",
    ]
    assert [v.field for v in processor_violations("paypal", {})] == ["processor"]
    assert [v.field for v in processor_violations("", {})] == ["processor"]


def test_webhook_events_and_secrets() -> None:
    assert events_violations(["order.succeeded", "refund.failed"]) == []
    assert [v.field for v in events_violations(["order.nope", "order.failed", "order.failed"])] == [
        "events[0]",
        "events[2]",
    ]
    secret = new_webhook_secret()
    assert secret.startswith("whsec_") and secret != new_webhook_secret()
    assert subscribed([], "order.failed") and subscribed(["order.failed"], "order.failed")
    assert not subscribed(["order.succeeded"], "order.failed")
