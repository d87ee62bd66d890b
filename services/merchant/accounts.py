"""Registering and logging in: validation, throttles, password hashes, tokens.

An unknown email and a wrong password get the same answer after the same work (a
hash verification either way) and count alike towards the lockout."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import Unauthenticated
from services.merchant import repository
from services.merchant.models import MerchantRow
from services.merchant.passwords import PasswordHasher
from services.merchant.throttle import AuthGuard
from services.merchant.tokens import DashboardTokens, IssuedToken
from services.merchant.validation import (
    check,
    email_violations,
    name_violations,
    normalise_email,
    password_check,
    required,
)

log = logging.getLogger("payloops.merchant.accounts")


def invalid_credentials() -> Unauthenticated:
    return Unauthenticated(message="the email or password is not correct", reason="INVALID_CREDENTIALS")


@dataclass(frozen=True)
class Registered:
    merchant: MerchantRow
    token: IssuedToken


class Accounts:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        hasher: PasswordHasher,
        tokens: DashboardTokens,
        guard: AuthGuard,
        password_min_length: int,
    ) -> None:
        self.sessions = sessions
        self.hasher = hasher
        self.tokens = tokens
        self.guard = guard
        self.password_min_length = password_min_length

    async def register(self, *, email: str, password: str, name: str, client: str) -> Registered:
        email = normalise_email(email)
        check(
            ("EMAIL_INVALID", email_violations(email)),
            password_check(password, min_length=self.password_min_length, email=email),
            ("NAME_INVALID", name_violations(name)),
        )
        await self.guard.before_register(ip=client, email=email)
        async with self.sessions() as session:
            taken = await repository.email_taken(session=session, email=email)
        if taken:  # checked first to spare a hash; the unique index settles races
            raise repository.email_taken_error()
        password_hash = await self.hasher.hash(password)
        async with self.sessions.begin() as session:
            merchant = await repository.create_merchant(
                session=session, name=name.strip(), email=email, password_hash=password_hash
            )
        log.info("merchant registered", extra={"merchant_id": merchant.id})
        return Registered(merchant, self.tokens.issue(merchant.id))

    async def login(self, *, email: str, password: str, client: str) -> IssuedToken:
        email = normalise_email(email)
        check(("EMAIL_INVALID", email_violations(email)), ("PASSWORD_REQUIRED", required(password, "password")))
        await self.guard.before_login(ip=client, email=email)
        async with self.sessions() as session:
            merchant = await repository.find_merchant_by_email(session=session, email=email)
        stored = merchant.password_hash if merchant is not None else None
        # A decoy hash when there is none; a new hash when the stored one is outdated.
        matches, rehashed = await self.hasher.verify_and_update(password, stored)
        if merchant is None or not matches:
            await self.guard.login_failed(ip=client, email=email)  # raises ACCOUNT_LOCKED at the threshold
            raise invalid_credentials()
        await self.guard.login_succeeded(ip=client, email=email)
        if rehashed is not None:
            async with self.sessions.begin() as session:
                await repository.set_password_hash(session=session, merchant_id=merchant.id, password_hash=rehashed)
        return self.tokens.issue(merchant.id)
