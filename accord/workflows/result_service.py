"""The HTTP result service: content-addressed blobs any operator can serve, so workflow
inputs and results cross machines and outlive the agents that produced them.

- ``PUT /blobs`` (body: the blob; ``Authorization: Bearer <token>``) stores it and answers
  ``201 {"hash": "0x<keccak256>", "uri": "<public URL>/blobs/<64 hex>"}``; a wrong or
  missing token gets 401 and stores nothing; a blob over the size limit gets 413.
- ``GET /blobs/<64 hex>`` (open to anyone) answers the blob, or 404. Readers verify it
  against the hash in the URI and the one on chain, so a lying or broken service is caught.
- ``GET /health`` answers ``ok``.

Behind it is a local :class:`~accord.workflows.result_store.ResultStore` directory.
``accord results serve`` runs it.
"""

from __future__ import annotations

import asyncio
import hmac
import re

from aiohttp import web

from accord.workflows.result_store import MAX_BLOB_BYTES, ResultStore

_HEX = re.compile(r"^[0-9a-f]{64}$")


def make_app(store: ResultStore, token: str, *, public_url: str | None = None,
             max_bytes: int = MAX_BLOB_BYTES) -> web.Application:
    """The service's aiohttp application over ``store``; PUT needs ``token``."""
    expected = f"Bearer {token}".encode()

    async def put_blob(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not token or not hmac.compare_digest(given, expected):
            return web.json_response({"error": "a PUT needs 'Authorization: Bearer <token>'"},
                                     status=401)
        data = await request.read()  # over client_max_size: aiohttp answers 413
        digest, _ = await asyncio.to_thread(store.put, data)
        base = (public_url or f"{request.scheme}://{request.host}").rstrip("/")
        return web.json_response({"hash": "0x" + digest.hex(),
                                  "uri": f"{base}/blobs/{digest.hex()}"}, status=201)

    async def get_blob(request: web.Request) -> web.StreamResponse:
        hexdigest = request.match_info["digest"].lower()
        if not _HEX.match(hexdigest):
            return web.json_response({"error": "a blob is named by its 64-hex keccak256"},
                                     status=400)
        path = store.path_of(hexdigest)
        if not path.is_file():
            return web.json_response({"error": "no such blob"}, status=404)
        return web.FileResponse(path, headers={"Content-Type": "application/octet-stream",
                                               "Cache-Control": "public, immutable"})

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=max_bytes)
    app.router.add_put("/blobs", put_blob)
    app.router.add_get("/blobs/{digest}", get_blob)
    app.router.add_get("/health", health)
    return app
