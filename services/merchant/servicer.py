"""MerchantService (the dashboard API): proto <-> domain only. The caller is the
merchant the gateway authenticated (x-payloops-merchant-id), except on Register and
Login, which are public."""

from __future__ import annotations

import ipaddress

from payloops.merchant.v1 import merchant_pb2, merchant_service_pb2, merchant_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.identity import Context, caller, metadata_value
from services.common.timestamps import optional_timestamp as timestamp
from services.merchant import repository
from services.merchant.accounts import Accounts
from services.merchant.authenticator import ApiKeyAuthenticator
from services.merchant.catalogue import events_violations, new_webhook_secret, processor_violations
from services.merchant.convert import (
    api_key_to_proto,
    merchant_to_proto,
    message_to_json,
    processor_config_to_proto,
    routing_rule_to_proto,
    webhook_endpoint_to_proto,
)
from services.merchant.credentials import CredentialCipher
from services.merchant.keys import MODES, issue_key
from services.merchant.routing_view import RoutingView
from services.merchant.usage import KeyUsage
from services.merchant.validation import check, choice_violations, name_violations, required, url_violations
from services.router.convert import retry_settings_violations, rule_violations

# Set by the gateway (edge: use_remote_address) to the client's address; a client's own
# value is replaced. Direct callers (inside the mesh) fall back to the peer address.
CLIENT_ADDRESS_HEADER = "x-envoy-external-address"

svc = merchant_service_pb2


def client_address(context: Context) -> str:
    candidate = metadata_value(context, CLIENT_ADDRESS_HEADER)
    if not candidate:
        peer = context.peer() or ""
        candidate = peer.partition(":")[2].rpartition(":")[0].strip("[]")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return "unknown"


def required_id(value: str) -> str:
    check(("INVALID_ARGUMENT", required(value, "id")))
    return value


