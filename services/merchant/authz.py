"""The gateway's authorization check (Envoy ext_authz, gRPC): who is calling. A path
the edge policy does not list is refused as the gateway refuses an unknown route (404
ROUTE_NOT_FOUND), whatever the credentials.

Allowed requests get the caller's identity as headers that overwrite anything the
client sent; every other identity header is removed, so a client can never set one.
The credentials themselves (X-API-Key, Authorization) are removed from every request:
no service ever sees them."""

from __future__ import annotations

import json

from google.rpc import code_pb2, status_pb2
from payloops.envoy.config.core.v3 import base_pb2
from payloops.envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from payloops.envoy.type.v3 import http_status_pb2

from services.common.errors import DOMAIN
from services.common.identity import MERCHANT_ID_HEADER, MODE_HEADER, PRINCIPAL_HEADER, PROCESSOR_HEADER, Context
from services.merchant.authenticator import ApiKeyAuthenticator
from services.merchant.edge_policy import Access, decide
from services.merchant.tokens import DashboardTokens, TokenRejected
from services.merchant.usage import KeyUsage

IDENTITY_HEADERS = (MERCHANT_ID_HEADER, MODE_HEADER, PRINCIPAL_HEADER, PROCESSOR_HEADER)
CREDENTIAL_HEADERS = ("x-api-key", "authorization")
OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
# The dashboard works on test-mode objects: /api/orders lists test orders. (Live-mode
# views would carry the mode in the token; nothing needs them yet.)
DASHBOARD_MODE = "test"


def allow(identity: dict[str, str]) -> external_auth_pb2.CheckResponse:
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code_pb2.OK),
        ok_response=external_auth_pb2.OkHttpResponse(
            headers=[
                base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=k, value=v), append_action=OVERWRITE)
                for k, v in identity.items()
            ],
            headers_to_remove=[*(h for h in IDENTITY_HEADERS if h not in identity), *CREDENTIAL_HEADERS],
        ),
    )


def deny(
    reason: str,
    message: str,
    code: int = code_pb2.UNAUTHENTICATED,
    http_status: http_status_pb2.StatusCode.ValueType = http_status_pb2.Unauthorized,
) -> external_auth_pb2.CheckResponse:
    body = {
        "code": code,
        "message": message,
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": DOMAIN}],
    }
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code, message=message),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=http_status),
            headers=[
                base_pb2.HeaderValueOption(
                    header=base_pb2.HeaderValue(key="content-type", value="application/json"),
                    append_action=OVERWRITE,
                )
            ],
            body=json.dumps(body),
        ),
    )


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class EdgeAuthorizer(external_auth_pb2_grpc.AuthorizationServicer):
    def __init__(self, api_keys: ApiKeyAuthenticator, tokens: DashboardTokens, usage: KeyUsage) -> None:
        self.api_keys = api_keys
        self.tokens = tokens
        self.usage = usage

    async def Check(self, request: external_auth_pb2.CheckRequest, context: Context) -> external_auth_pb2.CheckResponse:
        http = request.attributes.request.http
        decision = decide(http.path)
        if decision.access is Access.DENIED:
            # The gateway's own answer for an unknown route (gRPC clients see UNIMPLEMENTED).
            path = http.path.split("?", 1)[0]
            message = f"no such route: {http.method} {path}"
            return deny("ROUTE_NOT_FOUND", message, code_pb2.NOT_FOUND, http_status_pb2.NotFound)
        if decision.access is Access.PUBLIC:
            return allow({PROCESSOR_HEADER: decision.processor} if decision.processor else {})
        if decision.access is Access.DASHBOARD:
            return self._dashboard(http.headers.get("authorization", ""))
        api_key, authorization = http.headers.get("x-api-key", ""), http.headers.get("authorization", "")
        if not api_key and bearer_token(authorization):
            return self._dashboard(authorization)  # the dashboard acts on the merchant API for its owner
        return await self._api_key(api_key)

    def _dashboard(self, authorization: str) -> external_auth_pb2.CheckResponse:
        token = bearer_token(authorization)
        if not token:
            return deny(
                "BEARER_TOKEN_MISSING",
                "this route needs a dashboard token (Authorization: Bearer <token>); API keys work on /v1 only",
            )
        try:
            merchant_id = self.tokens.verify(token)
        except TokenRejected as rejected:
            return deny(rejected.reason, rejected.message)
        return allow({MERCHANT_ID_HEADER: merchant_id, MODE_HEADER: DASHBOARD_MODE, PRINCIPAL_HEADER: "dashboard"})

    async def _api_key(self, secret: str) -> external_auth_pb2.CheckResponse:
        if not secret:
            return deny("API_KEY_MISSING", "this route needs an API key (X-API-Key header) or a dashboard token")
        principal = await self.api_keys.authenticate(secret)
        if principal is None:
            return deny("API_KEY_INVALID", "the API key is not valid")
        self.usage.note(principal.key_id)
        return allow(
            {MERCHANT_ID_HEADER: principal.merchant_id, MODE_HEADER: principal.mode, PRINCIPAL_HEADER: "api_key"}
        )
