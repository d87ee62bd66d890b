"""The OpenAPI 3.1 document of the public REST API, made from the protos' descriptor set:
every `google.api.http` binding of the public services, their messages in the proto3
JSON mapping the gateway prints (lowerCamelCase names, enums by name, 64-bit integers
as strings, every field printed), the field comments, the AIP-193 error shape, each
route's credential (the one rule the gateway applies, services/merchant/edge_policy.py)
and `Idempotency-Key` on the merchant API's POSTs. scripts/generate.py writes it, with
a Markdown rendering (docs/api-reference.md); the gateway serves it at /openapi.json
(gateway/openapi.json, beside the descriptor set)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2

from services.merchant.edge_policy import Access, decide

PUBLIC_SERVICES = (
    "payloops.order.v1.OrderService",
    "payloops.merchant.v1.MerchantService",
    "payloops.webhook.v1.WebhookService",
)
Json = dict[str, Any]

_SCALARS: dict[int, Json] = {
    descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE: {"type": "number", "format": "double"},
    descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT: {"type": "number", "format": "float"},
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: {"type": "string", "format": "int64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64: {"type": "string", "format": "uint64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: {"type": "integer", "format": "int32"},
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: {"type": "boolean"},
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: {"type": "string"},
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT32: {"type": "integer", "format": "int32"},
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT64: {"type": "string", "format": "int64"},
}
# Well-known types print as JSON values of their own (the proto3 JSON mapping).
_WELL_KNOWN: dict[str, Json] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.DoubleValue": {"type": ["number", "null"]},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
}
HTTP_BODY = "google.api.HttpBody"
STATUS_BY_REASON_FAMILY = {
    "400": "Bad input (INVALID_ARGUMENT, FAILED_PRECONDITION)",
    "401": "Missing or invalid credentials (UNAUTHENTICATED)",
    "403": "Not allowed (PERMISSION_DENIED)",
    "404": "No such object or route, or another merchant's (NOT_FOUND)",
    "409": "Conflict (ALREADY_EXISTS, ABORTED; IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_KEY_IN_USE)",
    "429": "Too many requests (RESOURCE_EXHAUSTED); see Retry-After",
    "501": "Not built yet (UNIMPLEMENTED)",
    "503": "A dependency is unavailable (UNAVAILABLE); safe to retry with the same Idempotency-Key",
}


@dataclass
class Protos:
    """The descriptor set's messages, enums and services by full name, with comments."""

    messages: dict[str, descriptor_pb2.DescriptorProto] = field(default_factory=dict)
    enums: dict[str, descriptor_pb2.EnumDescriptorProto] = field(default_factory=dict)
    services: dict[str, descriptor_pb2.ServiceDescriptorProto] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # full name (fields: msg.field) -> comment

    @classmethod
    def load(cls, data: bytes) -> Protos:
        files = descriptor_pb2.FileDescriptorSet()
        files.ParseFromString(data)
        protos = cls()
        for file in files.file:
            located = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
            for index, message in enumerate(file.message_type):
                protos.add_message(f"{file.package}.{message.name}", message, (4, index), located)
            for index, enum in enumerate(file.enum_type):
                protos.add_enum(f"{file.package}.{enum.name}", enum, (5, index), located)
            for index, service in enumerate(file.service):
                name = f"{file.package}.{service.name}"
                protos.services[name] = service
                for m, method in enumerate(service.method):
                    protos.note(f"{name}.{method.name}", located.get((6, index, 2, m)))
        return protos

    def note(self, name: str, comment: str | None) -> None:
        if comment and comment.strip():
            self.comments[name] = " ".join(line.strip() for line in comment.strip().splitlines())

    def add_message(
        self, name: str, message: descriptor_pb2.DescriptorProto, path: tuple[int, ...], located: dict[Any, str]
    ) -> None:
        self.messages[name] = message
        self.note(name, located.get(path))
        for index, each in enumerate(message.field):
            self.note(f"{name}.{each.name}", located.get((*path, 2, index)))
        for index, nested in enumerate(message.nested_type):
            self.add_message(f"{name}.{nested.name}", nested, (*path, 3, index), located)
        for index, enum in enumerate(message.enum_type):
            self.add_enum(f"{name}.{enum.name}", enum, (*path, 4, index), located)

    def add_enum(
        self, name: str, enum: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], located: dict[Any, str]
    ) -> None:
        self.enums[name] = enum
        self.note(name, located.get(path))
        for index, value in enumerate(enum.value):
            self.note(f"{name}.{value.name}", located.get((*path, 2, index)))


def is_map(message: descriptor_pb2.DescriptorProto) -> bool:
    return message.options.map_entry


