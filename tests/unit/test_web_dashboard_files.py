"""The web service's dashboard files: built assets as they are, the app's index.html for
every other path (a single-page app), nothing outside the build, and a clear page when
there is no build."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.web.app import Dashboard, build_app
from services.web.checkout import Checkout


async def client_for(root: Path) -> TestClient[web.Request, web.Application]:
    checkout = Checkout(None, None, return_wait_seconds=0, call_timeout=1)  # type: ignore[arg-type]
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(build_app(checkout, Dashboard(root))))
    await client.start_server()
    return client


async def test_assets_index_fallback_and_no_escape(tmp_path: Path) -> None:
    build = tmp_path / "build"
    (build / "_app" / "immutable").mkdir(parents=True)
    (build / "index.html").write_text("<!doctype html><div id=app></div><script>boot()</script>")
    (build / "_app" / "immutable" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not for the web")
    client = await client_for(build)
    try:
        asset = await client.get("/dashboard/_app/immutable/app.js")
        assert asset.status == 200 and "immutable" in asset.headers["Cache-Control"]
        page = await client.get("/dashboard/orders/ord_123")
        assert page.status == 200 and "boot()" in await page.text()
        csp = page.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        assert (await client.get("/dashboard/_app/missing.js")).status == 404
        escaped = await client.get("/dashboard/%2e%2e/secret.txt")
        assert "not for the web" not in await escaped.text()
        home = await client.get("/", allow_redirects=False)
        assert (home.status, home.headers["Location"]) == (302, "/dashboard/")
    finally:
        await client.close()


async def test_without_a_build_the_dashboard_says_how_to_make_one(tmp_path: Path) -> None:
    client = await client_for(tmp_path / "nothing")
    try:
        answer = await client.get("/dashboard/")
        assert answer.status == 503 and "set-up" in await answer.text()
    finally:
        await client.close()
