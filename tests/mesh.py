"""Mesh helpers for tests."""

from __future__ import annotations

from typing import Any

# Settings built in a test that opens no connection still need the mesh's files named.
UNUSED_MESH_FILES: dict[str, Any] = {"mesh_ca_file": "unused", "mesh_cert_file": "unused", "mesh_key_file": "unused"}
