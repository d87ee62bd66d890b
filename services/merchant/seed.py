"""Seed a demo merchant for local use: `python -m services.merchant.seed --key-file F`.

Creates (once) a test-mode merchant with the sandbox processors enabled and an API
key, keeps the key in F (mode 0600) so later runs print the same one, and prints
{"merchant_id": ..., "api_key": ...} as one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import secrets
import sys

from services.common.db import create_engine, session_factory
from services.merchant import repository
from services.merchant.authenticator import ApiKeyAuthenticator
from services.merchant.config import Settings
from services.merchant.credentials import CredentialCipher
from services.merchant.keys import issue_key


def sandbox_credentials() -> dict[str, dict[str, str]]:
    return {
        "stripe": {
            "secretKey": "sk_test_" + secrets.token_hex(12),
            "webhookSecret": "whsec_" + secrets.token_hex(16),
        },
        "razorpay": {
            "keyId": "rzp_test_" + secrets.token_hex(7),
            "keySecret": secrets.token_hex(12),
            "webhookSecret": secrets.token_hex(16),
        },
    }


async def seed(settings: Settings, key_file: pathlib.Path) -> dict[str, str]:
    engine = create_engine(settings)
    sessions = session_factory(engine)
    try:
        if key_file.exists():
            known = json.loads(key_file.read_text())
            checker = ApiKeyAuthenticator(sessions, hmac_secret=settings.api_key_hmac_secret, cache_seconds=0)
            if await checker.authenticate(known["api_key"]) is not None:
                return {"merchant_id": known["merchant_id"], "api_key": known["api_key"]}
        cipher = CredentialCipher(settings.credential_keys, settings.credential_active_key_id)
        issued = issue_key("test")
        async with sessions.begin() as session:
            merchant = await repository.create_merchant(session=session, name="Demo Merchant")
            await repository.create_api_key(
                session=session,
                merchant_id=merchant.id,
                issued=issued,
                hmac_secret=settings.api_key_hmac_secret,
                name="demo",
            )
            for processor, credentials in sandbox_credentials().items():
                await repository.set_processor_config(
                    session=session,
                    cipher=cipher,
                    merchant_id=merchant.id,
                    processor=processor,
                    credentials=credentials,
                    enabled=True,
                )
        result = {"merchant_id": merchant.id, "api_key": issued.secret}
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(result, out)
        return result
    finally:
        await engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--key-file", type=pathlib.Path, required=True)
    args = ap.parse_args()
    settings = Settings(port=1)  # the seed serves nothing; the rest comes from the environment
    print(json.dumps(asyncio.run(seed(settings, args.key_file))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
