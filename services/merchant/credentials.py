"""Secrets at rest (processor credentials, webhook signing secrets): AES-256-GCM, a
random 96-bit nonce per value, the key id stored beside the ciphertext for rotation,
and the merchant id (plus, for other kinds of secret, the owning object) as associated
data, so a ciphertext copied into another merchant's or object's row does not decrypt."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class CredentialsUnreadable(Exception):
    """A ciphertext that fails authentication or names an unknown key."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class CredentialCipher:
    def __init__(self, keys: dict[str, str], active_key_id: str) -> None:
        self.keys = {key_id: base64.b64decode(value) for key_id, value in keys.items()}
        if any(len(key) != 32 for key in self.keys.values()):
            raise ValueError("credential keys must be 32 bytes (AES-256)")
        if active_key_id not in self.keys:
            raise ValueError("the active credential key id must name one of the keys")
        self.active_key_id = active_key_id

    def seal(self, merchant_id: str, credentials: dict[str, str], *, context: str = "") -> Sealed:
        """`context` names the owning object when it is not the merchant's processor
        configuration (e.g. "webhook_endpoint:we_..."); the same must be given to open()."""
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(credentials, sort_keys=True).encode()
        ciphertext = AESGCM(self.keys[self.active_key_id]).encrypt(nonce, plaintext, _aad(merchant_id, context))
        return Sealed(self.active_key_id, nonce, ciphertext)

    def open(self, merchant_id: str, sealed: Sealed, *, context: str = "") -> dict[str, str]:
        key = self.keys.get(sealed.key_id)
        if key is None:
            raise CredentialsUnreadable(f"unknown credential key id {sealed.key_id!r}")
        try:
            plaintext = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, _aad(merchant_id, context))
        except InvalidTag:
            raise CredentialsUnreadable("credentials failed authentication") from None
        loaded: dict[str, str] = json.loads(plaintext)
        return loaded

    def reseal(self, merchant_id: str, sealed: Sealed, *, context: str = "") -> Sealed:
        """The same secret under the active key (a key rotation)."""
        return self.seal(merchant_id, self.open(merchant_id, sealed, context=context), context=context)


def _aad(merchant_id: str, context: str) -> bytes:
    # Processor configurations use the bare merchant id (the original format).
    return merchant_id.encode() if not context else f"{merchant_id}\x00{context}".encode()


def mask(value: str) -> str:
    return "•" * max(len(value) - 4, 4) + value[-4:] if len(value) > 4 else "•" * 4
