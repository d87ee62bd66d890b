"""Re-encrypt every stored secret under the active key:
`python -m services.merchant.rotate_key [--batch-size N]` (configuration from the
environment, as the service's: DATABASE_URL, CREDENTIAL_KEYS, CREDENTIAL_ACTIVE_KEY_ID).

Rotating without downtime:
  1. Add the new key to CREDENTIAL_KEYS (keeping the old one) and restart the merchant
     service replicas one by one: each now reads both keys.
  2. Make the new key CREDENTIAL_ACTIVE_KEY_ID and restart them again: new values are
     sealed with it.
  3. Run this command with that configuration. It re-seals the other values in small
     transactions, locking only the rows of the current batch, while the service keeps
     serving (it reads both keys).
  4. Once it reports nothing remaining, remove the old key from CREDENTIAL_KEYS.

Prints one JSON line: {"active_key_id", "resealed": {table: n}, "unreadable": [row...],
"remaining": n}. Exits 1 when a value could not be opened (tampered, or sealed under
a key that is not configured) or rows remain. Never prints or logs a secret."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.db import create_engine, session_factory
from services.merchant import repository
from services.merchant.config import Settings
from services.merchant.credentials import CredentialCipher, CredentialsUnreadable
from services.merchant.models import ProcessorConfigRow, WebhookEndpointRow

SEALED_TABLES: tuple[type[repository.SealedRow], ...] = (ProcessorConfigRow, WebhookEndpointRow)


@dataclass
class Report:
    active_key_id: str
    resealed: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    remaining: int = 0

    @property
    def complete(self) -> bool:
        return not self.unreadable and self.remaining == 0


async def reseal_table(
    sessions: async_sessionmaker[AsyncSession],
    cipher: CredentialCipher,
    model: type[repository.SealedRow],
    *,
    batch_size: int,
    report: Report,
) -> None:
    table = str(model.__tablename__)
    report.resealed[table] = 0
    after: tuple[str, ...] | None = None
    while True:
        async with sessions.begin() as session:
            rows = await repository.rows_sealed_under_other_keys(
                session=session, model=model, active_key_id=cipher.active_key_id, after=after, limit=batch_size
            )
            for row in rows:
                try:
                    resealed = cipher.reseal(
                        row.merchant_id, repository.sealed_of(row), context=repository.sealed_context(row)
                    )
                except CredentialsUnreadable:
                    report.unreadable.append(f"{table}/{'/'.join(repository.primary_key(row))}")
                    continue
                repository.store_sealed(row, resealed)
                report.resealed[table] += 1
        if len(rows) < batch_size:
            return
        after = repository.primary_key(rows[-1])


async def rotate(settings: Settings, *, batch_size: int = 100) -> Report:
    cipher = CredentialCipher(settings.credential_keys, settings.credential_active_key_id)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    report = Report(active_key_id=cipher.active_key_id)
    try:
        for model in SEALED_TABLES:
            await reseal_table(sessions, cipher, model, batch_size=batch_size, report=report)
        async with sessions() as session:
            for model in SEALED_TABLES:
                report.remaining += await repository.count_sealed_under_other_keys(
                    session=session, model=model, active_key_id=cipher.active_key_id
                )
    finally:
        await engine.dispose()
    return report


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--batch-size", type=int, default=100, help="rows per transaction (default 100)")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    args = ap.parse_args(argv)
    try:
        settings = Settings(port=1)  # serves nothing; the rest comes from the environment
    except ValueError as error:
        print(f"rotate-key: bad configuration: {error}", file=sys.stderr)
        return 2
    report = asyncio.run(rotate(settings, batch_size=max(args.batch_size, 1)))
    print(
        json.dumps(
            {
                "active_key_id": report.active_key_id,
                "resealed": report.resealed,
                "unreadable": report.unreadable,
                "remaining": report.remaining,
            }
        )
    )
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
