"""Merchant persistence: merchants, API keys, processor configurations, routing rules
and webhook endpoints.

Every function that touches a merchant's object takes the merchant id and filters on
it: another merchant's id is indistinguishable from a missing one (NotFound)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.common.errors import AlreadyExists, NotFound
from services.common.ids import new_id
from services.merchant.credentials import CredentialCipher, Sealed, mask
from services.merchant.keys import IssuedKey, key_hash
from services.merchant.models import ApiKeyRow, MerchantRow, ProcessorConfigRow, RoutingRuleRow, WebhookEndpointRow

Row = TypeVar("Row", ApiKeyRow, RoutingRuleRow, WebhookEndpointRow)
SealedRow = ProcessorConfigRow | WebhookEndpointRow


async def _owned_or_raise(
    *, session: AsyncSession, model: type[Row], merchant_id: str, object_id: str, resource_type: str, lock: bool
) -> Row:
    query = select(model).where(model.id == object_id, model.merchant_id == merchant_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound.of(resource_type, object_id)
    return row


# -- merchants ------------------------------------------------------------------------


def email_taken_error() -> AlreadyExists:
    return AlreadyExists(
        message="an account with this email already exists", reason="EMAIL_TAKEN", metadata={"field": "email"}
    )


async def create_merchant(
    *, session: AsyncSession, name: str, email: str | None = None, password_hash: str | None = None
) -> MerchantRow:
    """`email` must be normalised; a taken one raises AlreadyExists."""
    row = MerchantRow(id=new_id("mer"), name=name, email=email, password_hash=password_hash, webhook_url="")
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        if "email" not in str(error.orig):
            raise
        raise email_taken_error() from None
    await session.refresh(row)
    return row


async def get_merchant(*, session: AsyncSession, merchant_id: str) -> MerchantRow | None:
    return await session.get(MerchantRow, merchant_id)


async def get_merchant_or_raise(*, session: AsyncSession, merchant_id: str) -> MerchantRow:
    row = await get_merchant(session=session, merchant_id=merchant_id)
    if row is None:
        raise NotFound.of("merchant", merchant_id)
    return row


async def email_taken(*, session: AsyncSession, email: str) -> bool:
    return await session.scalar(select(MerchantRow.id).where(MerchantRow.email == email)) is not None


async def find_merchant_by_email(*, session: AsyncSession, email: str) -> MerchantRow | None:
    row: MerchantRow | None = await session.scalar(select(MerchantRow).where(MerchantRow.email == email))
    return row


async def update_merchant(
    *,
    session: AsyncSession,
    merchant_id: str,
    name: str | None = None,
    webhook_url: str | None = None,
    retry_settings: dict[str, Any] | None = None,
) -> MerchantRow:
    row = await get_merchant_or_raise(session=session, merchant_id=merchant_id)
    changes: dict[str, Any] = {
        k: v
        for k, v in (("name", name), ("webhook_url", webhook_url), ("retry_settings", retry_settings))
        if v is not None
    }
    if changes:
        for attribute, value in changes.items():
            setattr(row, attribute, value)
        row.updated_at = func.now()
        await session.flush()
        await session.refresh(row)
    return row


async def set_password_hash(*, session: AsyncSession, merchant_id: str, password_hash: str) -> None:
    await session.execute(update(MerchantRow).where(MerchantRow.id == merchant_id).values(password_hash=password_hash))


# -- API keys -------------------------------------------------------------------------


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
    await session.refresh(row)
    return row


async def find_api_key(*, session: AsyncSession, lookup: str) -> ApiKeyRow | None:
    """The key with this lookup prefix, whoever owns it (the edge check)."""
    row: ApiKeyRow | None = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.lookup == lookup))
    return row


async def list_api_keys(*, session: AsyncSession, merchant_id: str) -> list[ApiKeyRow]:
    query = (
        select(ApiKeyRow)
        .where(ApiKeyRow.merchant_id == merchant_id)
        .order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id.desc())
    )
    return list(await session.scalars(query))


async def revoke_api_key(*, session: AsyncSession, merchant_id: str, key_id: str) -> ApiKeyRow:
    """Revoke (once: revoking again returns the key as it is)."""
    row = await _owned_or_raise(
        session=session, model=ApiKeyRow, merchant_id=merchant_id, object_id=key_id, resource_type="api_key", lock=True
    )
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await session.flush()
    return row


async def record_api_key_use(*, session: AsyncSession, used: dict[str, datetime]) -> None:
    """Move each key's last_used_at forward to the given time (never back)."""
    moment = case(used, value=ApiKeyRow.id)
    await session.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.id.in_(list(used)))
        .values(last_used_at=func.greatest(func.coalesce(ApiKeyRow.last_used_at, moment), moment))
        .execution_options(synchronize_session=False)
    )


# -- processor configurations ------------------------------------------------------------


async def set_processor_config(
    *,
    session: AsyncSession,
    cipher: CredentialCipher,
    merchant_id: str,
    processor: str,
    credentials: dict[str, str],
    enabled: bool,
) -> ProcessorConfigRow:
    sealed = cipher.seal(merchant_id, credentials)
    values = {
        "enabled": enabled,
        "key_id": sealed.key_id,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
        "masked": {name: mask(value) for name, value in credentials.items()},
    }
    statement = insert(ProcessorConfigRow).values(merchant_id=merchant_id, processor=processor, **values)
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ProcessorConfigRow.merchant_id, ProcessorConfigRow.processor],
            set_={**values, "updated_at": func.now()},
        )
        .returning(ProcessorConfigRow)
        .execution_options(populate_existing=True)
    )
    row: ProcessorConfigRow = result.scalar_one()
    return row


