"""Hostile clients against one server: slow heads and bodies, oversize heads, a flood of them.

    python bench/hostile.py --name NAME [--cwd DIR] [--env K=V ...] [--slow 150] -- CMD ...

Starts CMD (HOST and PORT set, `{port}` in CMD replaced by the port, its own session), then
measures, on 127.0.0.1 only:

1. slow clients: `--slow` connections that send a request head one byte a second and as many
   that send a complete head and then a JSON body one byte a second, all at once; meanwhile a
   normal `GET /hello` every 0.5 s on a new connection, each allowed 1 s. Reported: the normal
   requests' worst latency and how many failed, and when the server closed the slow
   connections (the most still open at the end is the number never closed).
2. head limits: a request line over 8 KiB, one header over 8 KiB, 17 KiB of headers, 101
   headers, and just-inside requests; each answer's status, content type, whether it carries
   X-Content-Type-Options, and the start of its body.
3. memory: 4 connections each sending an endless header as fast as the server takes it, for
   `--flood` seconds; the server tree's RSS and PSS before and at the end.

Prints one JSON object (and appends it to bench/.work/hostile.jsonl); RESULTS.md section 7
is written by hand from these runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HOST, WORK, Group
from load import memory_mib

KIB = 1024
BODY = b'{"name": "' + b"a" * 80 + b'"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def read_answer(reader: asyncio.StreamReader, limit: float) -> bytes:
    """What the server sends until it closes or `limit` seconds pass (at most 64 KiB)."""
    data = b""
    try:
        async with asyncio.timeout(limit):
            while len(data) < 64 * KIB:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data and _complete(data):
                    break
    except TimeoutError:
        pass
    return data


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or 0)
    return True  # no length: take what came


async def normal_request(port: int, timeout: float = 1.0) -> float | None:
    """Seconds a `GET /hello` took on a new connection, or None if it failed or timed out."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = await reader.read()
            writer.close()
    except (TimeoutError, OSError):
        return None
    return time.perf_counter() - start if data.startswith(b"HTTP/1.1 200") else None


