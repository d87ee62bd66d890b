"""Showing credentials without revealing them."""

from __future__ import annotations

_VISIBLE_PREFIXES = ("sk_test_", "sk_live_", "whsec_")


def mask(secret: str) -> str:
    """For an API key "sk_test_****": the mode stays readable, nothing of the secret does."""
    visible = next((prefix for prefix in _VISIBLE_PREFIXES if secret.startswith(prefix)), "")
    return f"{visible}****"
