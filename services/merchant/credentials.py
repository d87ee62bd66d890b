"""Processor credentials at rest: AES-256-GCM, a random 96-bit nonce per value, the
key id stored beside the ciphertext for rotation, and the merchant id as associated
data so a ciphertext copied into another merchant's row does not decrypt."""

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
        self.active_key_id = active_key_id

    def seal(self, merchant_id: str, credentials: dict[str, str]) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(credentials, sort_keys=True).encode()
        ciphertext = AESGCM(self.keys[self.active_key_id]).encrypt(nonce, plaintext, merchant_id.encode())
        return Sealed(self.active_key_id, nonce, ciphertext)

    def open(self, merchant_id: str, sealed: Sealed) -> dict[str, str]:
        key = self.keys.get(sealed.key_id)
        if key is None:
            raise CredentialsUnreadable(f"unknown credential key id {sealed.key_id!r}")
        try:
            plaintext = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, merchant_id.encode())
        except InvalidTag:
            raise CredentialsUnreadable("credentials failed authentication") from None
        loaded: dict[str, str] = json.loads(plaintext)
        return loaded


def mask(value: str) -> str:
    return "•" * max(len(value) - 4, 4) + value[-4:] if len(value) > 4 else "•" * 4