class MerchantServicer(merchant_service_pb2_grpc.MerchantServiceServicer):
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        accounts: Accounts,
        cipher: CredentialCipher,
        api_keys: ApiKeyAuthenticator,
        usage: KeyUsage,
        routing: RoutingView,
        allow_loopback: bool = False,
    ) -> None:
        self.routing = routing
        self.allow_loopback = allow_loopback  # webhook URLs on loopback (development only)
        self.sessions = sessions
        self.accounts = accounts
        self.cipher = cipher
        self.api_keys = api_keys
        self.usage = usage

    # -- accounts -------------------------------------------------------------------------

    async def Register(self, request: svc.RegisterRequest, context: Context) -> svc.RegisterResponse:
        registered = await self.accounts.register(
            email=request.email, password=request.password, name=request.name, client=client_address(context)
        )
        return svc.RegisterResponse(
            merchant=merchant_to_proto(registered.merchant),
            token=registered.token.token,
            expire_time=timestamp(registered.token.expires_at),
        )

    async def Login(self, request: svc.LoginRequest, context: Context) -> svc.LoginResponse:
        issued = await self.accounts.login(
            email=request.email, password=request.password, client=client_address(context)
        )
        return svc.LoginResponse(token=issued.token, expire_time=timestamp(issued.expires_at))

    async def GetMerchant(self, request: svc.GetMerchantRequest, context: Context) -> merchant_pb2.Merchant:
        async with self.sessions() as session:
            row = await repository.get_merchant_or_raise(session=session, merchant_id=caller(context).merchant_id)
        return merchant_to_proto(row)

    async def UpdateMerchant(self, request: svc.UpdateMerchantRequest, context: Context) -> merchant_pb2.Merchant:
        who = caller(context)
        name = request.name if request.HasField("name") else None
        webhook_url = request.webhook_url if request.HasField("webhook_url") else None
        retry = request.retry_settings if request.HasField("retry_settings") else None
        check(
            ("NAME_INVALID", name_violations(name) if name is not None else []),
            (
                "URL_INVALID",
                url_violations(webhook_url or "", "webhook_url", allow_empty=True, allow_loopback=self.allow_loopback),
            ),
            ("RETRY_SETTINGS_INVALID", retry_settings_violations(retry, prefix="retry_settings.") if retry else []),
        )
        async with self.sessions.begin() as session:
            row = await repository.update_merchant(
                session=session,
                merchant_id=who.merchant_id,
                name=name.strip() if name is not None else None,
                webhook_url=webhook_url,
                retry_settings=message_to_json(retry) if retry is not None else None,
            )
        return merchant_to_proto(row)

    # -- API keys -------------------------------------------------------------------------

    async def ListApiKeys(self, request: svc.ListApiKeysRequest, context: Context) -> svc.ListApiKeysResponse:
        async with self.sessions() as session:
            rows = await repository.list_api_keys(session=session, merchant_id=caller(context).merchant_id)
        return svc.ListApiKeysResponse(
            api_keys=[api_key_to_proto(row, last_used=self.usage.last_used(row.id, row.last_used_at)) for row in rows]
        )

    async def CreateApiKey(self, request: svc.CreateApiKeyRequest, context: Context) -> svc.CreateApiKeyResponse:
        who = caller(context)
        check(
            ("API_KEY_MODE_INVALID", choice_violations(request.mode, MODES, "mode")),
            ("NAME_INVALID", name_violations(request.name) if request.name else []),
        )
        issued = issue_key(request.mode)
        async with self.sessions.begin() as session:
            row = await repository.create_api_key(
                session=session,
                merchant_id=who.merchant_id,
                issued=issued,
                hmac_secret=self.api_keys.hmac_secret,
                name=request.name.strip(),
            )
        return svc.CreateApiKeyResponse(api_key=api_key_to_proto(row, last_used=None), secret=issued.secret)

    async def RevokeApiKey(self, request: svc.RevokeApiKeyRequest, context: Context) -> merchant_pb2.ApiKey:
        who = caller(context)
        async with self.sessions.begin() as session:
            row = await repository.revoke_api_key(
                session=session, merchant_id=who.merchant_id, key_id=required_id(request.id)
            )
        self.api_keys.forget(row.lookup)  # this process's edge cache; the next request is refused
        return api_key_to_proto(row, last_used=self.usage.last_used(row.id, row.last_used_at))

    # -- processors -----------------------------------------------------------------------

    async def ListProcessorConfigs(
        self, request: svc.ListProcessorConfigsRequest, context: Context
    ) -> svc.ListProcessorConfigsResponse:
        async with self.sessions() as session:
            rows = await repository.list_processor_configs(session=session, merchant_id=caller(context).merchant_id)
        return svc.ListProcessorConfigsResponse(processors=[processor_config_to_proto(row) for row in rows])

    async def SetProcessorConfig(
        self, request: svc.SetProcessorConfigRequest, context: Context
    ) -> merchant_pb2.ProcessorConfig:
        who = caller(context)
        credentials = dict(request.credentials)
        check(("PROCESSOR_CONFIG_INVALID", processor_violations(request.processor, credentials)))
        async with self.sessions.begin() as session:
            row = await repository.set_processor_config(
                session=session,
                cipher=self.cipher,
                merchant_id=who.merchant_id,
                processor=request.processor,
                credentials=credentials,
                enabled=request.enabled if request.HasField("enabled") else True,
            )
        return processor_config_to_proto(row)

    # -- routing rules --------------------------------------------------------------------

    async def ListRoutingRules(
        self, request: svc.ListRoutingRulesRequest, context: Context
    ) -> svc.ListRoutingRulesResponse:
        async with self.sessions() as session:
            rows = await repository.list_routing_rules(session=session, merchant_id=caller(context).merchant_id)
        return svc.ListRoutingRulesResponse(routing_rules=[routing_rule_to_proto(row) for row in rows])

    async def CreateRoutingRule(
        self, request: svc.CreateRoutingRuleRequest, context: Context
    ) -> merchant_pb2.RoutingRule:
        who = caller(context)
        rule = request.routing_rule
        check(("ROUTING_RULE_INVALID", rule_violations(rule, prefix="routing_rule.")))
        async with self.sessions.begin() as session:
            row = await repository.create_routing_rule(
                session=session,
                merchant_id=who.merchant_id,
                priority=rule.priority,
                conditions=message_to_json(rule.conditions),
                action=message_to_json(rule.action),
            )
        return routing_rule_to_proto(row)

    async def DeleteRoutingRule(
        self, request: svc.DeleteRoutingRuleRequest, context: Context
    ) -> merchant_pb2.RoutingRule:
        who = caller(context)
        async with self.sessions.begin() as session:
            row = await repository.delete_routing_rule(
                session=session, merchant_id=who.merchant_id, rule_id=required_id(request.id)
            )
        return routing_rule_to_proto(row)

    async def SimulateRouting(
        self, request: svc.SimulateRoutingRequest, context: Context
    ) -> svc.SimulateRoutingResponse:
        return await self.routing.simulate(caller(context), request)

    async def GetRoutingStats(
        self, request: svc.GetRoutingStatsRequest, context: Context
    ) -> svc.GetRoutingStatsResponse:
        return await self.routing.stats(caller(context), request)

    # -- webhook endpoints ----------------------------------------------------------------

    async def ListWebhookEndpoints(
        self, request: svc.ListWebhookEndpointsRequest, context: Context
    ) -> svc.ListWebhookEndpointsResponse:
        async with self.sessions() as session:
            rows = await repository.list_webhook_endpoints(session=session, merchant_id=caller(context).merchant_id)
        return svc.ListWebhookEndpointsResponse(webhook_endpoints=[webhook_endpoint_to_proto(row) for row in rows])

    async def CreateWebhookEndpoint(
        self, request: svc.CreateWebhookEndpointRequest, context: Context
    ) -> merchant_pb2.WebhookEndpoint:
        who = caller(context)
        events = list(request.events)
        check(
            ("URL_INVALID", url_violations(request.url, allow_loopback=self.allow_loopback)),
            ("EVENT_TYPE_INVALID", events_violations(events)),
        )
        secret = new_webhook_secret()
        async with self.sessions.begin() as session:
            row = await repository.create_webhook_endpoint(
                session=session,
                cipher=self.cipher,
                merchant_id=who.merchant_id,
                url=request.url,
                events=events,
                secret=secret,
            )
        return webhook_endpoint_to_proto(row, secret=secret)

    async def DeleteWebhookEndpoint(
        self, request: svc.DeleteWebhookEndpointRequest, context: Context
    ) -> merchant_pb2.WebhookEndpoint:
        who = caller(context)
        async with self.sessions.begin() as session:
            row = await repository.delete_webhook_endpoint(
                session=session, merchant_id=who.merchant_id, endpoint_id=required_id(request.id)
            )
        return webhook_endpoint_to_proto(row)
