"""Inbound processor webhooks: verify, record once, acknowledge, apply to the order."""
