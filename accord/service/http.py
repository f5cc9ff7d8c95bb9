"""An aiohttp application served on a thread and event loop of its own, for the HTTP services
of a process that is otherwise synchronous (the dashboard, the result service):
``start()`` returns the URL once it listens, ``stop()`` closes it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web

from accord.errors import AccordError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class HttpServiceError(AccordError):
    """An HTTP service cannot start; the message says what to do."""


class BackgroundHttpServer:
    """Serve ``make_app()`` on ``host:port`` (0: any free port) from a daemon thread.
    ``on_listening(app, port)`` runs once the port is known, before ``start()`` returns."""

    def __init__(self, make_app: Callable[[], web.Application], host: str = "127.0.0.1",
                 port: int = 0, *, name: str = "accord-http",
                 on_listening: Callable[[web.Application, int], None] | None = None) -> None:
        self.make_app = make_app
        self.host = host
        self.port = port
        self.name = name
        self.url = ""
        self.on_listening = on_listening
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> str:
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise HttpServiceError(f"cannot serve {self.name} on {self.host}:{self.port}: "
                                   f"{self._error}; pick another port (0 = any free one)")
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> BackgroundHttpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._open())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._close())
        loop.close()

    async def _open(self) -> None:
        app = self.make_app()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.port
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}/"
        if self.on_listening is not None:
            self.on_listening(app, self.port)

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