def component_names(full_names: list[str]) -> dict[str, str]:
    """Each type's schema name: its own name; where two types share it, with the messages
    it is nested in (Order.Status -> OrderStatus); where that is shared too, with its
    package (google.rpc.Status -> GoogleRpcStatus)."""

    def nested(full_name: str) -> str:
        return "".join(p for p in full_name.split(".") if p[:1].isupper())

    def packaged(full_name: str) -> str:
        parts = full_name.split(".")
        package = [
            p.capitalize() for p in parts if p[:1].islower() and p != "payloops" and not re.fullmatch(r"v\d+", p)
        ]
        return "".join(package) + nested(full_name)

    names: dict[str, str] = {}
    for namer in (lambda n: n.rsplit(".", 1)[-1], nested, packaged):
        proposed = {n: namer(n) for n in full_names if n not in names}
        taken = list(names.values()) + list(proposed.values())
        names.update({n: name for n, name in proposed.items() if taken.count(name) == 1 or namer is packaged})
    return names


class Schemas:
    """components.schemas, filled with each message and enum a route reaches."""

    def __init__(self, protos: Protos) -> None:
        self.protos = protos
        self.components: Json = {}
        self.names = component_names([*protos.messages, *protos.enums])

    def ref(self, full_name: str) -> Json:
        if full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[full_name])
        name = self.names[full_name]
        if name not in self.components:
            self.components[name] = {}  # reserve first: messages may refer to themselves
            if full_name in self.protos.enums:
                self.components[name] = self.enum_schema(full_name)
            else:
                self.components[name] = self.message_schema(full_name)
        return {"$ref": f"#/components/schemas/{name}"}

    def enum_schema(self, full_name: str) -> Json:
        enum = self.protos.enums[full_name]
        schema: Json = {"type": "string", "enum": [value.name for value in enum.value]}
        described = [
            f"`{value.name}`: {self.protos.comments[f'{full_name}.{value.name}']}"
            for value in enum.value
            if f"{full_name}.{value.name}" in self.protos.comments
        ]
        intro = self.protos.comments.get(full_name, "")
        if intro or described:
            schema["description"] = "\n".join(line for line in [intro, *described] if line)
        return schema

    def message_schema(self, full_name: str, without: frozenset[str] = frozenset()) -> Json:
        message = self.protos.messages[full_name]
        properties: Json = {}
        for each in message.field:
            if each.name in without:
                continue
            properties[each.json_name] = self.field_schema(full_name, each)
        schema: Json = {"type": "object", "properties": properties}
        if full_name in self.protos.comments:
            schema["description"] = self.protos.comments[full_name]
        return schema

    def field_schema(self, owner: str, each: descriptor_pb2.FieldDescriptorProto) -> Json:
        schema = self.value_schema(each)
        repeated = each.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
        if repeated and not self.map_entry(each):
            schema = {"type": "array", "items": schema}
        comment = self.protos.comments.get(f"{owner}.{each.name}", "")
        behaviors = each.options.Extensions[field_behavior_pb2.field_behavior]
        if field_behavior_pb2.REQUIRED in behaviors:
            comment = f"Required. {comment}".strip()
        if field_behavior_pb2.OUTPUT_ONLY in behaviors:
            schema["readOnly"] = True
        if comment:
            schema["description"] = comment  # beside a $ref too: OpenAPI 3.1 allows it
        return schema

    def map_entry(self, each: descriptor_pb2.FieldDescriptorProto) -> descriptor_pb2.DescriptorProto | None:
        if each.type != descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
            return None
        entry = self.protos.messages.get(each.type_name.lstrip("."))
        return entry if entry is not None and is_map(entry) else None

    def value_schema(self, each: descriptor_pb2.FieldDescriptorProto) -> Json:
        entry = self.map_entry(each)
        if entry is not None:
            return {"type": "object", "additionalProperties": self.value_schema(entry.field[1])}
        if each.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
            return self.ref(each.type_name.lstrip("."))
        if each.type == descriptor_pb2.FieldDescriptorProto.TYPE_ENUM:
            return self.ref(each.type_name.lstrip("."))
        return dict(_SCALARS[each.type])


@dataclass(frozen=True)
class Binding:
    verb: str
    path: str  # the proto template, e.g. /v1/orders/{id}
    body: str
    response_body: str


def bindings(rule: http_pb2.HttpRule) -> Iterator[Binding]:
    pattern = rule.WhichOneof("pattern")
    if pattern and pattern != "custom":
        yield Binding(pattern, getattr(rule, pattern), rule.body, rule.response_body)
    for extra in rule.additional_bindings:
        yield from bindings(extra)


def path_fields(template: str) -> list[str]:
    return re.findall(r"\{([a-z0-9_.]+)(?:=[^}]*)?\}", template)


