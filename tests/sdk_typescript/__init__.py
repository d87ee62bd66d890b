"""The TypeScript SDK (clients/typescript), linted, built, packed and tested against the platform."""
