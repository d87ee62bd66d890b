"""Dashboard tokens: JWTs (PyJWT) signed with a configured HMAC secret.

Verification pins the configured algorithm (so `alg: none` and every other algorithm
fail) and requires and checks `exp`, `iat`, `sub`, `iss` and `aud`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
LEEWAY_SECONDS = 5


class TokenRejected(Exception):
    """A token that is malformed, forged, expired or not meant for us; `reason` is an
    upper-snake ErrorInfo reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


class DashboardTokens:
    def __init__(self, *, secret: str, algorithm: str, issuer: str, audience: str, ttl: timedelta) -> None:
        self.secret = secret
        self.algorithm = algorithm
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    def issue(self, merchant_id: str, *, now: datetime | None = None) -> IssuedToken:
        issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
        expires_at = issued_at + self.ttl
        claims = {
            "sub": merchant_id,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": issued_at,
            "exp": expires_at,
            "jti": secrets.token_urlsafe(12),
        }
        return IssuedToken(jwt.encode(claims, self.secret, algorithm=self.algorithm), expires_at)

    def verify(self, token: str) -> str:
        """The merchant id the token was issued to; TokenRejected otherwise."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("BEARER_TOKEN_EXPIRED", "the dashboard token has expired; log in again") from None
        except jwt.InvalidTokenError:
            raise TokenRejected("BEARER_TOKEN_INVALID", "the dashboard token is not valid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.startswith("mer_"):
            raise TokenRejected("BEARER_TOKEN_INVALID", "the dashboard token is not valid")
        return subject
