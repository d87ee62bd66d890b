"""Render the Envoy configuration template ``gateway/envoy.yaml``.

The template is plain ``string.Template`` text (``${NAME}`` placeholders, ``$$`` for a
literal dollar sign). :func:`render_envoy_config` checks every value before putting it
in, so a bad port or a quote in a path fails here with a clear message instead of as a
confusing Envoy start-up error. Validate a rendered file with
``envoy --mode validate -c <file>``.
"""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import PurePath

__all__ = ["DEFAULT_CORS_ORIGINS_REGEX", "PLACEHOLDERS", "load_template", "render_envoy_config"]

#: Every placeholder the template uses, and nothing else.
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "LISTEN_HOST",
        "LISTEN_PORT",
        "ADMIN_PORT",
        "DESCRIPTOR_SET",
        "OPENAPI_DOCUMENT",
        "MERCHANT_PORT",
        "ORDER_PORT",
        "WEBHOOK_PORT",
        "WEB_PORT",
        "MAX_REQUEST_BYTES",
        "CORS_ORIGINS_REGEX",
        "MESH_CA_FILE",
        "MESH_CERT_FILE",
        "MESH_KEY_FILE",
    }
)

#: Origins the dashboard may call ``/api/*`` from in development: any port on localhost.
#: Envoy matches the whole Origin value (RE2 full match), so no anchors are needed.
DEFAULT_CORS_ORIGINS_REGEX = r"https?://(localhost|127\.0\.0\.1)(:[0-9]+)?"

_TEMPLATE_NAME = "envoy.yaml"
OPENAPI_DOCUMENT = "openapi.json"  # beside the descriptor set
_MAX_UINT32 = 2**32 - 1


def load_template() -> str:
    """Return the raw template text shipped inside the ``gateway`` package."""
    return resources.files("gateway").joinpath(_TEMPLATE_NAME).read_text(encoding="utf-8")


def _port(name: str, value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError(f"{name} must be a TCP port (1-65535), got {value!r}")
    return str(value)


def _quoted(name: str, value: str) -> str:
    """Escape *value* for a single-quoted YAML scalar (the template supplies the quotes)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"{name} must be a single line, got {value!r}")
    return value.replace("'", "''")


def render_envoy_config(
    *,
    listen_host: str,
    listen_port: int,
    admin_port: int,
    descriptor_set: str,
    merchant_port: int,
    order_port: int,
    webhook_port: int,
    web_port: int,
    mesh_ca_file: str,
    mesh_cert_file: str,
    mesh_key_file: str,
    max_request_bytes: int = 1_048_576,
    cors_origins_regex: str = DEFAULT_CORS_ORIGINS_REGEX,
) -> str:
    """Render the gateway's Envoy configuration as YAML text.

    ``descriptor_set`` is the absolute path of the protobuf descriptor set built with
    imports (``buf build -o …binpb``), with the OpenAPI document (``openapi.json``, served
    at ``/openapi.json``) beside it; the upstream services listen on 127.0.0.1 at the
    given ports over mutual TLS with the gateway's mesh certificate (``mesh_*_file``,
    absolute paths; the web service, ``web_port``, over plain HTTP/1.1).
    ``max_request_bytes`` caps every request body (413 above it).
    ``cors_origins_regex`` is an RE2 pattern matched against the whole ``Origin`` header
    of dashboard (``/api/*``) requests.
    """
    if not PurePath(descriptor_set).is_absolute():
        raise ValueError(f"descriptor_set must be an absolute path, got {descriptor_set!r}")
    mesh_files = {"mesh_ca_file": mesh_ca_file, "mesh_cert_file": mesh_cert_file, "mesh_key_file": mesh_key_file}
    for name, path in mesh_files.items():
        if not PurePath(path).is_absolute():
            raise ValueError(f"{name} must be an absolute path, got {path!r}")
    if isinstance(max_request_bytes, bool) or not isinstance(max_request_bytes, int):
        raise ValueError(f"max_request_bytes must be an int, got {max_request_bytes!r}")
    if not 0 < max_request_bytes <= _MAX_UINT32:
        raise ValueError(f"max_request_bytes must be in 1..{_MAX_UINT32}, got {max_request_bytes}")
    try:
        re.compile(cors_origins_regex)
    except (re.error, TypeError) as exc:
        raise ValueError(f"cors_origins_regex is not a valid regular expression: {exc}") from exc
    values = {
        "LISTEN_HOST": _quoted("listen_host", listen_host),
        "LISTEN_PORT": _port("listen_port", listen_port),
        "ADMIN_PORT": _port("admin_port", admin_port),
        "DESCRIPTOR_SET": _quoted("descriptor_set", descriptor_set),
        "OPENAPI_DOCUMENT": _quoted("descriptor_set", str(PurePath(descriptor_set).parent / OPENAPI_DOCUMENT)),
        "MERCHANT_PORT": _port("merchant_port", merchant_port),
        "ORDER_PORT": _port("order_port", order_port),
        "WEBHOOK_PORT": _port("webhook_port", webhook_port),
        "WEB_PORT": _port("web_port", web_port),
        "MAX_REQUEST_BYTES": str(max_request_bytes),
        "CORS_ORIGINS_REGEX": _quoted("cors_origins_regex", cors_origins_regex),
        "MESH_CA_FILE": _quoted("mesh_ca_file", mesh_ca_file),
        "MESH_CERT_FILE": _quoted("mesh_cert_file", mesh_cert_file),
        "MESH_KEY_FILE": _quoted("mesh_key_file", mesh_key_file),
    }
    assert values.keys() == PLACEHOLDERS
    return string.Template(load_template()).substitute(values)
