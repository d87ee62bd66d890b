"""Runs the TypeScript SDK's own checks and its Node test suite against the session's platform:
`npm ci` (when node_modules is missing or older than package-lock.json), `npm run lint`,
`npm run build`, `npm pack`, then `npm test` with the platform's address and a fresh
merchant's API key and dashboard token in the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from launcher.platform import Platform
from tests.merchant.helpers import set_up_merchant

SDK = Path(__file__).resolve().parents[2] / "clients" / "typescript"
TAIL = 20_000  # characters of output shown when a step fails


def npm(*args: str, timeout: float, env: dict[str, str] | None = None) -> str:
    npm_path = shutil.which("npm")
    assert npm_path, "the TypeScript SDK tests need Node.js (>= 18) and npm on PATH"
    command = [npm_path, *args]
    try:
        done = subprocess.run(command, cwd=SDK, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"npm {' '.join(args)} took longer than {timeout} s\n{expired.stdout!r}\n{expired.stderr!r}")
    output = f"--- stdout ---\n{done.stdout[-TAIL:]}\n--- stderr ---\n{done.stderr[-TAIL:]}"
    assert done.returncode == 0, f"npm {' '.join(args)} exited {done.returncode}\n{output}"
    return done.stdout


def dependencies_stale() -> bool:
    """npm records what it installed in node_modules/.package-lock.json."""
    installed = SDK / "node_modules" / ".package-lock.json"
    return not installed.exists() or installed.stat().st_mtime < (SDK / "package-lock.json").stat().st_mtime


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDK, linted and built, packed as npm would publish it."""
    if dependencies_stale():
        npm("ci", "--no-audit", "--no-fund", timeout=600)
    npm("run", "lint", timeout=300)
    npm("run", "build", timeout=300)
    into = tmp_path_factory.mktemp("sdk-pack")
    packed = json.loads(npm("pack", "--json", "--pack-destination", str(into), timeout=120))
    files = {entry["path"] for entry in packed[0]["files"]}
    assert {"dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/package.json"} <= files, files
    filename: str = packed[0]["filename"]
    return into / filename


def test_package_has_no_runtime_dependencies() -> None:
    manifest = json.loads((SDK / "package.json").read_text())
    assert not manifest.get("dependencies"), manifest.get("dependencies")
    exports = manifest["exports"]["."]
    assert {"import", "require"} <= set(exports) and all("types" in exports[kind] for kind in ("import", "require"))


def test_sdk_against_the_platform(platform: Platform, tarball: Path) -> None:
    merchant = set_up_merchant(platform)
    env = {
        **os.environ,
        "PAYLOOPS_BASE_URL": platform.gateway_url,
        "PAYLOOPS_API_KEY": merchant.api_key,
        "PAYLOOPS_DASHBOARD_TOKEN": merchant.account.token,
        "PAYLOOPS_SDK_TARBALL": str(tarball),
    }
    npm("test", timeout=900, env=env)