async def get_processor_config(*, session: AsyncSession, merchant_id: str, processor: str) -> ProcessorConfigRow | None:
    return await session.get(ProcessorConfigRow, (merchant_id, processor))


async def list_processor_configs(*, session: AsyncSession, merchant_id: str) -> list[ProcessorConfigRow]:
    query = (
        select(ProcessorConfigRow)
        .where(ProcessorConfigRow.merchant_id == merchant_id)
        .order_by(ProcessorConfigRow.processor)
    )
    return list(await session.scalars(query))


async def enabled_processors(*, session: AsyncSession, merchant_id: str) -> list[str]:
    query = select(ProcessorConfigRow.processor).where(
        ProcessorConfigRow.merchant_id == merchant_id, ProcessorConfigRow.enabled.is_(True)
    )
    return sorted(await session.scalars(query))


# -- routing rules ----------------------------------------------------------------------


async def create_routing_rule(
    *, session: AsyncSession, merchant_id: str, priority: int, conditions: dict[str, Any], action: dict[str, Any]
) -> RoutingRuleRow:
    row = RoutingRuleRow(
        id=new_id("rr"), merchant_id=merchant_id, priority=priority, conditions=conditions, action=action
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def list_routing_rules(*, session: AsyncSession, merchant_id: str) -> list[RoutingRuleRow]:
    """By ascending priority; ties by age (the router's order too)."""
    query = (
        select(RoutingRuleRow)
        .where(RoutingRuleRow.merchant_id == merchant_id)
        .order_by(RoutingRuleRow.priority, RoutingRuleRow.created_at, RoutingRuleRow.id)
    )
    return list(await session.scalars(query))


async def _delete_owned(
    *, session: AsyncSession, model: type[Row], merchant_id: str, object_id: str, resource_type: str
) -> Row:
    row = await _owned_or_raise(
        session=session,
        model=model,
        merchant_id=merchant_id,
        object_id=object_id,
        resource_type=resource_type,
        lock=True,
    )
    await session.delete(row)
    await session.flush()
    return row


async def delete_routing_rule(*, session: AsyncSession, merchant_id: str, rule_id: str) -> RoutingRuleRow:
    return await _delete_owned(
        session=session, model=RoutingRuleRow, merchant_id=merchant_id, object_id=rule_id, resource_type="routing_rule"
    )


# -- webhook endpoints -------------------------------------------------------------------


def webhook_secret_context(endpoint_id: str) -> str:
    """What a webhook signing secret is sealed to, beside its merchant."""
    return f"webhook_endpoint:{endpoint_id}"


async def create_webhook_endpoint(
    *, session: AsyncSession, cipher: CredentialCipher, merchant_id: str, url: str, events: list[str], secret: str
) -> WebhookEndpointRow:
    endpoint_id = new_id("we")
    sealed = cipher.seal(merchant_id, {"secret": secret}, context=webhook_secret_context(endpoint_id))
    row = WebhookEndpointRow(
        id=endpoint_id,
        merchant_id=merchant_id,
        url=url,
        events=events,
        key_id=sealed.key_id,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def list_webhook_endpoints(*, session: AsyncSession, merchant_id: str) -> list[WebhookEndpointRow]:
    query = (
        select(WebhookEndpointRow)
        .where(WebhookEndpointRow.merchant_id == merchant_id)
        .order_by(WebhookEndpointRow.created_at, WebhookEndpointRow.id)
    )
    return list(await session.scalars(query))


async def delete_webhook_endpoint(*, session: AsyncSession, merchant_id: str, endpoint_id: str) -> WebhookEndpointRow:
    return await _delete_owned(
        session=session,
        model=WebhookEndpointRow,
        merchant_id=merchant_id,
        object_id=endpoint_id,
        resource_type="webhook_endpoint",
    )


# -- sealed values (key rotation) ----------------------------------------------------------


def sealed_of(row: SealedRow) -> Sealed:
    return Sealed(row.key_id, row.nonce, row.ciphertext)


def sealed_context(row: SealedRow) -> str:
    return webhook_secret_context(row.id) if isinstance(row, WebhookEndpointRow) else ""


PRIMARY_KEYS: dict[type[SealedRow], tuple[InstrumentedAttribute[str], ...]] = {
    ProcessorConfigRow: (ProcessorConfigRow.merchant_id, ProcessorConfigRow.processor),
    WebhookEndpointRow: (WebhookEndpointRow.id,),
}


def primary_key(row: SealedRow) -> tuple[str, ...]:
    return tuple(getattr(row, column.key) for column in PRIMARY_KEYS[type(row)])


async def rows_sealed_under_other_keys(
    *,
    session: AsyncSession,
    model: type[SealedRow],
    active_key_id: str,
    after: tuple[str, ...] | None,
    limit: int,
) -> list[SealedRow]:
    """The next `limit` rows (by primary key, after `after`) not sealed under the active
    key, locked for update; rows another transaction holds are skipped (it is writing
    them, under the active key)."""
    columns = PRIMARY_KEYS[model]
    key = tuple_(*columns)
    query: Select[Any] = select(model).where(model.key_id != active_key_id)
    if after is not None:
        query = query.where(key > tuple_(*(literal(part) for part in after)))
    query = query.order_by(*columns).limit(limit).with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def count_sealed_under_other_keys(*, session: AsyncSession, model: type[SealedRow], active_key_id: str) -> int:
    found = await session.scalar(select(func.count()).select_from(model).where(model.key_id != active_key_id))
    return int(found or 0)


def store_sealed(row: SealedRow, sealed: Sealed) -> None:
    row.key_id, row.nonce, row.ciphertext = sealed.key_id, sealed.nonce, sealed.ciphertext
