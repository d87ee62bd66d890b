"""Dashboard tokens, password hashes and the settings that guard them (pure)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from services.merchant.config import Settings
from services.merchant.passwords import PasswordHasher
from services.merchant.tokens import DashboardTokens, TokenRejected
from tests.mesh import UNUSED_MESH_FILES

SECRET = "k" * 32


def settings(**changes: Any) -> Settings:
    return Settings(
        database_url="postgresql://x/y",
        redis_url="redis://x",
        router_service_addr="127.0.0.1:1",
        port=1,
        **UNUSED_MESH_FILES,
        **changes,
    )


def tokens() -> DashboardTokens:
    return DashboardTokens(
        secret=SECRET, algorithm="HS256", issuer="payloops", audience="payloops-dashboard", ttl=timedelta(hours=1)
    )


def reason(token: str) -> str:
    with pytest.raises(TokenRejected) as rejected:
        tokens().verify(token)
    return rejected.value.reason


def claims(**changes: object) -> dict[str, object]:
    now = datetime.now(UTC)
    base: dict[str, object] = {
        "sub": "mer_1",
        "iss": "payloops",
        "aud": "payloops-dashboard",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def test_issued_tokens_verify_and_carry_the_registered_claims() -> None:
    issued = tokens().issue("mer_abc")
    assert tokens().verify(issued.token) == "mer_abc"
    decoded = jwt.decode(issued.token, options={"verify_signature": False})
    assert {"sub", "iss", "aud", "iat", "exp", "jti"} <= set(decoded)
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"
    assert issued.expires_at - datetime.now(UTC) <= timedelta(hours=1)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_and_foreign_tokens_are_refused() -> None:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).decode().rstrip("=")

    good = jwt.encode(claims(), SECRET, algorithm="HS256")
    none = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({**claims(), 'iat': 1, 'exp': 4102444800})}."
    forged = {
        "alg none": none,
        "HS512": jwt.encode(claims(), SECRET, algorithm="HS512"),
        "other secret": jwt.encode(claims(), "x" * 32, algorithm="HS256"),
        "tampered payload": good.split(".")[0]
        + "."
        + part({**claims(sub="mer_2"), "iat": 1, "exp": 4102444800})
        + "."
        + good.split(".")[2],
        "other audience": jwt.encode(claims(aud="else"), SECRET, algorithm="HS256"),
        "other issuer": jwt.encode(claims(iss="else"), SECRET, algorithm="HS256"),
        "no exp": jwt.encode(claims(exp=None), SECRET, algorithm="HS256"),
        "no iat": jwt.encode(claims(iat=None), SECRET, algorithm="HS256"),
        "no sub": jwt.encode(claims(sub=None), SECRET, algorithm="HS256"),
        "not a merchant": jwt.encode(claims(sub="key_1"), SECRET, algorithm="HS256"),
        "issued in the future": jwt.encode(claims(iat=datetime.now(UTC) + timedelta(hours=1)), SECRET),
        "empty": "",
    }
    for case, token in forged.items():
        assert reason(token) == "BEARER_TOKEN_INVALID", case
    expired = jwt.encode(claims(exp=datetime.now(UTC) - timedelta(minutes=1)), SECRET, algorithm="HS256")
    assert reason(expired) == "BEARER_TOKEN_EXPIRED"


def test_short_jwt_secrets_and_development_secrets_in_production_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        settings(jwt_secret="x" * 31)
    assert settings(jwt_secret="é" * 16, payloops_env="dev").jwt_secret  # 32 bytes in UTF-8
    with pytest.raises(ValueError, match="jwt_secret"):
        settings(payloops_env="prod", api_key_hmac_secret="p" * 32)
    with pytest.raises(ValueError, match="CREDENTIAL_KEYS"):
        settings(payloops_env="prod", api_key_hmac_secret="p" * 32, jwt_secret="j" * 32)
    with pytest.raises(ValueError):
        settings(jwt_algorithm="none")
    with pytest.raises(ValueError):
        settings(lockout_threshold=11)
    with pytest.raises(ValueError):
        settings(lockout_seconds=1799)
    with pytest.raises(ValueError):
        settings(argon2_memory_kib=4096)


async def test_passwords_are_argon2id_with_owasp_parameters() -> None:
    hasher = PasswordHasher(memory_kib=19_456, time_cost=2, concurrency=2)
    stored = await hasher.hash("correct horse 1 battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await hasher.verify_and_update("correct horse 1 battery", stored) == (True, None)
    assert await hasher.verify_and_update("correct horse 1 batterY", stored) == (False, None)
    # Unknown account: decoy work, False.
    assert await hasher.verify_and_update("correct horse 1 battery", None) == (False, None)
    assert not hasher.outdated(stored)
    stronger = PasswordHasher(memory_kib=19_456, time_cost=3, concurrency=1)
    assert stronger.outdated(stored)
    matches, rehashed = await stronger.verify_and_update("correct horse 1 battery", stored)
    assert matches and rehashed is not None and rehashed.startswith("$argon2id$v=19$m=19456,t=3,p=1$")


async def test_passwords_are_hashed_in_their_nfkc_form() -> None:
    hasher = PasswordHasher(memory_kib=19_456, time_cost=2, concurrency=1)
    composed, decomposed = "caf\u00e9 au lait, s'il vous pla\u00eet", "cafe\u0301 au lait, s'il vous plai\u0302t"
    stored = await hasher.hash(decomposed)
    assert await hasher.verify_and_update(composed, stored) == (True, None)
    assert await hasher.verify_and_update(decomposed, stored) == (True, None)
    full_width = await hasher.hash("ｐａｓｓｐｈｒａｓｅ ｏｎｅ")
    assert await hasher.verify_and_update("passphrase one", full_width) == (True, None)


async def test_hashes_of_passwords_as_typed_still_verify_and_are_replaced() -> None:
    """Before NFKC, a password was hashed as it was typed (NBSP, decomposed accents...)."""
    hasher = PasswordHasher(memory_kib=19_456, time_cost=2, concurrency=1)
    typed = "mot\u00a0de passe re\u0301siste\u0301"
    legacy = hasher.scheme.hash(typed)
    matches, rehashed = await hasher.verify_and_update(typed, legacy)
    assert matches and rehashed is not None
    assert await hasher.verify_and_update(typed, rehashed) == (True, None)  # now in NFKC form
    assert await hasher.verify_and_update("mot de passe résisté", rehashed) == (True, None)
    assert await hasher.verify_and_update(typed + "x", legacy) == (False, None)
    # ASCII passwords are their own NFKC form: their old hashes are current.
    ascii_legacy = hasher.scheme.hash("plain ascii passphrase")
    assert await hasher.verify_and_update("plain ascii passphrase", ascii_legacy) == (True, None)
