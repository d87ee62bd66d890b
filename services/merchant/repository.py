"""Merchant persistence: merchants, API keys, processor configurations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id
from services.merchant.credentials import CredentialCipher, mask
from services.merchant.keys import IssuedKey, key_hash
from services.merchant.models import ApiKeyRow, MerchantRow, ProcessorConfigRow


async def create_merchant(*, session: AsyncSession, name: str, email: str | None = None) -> MerchantRow:
    row = MerchantRow(id=new_id("mer"), name=name, email=email)
    session.add(row)
    await session.flush()
    return row


async def get_merchant(*, session: AsyncSession, merchant_id: str) -> MerchantRow | None:
    return await session.get(MerchantRow, merchant_id)


async def create_api_key(
    *, session: AsyncSession, merchant_id: str, issued: IssuedKey, hmac_secret: str, name: str = ""
) -> ApiKeyRow:
    row = ApiKeyRow(
        id=new_id("key"),
        merchant_id=merchant_id,
        lookup=issued.lookup,
        display_prefix=issued.display_prefix,
        key_hash=key_hash(issued.secret, hmac_secret=hmac_secret),
        mode=issued.mode,
        name=name,
    )
    session.add(row)
    await session.flush()
    return row


async def find_api_key(*, session: AsyncSession, lookup: str) -> ApiKeyRow | None:
    row: ApiKeyRow | None = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.lookup == lookup))
    return row


async def set_processor_config(
    *,
    session: AsyncSession,
    cipher: CredentialCipher,
    merchant_id: str,
    processor: str,
    credentials: dict[str, str],
    enabled: bool,
) -> None:
    sealed = cipher.seal(merchant_id, credentials)
    values = {
        "enabled": enabled,
        "key_id": sealed.key_id,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
        "masked": {name: mask(value) for name, value in credentials.items()},
    }
    statement = insert(ProcessorConfigRow).values(merchant_id=merchant_id, processor=processor, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ProcessorConfigRow.merchant_id, ProcessorConfigRow.processor],
            set_={**values, "updated_at": statement.excluded.updated_at},
        )
    )


async def get_processor_config(*, session: AsyncSession, merchant_id: str, processor: str) -> ProcessorConfigRow | None:
    return await session.get(ProcessorConfigRow, (merchant_id, processor))


async def enabled_processors(*, session: AsyncSession, merchant_id: str) -> list[str]:
    query = select(ProcessorConfigRow.processor).where(
        ProcessorConfigRow.merchant_id == merchant_id, ProcessorConfigRow.enabled.is_(True)
    )
    return sorted(await session.scalars(query))
