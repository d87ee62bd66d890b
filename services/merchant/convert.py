"""Rows of the merchant service as protos (and routing rules both ways). Secrets
appear only where a caller passes them in explicitly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf import json_format
from payloops.merchant.v1 import merchant_pb2

from services.common.timestamps import optional_timestamp as timestamp
from services.merchant.models import ApiKeyRow, MerchantRow, ProcessorConfigRow, RoutingRuleRow, WebhookEndpointRow


def merchant_to_proto(row: MerchantRow) -> merchant_pb2.Merchant:
    return merchant_pb2.Merchant(
        id=row.id,
        name=row.name,
        email=row.email or "",
        webhook_url=row.webhook_url,
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
        retry_settings=retry_settings_to_proto(row),
    )


def retry_settings_to_proto(row: MerchantRow) -> merchant_pb2.RetrySettings:
    return json_format.ParseDict(row.retry_settings, merchant_pb2.RetrySettings(), ignore_unknown_fields=True)


def api_key_to_proto(row: ApiKeyRow, *, last_used: datetime | None) -> merchant_pb2.ApiKey:
    return merchant_pb2.ApiKey(
        id=row.id,
        prefix=row.display_prefix,
        mode=row.mode,
        name=row.name,
        create_time=timestamp(row.created_at),
        last_use_time=timestamp(last_used),
        revoke_time=timestamp(row.revoked_at),
    )


def processor_config_to_proto(row: ProcessorConfigRow) -> merchant_pb2.ProcessorConfig:
    return merchant_pb2.ProcessorConfig(
        processor=row.processor,
        enabled=row.enabled,
        masked_credentials=row.masked,
        update_time=timestamp(row.updated_at),
    )


def message_to_json(message: Any) -> dict[str, Any]:
    """Stored form of a rule's parts: proto3 JSON with proto field names."""
    stored: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return stored


def routing_rule_to_proto(row: RoutingRuleRow) -> merchant_pb2.RoutingRule:
    rule = merchant_pb2.RoutingRule(id=row.id, priority=row.priority, create_time=timestamp(row.created_at))
    json_format.ParseDict(row.conditions, rule.conditions, ignore_unknown_fields=True)
    json_format.ParseDict(row.action, rule.action, ignore_unknown_fields=True)
    return rule


def webhook_endpoint_to_proto(row: WebhookEndpointRow, *, secret: str = "") -> merchant_pb2.WebhookEndpoint:
    return merchant_pb2.WebhookEndpoint(
        id=row.id, url=row.url, events=row.events, secret=secret, create_time=timestamp(row.created_at)
    )
