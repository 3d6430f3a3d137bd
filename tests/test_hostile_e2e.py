"""End to end: hostile clients against each framework's real production server, on its defaults.

Slow heads and bodies on real sockets, oversize request heads, chunked bodies past the limit and
HEAD requests, against the main project's `python -m <package>` (one server per framework for
the module). The numbers behind the limits are in bench/RESULTS.md, section 7.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from projects import (
    FASTAPI_WEB_IO,
    FLASK_WEB_TYPED,
    FRAMEWORKS,
    Project,
    Variant,
    by_variant,
    start,
)
from support import Server, clean_env, read_response, request, run, stop
from test_generated_e2e import CHROMIUM, CHROMIUM_FLAGS

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

HEAD_SECONDS = 10  # the servers' deadline for a whole request head
BODY_SECONDS = 20  # the generated apps' BODY_TIMEOUT default
BODY_LIMIT = 1024 * 1024  # their MAX_CONTENT_LENGTH default
KIB = 1024


# --- Slow clients ----------------------------------------------------------------------------


async def _slow(server: Server, first: bytes, drip: bytes, until: float) -> float | None:
    """Send `first`, then `drip` a byte a second; when the server closed the connection
    (seconds from now), or None if it was still open at `until`."""
    start = time.monotonic()
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(first)
        await writer.drain()
        for byte in drip:
            if time.monotonic() >= until:
                return None
            try:
                if await asyncio.wait_for(reader.read(4096), timeout=1) == b"":
                    return time.monotonic() - start
            except TimeoutError:
                pass
            writer.write(bytes([byte]))
            await writer.drain()
        return None
    except OSError:  # reset by the server: closed too
        return time.monotonic() - start
    finally:
        writer.close()


async def _normal(server: Server) -> float | None:
    """Seconds a GET /hello took on a new connection, or None past 1 s or on failure."""
    start = time.monotonic()
    try:
        answer = await asyncio.wait_for(_get_hello(server), timeout=1)
    except (TimeoutError, OSError):
        return None
    return time.monotonic() - start if answer.startswith(b"HTTP/1.1 200") else None


async def _get_hello(server: Server) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    return answer


async def _siege(server: Server, clients: int) -> tuple[list[float | None], list[float | None]]:
    until = time.monotonic() + BODY_SECONDS + 5
    head = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    body = b'{"name": "' + b"a" * 60 + b'"}'
    post = (
        b"POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    slow = [
        *(_slow(server, head, b"X-Slow: " + b"a" * 100, until) for _ in range(clients)),
        *(_slow(server, post, body, until) for _ in range(clients)),
    ]
    tasks = [asyncio.ensure_future(one) for one in slow]
    await asyncio.sleep(1)  # all connected and dripping
    normal = []
    while not all(task.done() for task in tasks) and time.monotonic() < until:
        normal.append(await _normal(server))
        await asyncio.sleep(0.5)
    return normal, list(await asyncio.gather(*tasks))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_slow_clients_neither_stall_others_nor_linger(
    servers: Callable[[str], Server], framework: str
) -> None:
    """40 clients send their heads a byte a second and 40 their bodies: normal requests are
    answered within 1 s throughout, and the server closes every slow connection on its own
    deadline (heads within HEAD_SECONDS, bodies within BODY_SECONDS of the app reading)."""
    server = servers(framework)
    normal, closed = asyncio.run(_siege(server, 40))
    assert normal and all(took is not None for took in normal), normal
    heads, bodies = closed[:40], closed[40:]
    assert all(after is not None and after <= HEAD_SECONDS + 3 for after in heads), heads
    assert server.running()
    assert all(after is not None and after <= BODY_SECONDS + 3 for after in bodies), bodies


# --- Oversize heads, chunked bodies, HEAD -----------------------------------------------------


def _raw(server: Server, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
        answer = read_response(sock)
    return answer.status, dict(answer.headers), answer.body


LINE = "GET /hello?{} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
HEADERS = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n{}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    ("head", "status"),
    [
        (LINE.format("a" * 7900), 200),
        (LINE.format("a" * 8 * KIB), 414),
        (HEADERS.format(f"X-Big: {'a' * 8000}\r\n"), 200),
        (HEADERS.format(f"X-Big: {'a' * 8 * KIB}\r\n"), 431),
        (HEADERS.format("".join(f"X-H{i}: {'a' * 1000}\r\n" for i in range(17))), 431),
        (HEADERS.format("".join(f"X-H{i}: a\r\n" for i in range(98))), 200),  # 100 in all
    ],
    ids=["line-inside", "line-414", "header-inside", "header-431", "17KiB-431", "100-headers"],
)
def test_request_heads_are_bounded_with_json_errors(
    servers: Callable[[str], Server], framework: str, head: str, status: int
) -> None:
    got, headers, body = _raw(servers(framework), head)
    assert got == status, body[:200]
    assert headers["content-type"].startswith("application/json")
    assert headers["x-content-type-options"] == "nosniff"
    assert b"Traceback" not in body and b">" not in body


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    ("head", "status"),
    [
        (HEADERS.format("".join(f"X-H{i}: a\r\n" for i in range(99))), 431),
        (HEADERS.format(f"X-Big: {'a' * 64 * KIB}\r\n"), 431),
        ("GARBAGE\r\n", 400),
        ("GET /hello HTTP/3.0\r\nHost: 127.0.0.1\r\n", 400),
        ("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: a\r\n", 400),
    ],
    ids=["101-headers", "64KiB-header", "no-request-line", "bad-version", "bad-header-name"],
)
def test_heads_the_server_refuses_itself_say_nothing(
    servers: Callable[[str], Server], framework: str, head: str, status: int
) -> None:
    """Heads granian's HTTP parser (hyper) cannot or will not parse never reach the app, so they
    cannot get its JSON: they get a status, an empty body (nothing to render, nothing about the
    server) and a closed connection. hyper parses at most 100 headers and granian buffers at
    most 64 KiB of a head (the generated server_conf), neither of which granian lets an app
    change (bench/RESULTS.md, section 7)."""
    got, headers, body = _raw(servers(framework), head)
    assert (got, body) == (status, b"")
    assert headers["connection"] == "close"
    assert "content-type" not in headers


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("method", ["TRACE", "PROPFIND"])
def test_methods_no_route_takes_are_a_json_405_that_echoes_nothing(
    servers: Callable[[str], Server], framework: str, method: str
) -> None:
    """TRACE would send the request back, cookies and all, to a script that sent it (cross-site
    tracing): like any method no route declares, it is a JSON 405 that repeats nothing. The
    Server header names no version."""
    head = f"{method} /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session=secret-value\r\n"
    got, headers, body = _raw(servers(framework), head)
    assert got == 405
    assert headers["content-type"].startswith("application/json")
    assert headers["x-content-type-options"] == "nosniff"
    assert b"secret-value" not in body
    assert not any(char.isdigit() for char in headers.get("server", ""))


def _chunked(size: int, piece: int = 64 * KIB) -> bytes:
    chunks = [b"%x\r\n" % piece + b"a" * piece + b"\r\n" for _ in range(size // piece)]
    return b"".join(chunks) + b"0\r\n\r\n"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_chunked_body_past_the_limit_is_413(
    servers: Callable[[str], Server], framework: str
) -> None:
    head = (
        "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n"
    )
    status, headers, body = _raw(servers(framework), head, _chunked(2 * BODY_LIMIT))
    assert status == 413, body[:200]
    assert headers["content-type"].startswith("application/json")
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("path", ["/hello", "/healthz"])
def test_head_is_answered_wherever_get_is(
    servers: Callable[[str], Server], framework: str, path: str
) -> None:
    server = servers(framework)
    got, want = request(server, "HEAD", path), request(server, "GET", path)
    assert got.status == want.status == 200
    assert got.body == b""
    assert got.content_type == want.content_type


# --- The Content-Security-Policy, in a real browser --------------------------------------------


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (Debian package: chromium)")
@pytest.mark.parametrize("variant", by_variant([FLASK_WEB_TYPED, FASTAPI_WEB_IO]))
def test_web_pages_load_under_their_csp_with_no_violation(
    projects: Callable[[Variant], Project], variant: Variant, tmp_path: Path
) -> None:
    """Chromium loads the home page (and its stylesheet) under the page's own policy, and its
    console reports no Content Security Policy violation (it reports every one it blocks)."""
    project = projects(variant)
    server = start(project, tmp_path / "server")
    try:
        page = request(server, "GET", "/", headers={"Accept": "text/html"})
        assert "default-src 'self'" in page.headers["content-security-policy"]
        result = run(
            [
                CHROMIUM or "chromium",
                *CHROMIUM_FLAGS,
                "--enable-logging=stderr",
                "--v=0",
                f"--user-data-dir={tmp_path / 'profile'}",
                server.url + "/",
            ],
            env=clean_env({"HOME": str(tmp_path)}),
            timeout=90,
        )
    finally:
        stop(server)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"<h1>{project.package.replace('_', '-')}</h1>" in result.stdout, result.stdout[-2000:]
    violations = [line for line in result.stderr.splitlines() if "Content Security Policy" in line]
    assert violations == []
