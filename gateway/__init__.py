"""The PayLoops edge gateway: the Envoy configuration template and its renderer."""

from gateway.render import DEFAULT_CORS_ORIGINS_REGEX, PLACEHOLDERS, load_template, render_envoy_config

__all__ = ["DEFAULT_CORS_ORIGINS_REGEX", "PLACEHOLDERS", "load_template", "render_envoy_config"]
