"""The end-of-session log scan (tests/log_scan.py): card numbers whoever logged them,
secrets a test remembered, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.web.cards import luhn_valid
from tests.log_scan import assert_clean_logs, card_numbers, scan_text

# The hosted checkout tests' cards (tests/browser, tests/e2e/test_checkout.py).
TEST_CARDS = ["4242424242424242", "4000000000000002", "4000000000009995", "4000002760003184"]


def grouped(number: str, separator: str = " ") -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@pytest.mark.parametrize("number", TEST_CARDS)
def test_the_test_cards_are_found_whole_or_grouped(number: str) -> None:
    assert card_numbers(f'{{"message": "pay", "card": "{number}"}}') == [number]
    assert card_numbers(f"number={grouped(number)}&cvc=123") == [number]
    assert card_numbers(f"number={grouped(number, '+')}&cvc=123") == [number]  # form-encoded
    assert card_numbers(f"card {grouped(number, '-')}.") == [number]


def test_other_brands_and_neighbouring_numbers() -> None:
    assert card_numbers("amex 3782-822463-10005") == ["378282246310005"]
    assert card_numbers("mastercard 5555 5555 5555 4444, 2223003122003222") == ["5555555555554444", "2223003122003222"]
    assert card_numbers("order 17 4242 4242 4242 4242") == ["4242424242424242"]
    assert card_numbers("pm_card_4242424242424242_secret") == ["4242424242424242"]


@pytest.mark.parametrize(
    "line",
    [
        '{"time": "2026-12-04T08:46:25.215Z", "created_ms": 1796373998123, "elapsed": 4242}',  # epoch millis
        "4222222222222",  # a Luhn-valid Visa number, but 13 digits in one piece: epoch millis' shape
        '"order_id": "ord_RwCI82v3o3snC9u3GfnyGDMZ", "reference": "pi_G5RCv17HnbJqNo"',
        "request_id 6621f597-d319-4446-a5b9-2027853dafba trace 473ae4f00e5e43f38362cfe9657b1f57",
        "token a4242424242424242 and 4242424242424242f",  # digits inside a word (hex)
        "4242424242424241",  # fails the Luhn check
        "1234567890123452",  # passes it, but no card brand starts with 1
        "event payment.captured:pay_w2Tn5R01OBV5bj:1796373998 at 2026-12-04 08:46:38,416",
    ],
)
def test_ids_and_timestamps_are_not_card_numbers(line: str) -> None:
    assert card_numbers(line) == []


def test_luhn() -> None:
    assert all(luhn_valid(number) for number in TEST_CARDS)
    assert not luhn_valid("4242424242424243")


def test_a_remembered_secret_and_a_card_are_found_with_their_line(tmp_path: Path) -> None:
    text = 'first line\n{"message": "login", "password": "pw-s3cret-7a"}\ncharge 4242 4242 4242 4242\n'
    found = [str(finding) for finding in scan_text(tmp_path / "merchant.log", text, {"pw-s3cret-7a", "unused"})]
    assert found == ["merchant.log:2: secret pw-s3c…", "merchant.log:3: card number 424242…4242"]


def test_every_file_under_the_log_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "envoy.log").write_text('{"path": "/healthz", "status": 200}\n')
    assert_clean_logs(tmp_path, {"sk_test_abc"})
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "temporal.out").write_text("card 4000002760003184\n")
    with pytest.raises(AssertionError, match=r"temporal.out:1: card number 400000…3184") as caught:
        assert_clean_logs(tmp_path, {"sk_test_abc"})
    assert "4000002760003184" not in str(caught.value)  # the report masks what it found
