"""Framework-less WSGI and ASGI callables answering every request with the generated app's bytes.

BENCH_RESPONSE holds the generated app's /hello answer as JSON: {"headers": [[k, v]], "body": s}.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

_RESPONSE = json.loads(os.environ["BENCH_RESPONSE"])
BODY: bytes = _RESPONSE["body"].encode()
HEADERS: list[tuple[str, str]] = [
    *((str(k), str(v)) for k, v in _RESPONSE["headers"]),
    ("content-length", str(len(BODY))),
]
RAW_HEADERS = [(k.lower().encode(), v.encode()) for k, v in HEADERS]


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI ceiling: no routing, no framework, the same bytes."""
    start_response("200 OK", HEADERS)
    return [BODY]


async def asgi(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """The ASGI ceiling: lifespan accepted, every HTTP request gets the same bytes."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]  # startup or shutdown
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": RAW_HEADERS})
    await send({"type": "http.response.body", "body": BODY})