async def slow_client(port: int, kind: str, t0: float, seconds: float) -> float | None:
    """One slow connection; returns when the server closed it (s after t0), or None."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return time.perf_counter() - t0
    if kind == "head":
        first = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        drip = b"X-Slow: " + b"a" * 10_000  # never ends within the run
    else:
        first = (
            b"POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
        )
        drip = BODY
    closed: float | None = None
    try:
        writer.write(first)
        await writer.drain()
        end = t0 + seconds
        for byte in drip:
            if time.perf_counter() >= end:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(4096), timeout=1.0)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                closed = time.perf_counter() - t0
                break
            # An answer (a 408, say) before the close: keep reading until the close.
            writer.write(bytes([byte]))
            await writer.drain()
    except OSError:
        closed = time.perf_counter() - t0
    finally:
        writer.close()
    return closed


async def slow_clients(port: int, count: int, seconds: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    tasks = [
        asyncio.create_task(slow_client(port, kind, t0, seconds))
        for kind in ("head", "body")
        for _ in range(count)
    ]
    await asyncio.sleep(2)  # let them all connect and start
    latencies: list[float | None] = []
    while time.perf_counter() - t0 < seconds:
        latencies.append(await normal_request(port))
        await asyncio.sleep(0.5)
    closes = await asyncio.gather(*tasks)
    head, body = closes[:count], closes[count:]
    answered = [x for x in latencies if x is not None]
    return {
        "normal_requests": len(latencies),
        "normal_failed_or_over_1s": len(latencies) - len(answered),
        "normal_worst_ms": round(max(answered) * 1000, 1) if answered else None,
        "slow_head_closed": sum(x is not None for x in head),
        "slow_head_last_close_s": _last(head),
        "slow_body_closed": sum(x is not None for x in body),
        "slow_body_last_close_s": _last(body),
    }


def _last(closes: list[float | None]) -> float | None:
    done = [x for x in closes if x is not None]
    return round(max(done), 1) if done else None


# A request head to /hello, from a client naming the host the server answers to.
GET = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"
HEADS = {
    "line 8 KiB + 1": f"GET /hello?{'a' * (8 * KIB)} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    "line 8000 (inside)": f"GET /hello?{'a' * 7970} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    "header 8 KiB + 1": GET + "X-Big: " + "a" * (8 * KIB) + "\r\n",
    "header 8000 (inside)": GET + "X-Big: " + "a" * 7980 + "\r\n",
    "headers 17 KiB": GET + "".join(f"X-H{i}: {'a' * 1000}\r\n" for i in range(17)),
    # Host and Connection (added to every head below) count too.
    "101 headers": GET + "".join(f"X-H{i}: a\r\n" for i in range(99)),
    "100 headers (inside)": GET + "".join(f"X-H{i}: a\r\n" for i in range(98)),
    "header 64 KiB": GET + "X-Big: " + "a" * (64 * KIB) + "\r\n",
}


async def head_limits(port: int) -> dict[str, Any]:
    results = {}
    for name, head in HEADS.items():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write((head + "Connection: close\r\n\r\n").encode())
            await writer.drain()
        except OSError:
            pass
        answer = await read_answer(reader, 5)
        writer.close()
        results[name] = _summary(answer)
    return results


def _summary(answer: bytes) -> dict[str, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ")[1] if lines[0].startswith("HTTP/") else "no answer"
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    return {
        "status": status,
        "type": headers.get("content-type", "-"),
        "nosniff": "x-content-type-options" in headers,
        "body": body[:80].decode("latin-1"),
    }


async def flood(port: int, pid: int, seconds: float) -> dict[str, Any]:
    before = memory_mib(pid)
    stop = time.perf_counter() + seconds
    peak = [0.0, 0.0]

    async def one() -> int:
        sent = 0
        try:
            _, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Flood: ")
            while time.perf_counter() < stop:
                writer.write(b"a" * 65536)
                await asyncio.wait_for(writer.drain(), timeout=1)
                sent += 65536
        except (OSError, TimeoutError):
            pass
        return sent

    async def sample() -> None:
        while time.perf_counter() < stop:
            rss, pss = memory_mib(pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            await asyncio.sleep(0.25)

    sent, _ = await asyncio.gather(asyncio.gather(*(one() for _ in range(4))), sample())
    return {
        "before_rss_pss_mib": [round(x) for x in before],
        "peak_rss_pss_mib": [round(x) for x in peak],
        "sent_mib": round(sum(sent) / KIB / KIB),
    }


async def ready(port: int, group: Group, timeout: float = 60) -> None:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if not group.alive():
            raise RuntimeError(group.log_tail())
        if await normal_request(port, 2) is not None:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"not ready:\n{group.log_tail()}")


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "HOST": HOST, "PORT": str(port), "WEB_CONCURRENCY": "2"}
    env.update(dict(item.split("=", 1) for item in args.env))
    log = WORK / "hostile" / f"{args.name}.log"
    cmd = [part.replace("{port}", str(port)) for part in args.cmd]
    group = Group.start(args.name, cmd, env, log, cwd=Path(args.cwd) if args.cwd else None)
    try:
        await ready(port, group)
        result: dict[str, Any] = {"name": args.name, "cmd": " ".join(args.cmd), "env": args.env}
        result["heads"] = await head_limits(port)
        result["slow"] = await slow_clients(port, args.slow, args.seconds)
        result["after_slow_normal_ms"] = _ms(await normal_request(port, 5))
        result["flood"] = await flood(port, group.proc.pid, args.flood)
        result["after_flood_normal_ms"] = _ms(await normal_request(port, 5))
        result["alive"] = group.alive()
    finally:
        group.stop()
    return result


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--cwd")
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--slow", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--flood", type=float, default=5)
    parser.add_argument("cmd", nargs="+")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    WORK.mkdir(exist_ok=True)
    with (WORK / "hostile.jsonl").open("a") as out:
        out.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
