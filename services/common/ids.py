"""Opaque, prefixed, random identifiers ("ord_3kX9...")."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A prefixed id with ~142 bits of randomness at the default length."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