def openapi_path(template: str, protos_fields: dict[str, str]) -> str:
    return re.sub(
        r"\{([a-z0-9_.]+)(?:=[^}]*)?\}", lambda m: "{" + protos_fields.get(m.group(1), m.group(1)) + "}", template
    )


def security(path: str) -> list[Json]:
    access = decide(path).access
    if access is Access.API_KEY:
        return [{"apiKey": []}]
    if access is Access.DASHBOARD:
        return [{"dashboardToken": []}]
    return []


def error_responses(verb: str) -> Json:
    responses: Json = {code: {"$ref": f"#/components/responses/{code}"} for code in STATUS_BY_REASON_FAMILY}
    if verb == "get":
        responses.pop("409")
    return responses


class Document:
    def __init__(self, protos: Protos) -> None:
        self.protos = protos
        self.schemas = Schemas(protos)

    def operation(self, service: str, method: descriptor_pb2.MethodDescriptorProto, binding: Binding, n: int) -> Json:
        request_name = method.input_type.lstrip(".")
        request = self.protos.messages[request_name]
        by_name = {f.name: f for f in request.field}
        in_path = path_fields(binding.path)
        operation: Json = {
            "operationId": f"{method.name}{n or ''}",
            "tags": [service.rsplit(".", 1)[-1]],
            "summary": self.protos.comments.get(f"{service}.{method.name}", method.name),
            "security": security(binding.path),
        }
        parameters: list[Json] = [
            {
                "name": by_name[name].json_name if name in by_name else name,
                "in": "path",
                "required": True,
                "schema": self.schemas.value_schema(by_name[name]) if name in by_name else {"type": "string"},
            }
            for name in in_path
        ]
        if binding.body == "*":
            operation["requestBody"] = self.request_body(request_name, frozenset(in_path))
        elif binding.body:
            operation["requestBody"] = self.field_body(request_name, by_name[binding.body])
        else:
            parameters += self.query_parameters(request_name, exclude=frozenset(in_path))
        if binding.verb == "post" and binding.path.startswith("/v1/"):
            parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
        if parameters:
            operation["parameters"] = parameters
        operation["responses"] = {"200": self.response(method.output_type.lstrip("."), binding.response_body)}
        operation["responses"].update(error_responses(binding.verb))
        return operation

    def request_body(self, request_name: str, without: frozenset[str]) -> Json:
        if request_name == HTTP_BODY:
            return {"required": True, "content": {"*/*": {"schema": {"type": "string"}}}}
        schema = self.schemas.message_schema(request_name, without)
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def field_body(self, request_name: str, each: descriptor_pb2.FieldDescriptorProto) -> Json:
        if each.type_name.lstrip(".") == HTTP_BODY:
            return {"required": True, "content": {"*/*": {"schema": {"type": "string"}}}}
        schema = self.schemas.field_schema(request_name, each)
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def query_parameters(self, request_name: str, exclude: frozenset[str]) -> list[Json]:
        """Every field not in the path, but nested messages (which have no query form)."""
        found = []
        for each in self.protos.messages[request_name].field:
            nested = each.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
            if each.name in exclude or (nested and each.type_name.lstrip(".") not in _WELL_KNOWN):
                continue
            schema = self.schemas.field_schema(request_name, each)
            parameter: Json = {"name": each.json_name, "in": "query", "schema": schema}
            if each.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
                parameter.update(style="form", explode=True)
            found.append(parameter)
        return found

    def response(self, response_name: str, response_body: str) -> Json:
        if response_name == HTTP_BODY:
            return {"description": "OK", "content": {"*/*": {"schema": {"type": "string"}}}}
        if response_body:
            message = self.protos.messages[response_name]
            each = next(f for f in message.field if f.name == response_body)
            schema = self.schemas.field_schema(response_name, each)
        else:
            schema = self.schemas.ref(response_name)
        return {"description": "OK", "content": {"application/json": {"schema": schema}}}

    def build(self, title: str, version: str) -> Json:
        paths: Json = {}
        for service in PUBLIC_SERVICES:
            for method in self.protos.services[service].method:
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                fields = {f.name: f.json_name for f in self.protos.messages[method.input_type.lstrip(".")].field}
                for n, binding in enumerate(bindings(method.options.Extensions[annotations_pb2.http])):
                    path = openapi_path(binding.path, fields)
                    paths.setdefault(path, {})[binding.verb] = self.operation(service, method, binding, n)
        status = self.schemas.ref("google.rpc.Status")
        return {
            "openapi": "3.1.0",
            "info": {
                "title": title,
                "version": version,
                "description": (
                    "PayLoops' public REST API, generated from the protos (proto3 JSON mapping: lowerCamelCase "
                    "fields, enums by name, 64-bit integers as strings, every field printed). Errors are AIP-193 "
                    "google.rpc.Status bodies whose details carry a google.rpc.ErrorInfo with a stable `reason` and, "
                    "for bad fields, a google.rpc.BadRequest."
                ),
            },
            "servers": [{"url": "http://127.0.0.1:8080", "description": "payloops up"}],
            "tags": [
                {"name": s.rsplit(".", 1)[-1], "description": self.protos.comments.get(s, "")} for s in PUBLIC_SERVICES
            ],
            "paths": dict(sorted(paths.items())),
            "components": {
                "schemas": dict(sorted(self.schemas.components.items())),
                "securitySchemes": {
                    "apiKey": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "X-API-Key",
                        "description": "A secret API key (sk_test_… or sk_live_…): the merchant API, /v1/*.",
                    },
                    "dashboardToken": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": "A dashboard token from /api/auth/login or /api/auth/register: /api/*.",
                    },
                },
                "parameters": {
                    "IdempotencyKey": {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": (
                            "1-255 characters. The first request with a key is executed once; a retry with the same "
                            "key and body gets the stored answer; another body answers 409 IDEMPOTENCY_KEY_REUSED; "
                            "while the first is still running, 409 IDEMPOTENCY_KEY_IN_USE or its result."
                        ),
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                },
                "responses": {
                    code: {
                        "description": description,
                        "content": {"application/json": {"schema": status}},
                    }
                    for code, description in STATUS_BY_REASON_FAMILY.items()
                },
            },
        }


def openapi_document(descriptor_set: bytes, *, title: str = "PayLoops API", version: str = "v1") -> Json:
    return Document(Protos.load(descriptor_set)).build(title, version)


# -- the Markdown reference


def schema_type(schema: Json) -> str:
    """A short type for a table: `Order`, `string`, `array of Transaction`, `map of string`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {schema_type(schema['items'])}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {schema_type(schema['additionalProperties'])}"
    if isinstance(kind, list):
        kind = " or ".join(kind)
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def field_rows(properties: Json) -> list[str]:
    rows = ["| field | type | description |", "|---|---|---|"]
    rows += [
        f"| `{name}` | {schema_type(schema)} | {cell(schema.get('description', ''))} |"
        for name, schema in properties.items()
    ]
    return rows


def reference_markdown(document: Json) -> str:
    """The API reference: every route, then every schema, from the OpenAPI document."""
    lines = [
        "# PayLoops API reference",
        "",
        "Generated by `scripts/generate.py` from the protos, like [`openapi.json`](../gateway/openapi.json), which",
        "the gateway serves at `GET /openapi.json`. Do not edit by hand.",
        "",
        str(document["info"]["description"]),
        "",
        "Authentication: `X-API-Key: sk_test_…` on the merchant API (`/v1/*`); `Authorization: Bearer <token>` on",
        "the dashboard API (`/api/*`) but `/api/auth/*`; processor webhooks (`/webhooks/*`) carry the processor's",
        "signature. POSTs to `/v1/*` take an optional `Idempotency-Key` header.",
        "",
        "## Routes",
    ]
    for path, operations in document["paths"].items():
        for verb, operation in operations.items():
            auth = {"apiKey": "API key", "dashboardToken": "dashboard token"}
            needs = ", ".join(auth[name] for each in operation["security"] for name in each) or "none"
            lines += ["", f"### `{verb.upper()} {path}`", "", str(operation["summary"]), "", f"Auth: {needs}."]
            parameters = [p for p in operation.get("parameters", []) if "name" in p]
            if parameters:
                lines += ["", "| parameter | in | type | description |", "|---|---|---|---|"]
                lines += [
                    f"| `{p['name']}` | {p['in']} | {schema_type(p['schema'])} | "
                    f"{cell(p['schema'].get('description', ''))} |"
                    for p in parameters
                ]
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                schema = body["application/json"]["schema"]
                if "properties" in schema:
                    lines += ["", "Body:", "", *field_rows(schema["properties"])]
                else:
                    lines += ["", f"Body: {schema_type(schema)}"]
            elif body:
                lines += ["", "Body: the raw request body, byte for byte."]
            answer = operation["responses"]["200"].get("content", {})
            answered = schema_type(answer["application/json"]["schema"]) if "application/json" in answer else "raw"
            lines += ["", f"Returns: {answered}; errors: AIP-193 [Status](#status)."]
    lines += ["", "## Schemas"]
    for name, schema in document["components"]["schemas"].items():
        lines += ["", f"### {name}", ""]
        if schema.get("description") and "enum" not in schema:
            lines += [str(schema["description"]), ""]
        if "enum" in schema:
            lines += ["One of " + ", ".join(f"`{value}`" for value in schema["enum"]) + ".", ""]
            if schema.get("description"):
                lines += [cell(str(schema["description"])), ""]
        else:
            lines += field_rows(schema.get("properties", {}))
    return "\n".join(lines) + "\n"
