"""The dashboard's web server (aiohttp): the page, its bundled script, JSON endpoints and a
server-sent event stream.

``GET /api/events`` sends ``event: changed`` with ``{"version": n, "chains": [...]}`` at once
and then whenever anything shown may have changed (a new block on any chain, a manifest
written); the page then re-fetches what it shows. A poller checks every ``POLL_S`` seconds.
Reads run in a worker thread (web3 is synchronous) and are memoised per version, so any
number of open pages cost one set of chain reads per change.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from accord.dashboard.data import Dashboard
from accord.errors import AccordError
from accord.service.http import LOOPBACK, BackgroundHttpServer, HttpServiceError

log = logging.getLogger("accord.dashboard")

HERE = Path(__file__).resolve().parent
WEB = HERE / "web"
STATIC = HERE / "static"
BUNDLE = STATIC / "app.js"
POLL_S = 0.5
KEEPALIVE_S = 15.0
# The page loads only its own bundle: no inline script, no other origin. Chain strings are set
# as text, and even a mistake there could not run script under this policy.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")


class DashboardError(AccordError):
    """The dashboard cannot start; the message says what to do."""


def check_bundle() -> None:
    if not BUNDLE.is_file():
        raise DashboardError(f"the dashboard's script bundle {BUNDLE} is missing; run "
                             "'make setup' (it bundles it with esbuild)")


class Hub:
    """The version counter the poller bumps and SSE streams wait on."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.version = 0
        self.fingerprint: Any = None
        self.changed = asyncio.Event()
        self.closing = False
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._cache_version = -1

    async def poll_forever(self) -> None:
        while not self.closing:
            try:
                fp = await asyncio.to_thread(self.dashboard.refresh)
            except Exception as exc:  # never let the poller die
                log.warning("dashboard poll failed: %s", exc)
                fp = self.fingerprint
            if fp != self.fingerprint:
                self.fingerprint = fp
                self.version += 1
                self.changed.set()
                self.changed = asyncio.Event()
            await asyncio.sleep(POLL_S)

    async def read(self, key: tuple[Any, ...], fn: Callable[[], Any]) -> Any:
        """fn() in a worker thread, memoised until the next version."""
        if self._cache_version != self.version:
            self._cache = {}
            self._cache_version = self.version
        if key not in self._cache:
            self._cache[key] = await asyncio.to_thread(fn)
        return self._cache[key]


HUB = web.AppKey("hub", Hub)
ALLOWED_HOSTS = web.AppKey("allowed_hosts", set)
POLLER = web.AppKey("poller", asyncio.Task)


def _json(data: Any) -> web.Response:
    return web.json_response(data, dumps=lambda d: json.dumps(d, separators=(",", ":")))


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB / "index.html")


def _listing(view: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /api/<view>``: the Dashboard method of that name, memoised per version."""

    async def handler(request: web.Request) -> web.Response:
        hub = request.app[HUB]
        return _json(await hub.read((view,), getattr(hub.dashboard, view)))

    return handler


async def api_run(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    chain = request.match_info["chain"]
    try:
        run_id = int(request.match_info["run"])
    except ValueError:
        raise web.HTTPNotFound(text="run ids are integers") from None
    run = await hub.read(("run", chain, run_id), lambda: hub.dashboard.run(chain, run_id))
    if run is None:
        raise web.HTTPNotFound(text=f"no run {run_id} on {chain}")
    return _json(run)


async def api_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``changed`` with the version and chain heads."""
    hub = request.app[HUB]
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache",
                                       "X-Accel-Buffering": "no"})
    await resp.prepare(request)
    sent = -1
    try:
        while not hub.closing:
            if hub.version != sent:
                sent = hub.version
                chains = await hub.read(("chains",), hub.dashboard.chains)
                body = json.dumps({"version": sent, "chains": chains})
                await resp.write(f"event: changed\nid: {sent}\ndata: {body}\n\n".encode())
                continue
            try:
                await asyncio.wait_for(hub.changed.wait(), KEEPALIVE_S)
            except TimeoutError:
                await resp.write(b": keepalive\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return resp


@web.middleware
async def headers(request: web.Request,
                  handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    """Security headers on every answer; on loopback, refuse foreign Host headers (a web page
    elsewhere cannot read the dashboard through DNS rebinding)."""
    allowed = request.app[ALLOWED_HOSTS]
    if allowed and request.host not in allowed:
        raise web.HTTPForbidden(text="unexpected Host header")
    resp = await handler(request)
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def make_app(dashboard: Dashboard) -> web.Application:
    app = web.Application(middlewares=[headers])
    app[ALLOWED_HOSTS] = set()  # filled once the port is known (loopback only)
    hub = Hub(dashboard)
    app[HUB] = hub
    app.router.add_get("/", index)
    for view in ("chains", "runs", "agents", "messages"):
        app.router.add_get(f"/api/{view}", _listing(view))
    app.router.add_get(r"/api/runs/{chain}/{run}", api_run)
    app.router.add_get("/api/events", api_events)
    app.router.add_static("/static/", STATIC)

    async def start_poller(app: web.Application) -> None:
        app[POLLER] = asyncio.ensure_future(hub.poll_forever())

    async def stop_poller(app: web.Application) -> None:
        hub.closing = True
        hub.changed.set()  # wake every stream so it returns
        app[POLLER].cancel()

    app.on_startup.append(start_poller)
    app.on_shutdown.append(stop_poller)
    return app



class DashboardServer:
    """The dashboard on its own thread and event loop: ``start()`` returns the URL once it
    listens; ``stop()`` closes it. Used by ``accord dashboard`` and ``accord demo
    --dashboard``."""

    def __init__(self, dashboard: Dashboard, host: str = "127.0.0.1", port: int = 0) -> None:
        self.dashboard = dashboard
        self.host = host
        self._server = BackgroundHttpServer(lambda: make_app(dashboard), host, port,
                                            name="the dashboard", on_listening=self._listening)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> str:
        check_bundle()
        try:
            return self._server.start()
        except HttpServiceError as exc:
            raise DashboardError(str(exc).replace("pick another port", "pick another --port")
                                 ) from None

    def stop(self) -> None:
        self._server.stop()

    def _listening(self, app: web.Application, port: int) -> None:
        if self.host in LOOPBACK:
            app[ALLOWED_HOSTS].update(f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]"))

    def __enter__(self) -> DashboardServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
