"""Redis and nginx from Debian's packages, for the end-to-end tests of replicas: a throwaway
Redis on 127.0.0.1, and nginx balancing requests over servers started by the tests."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from support import Server, free_port, running_server

REDIS = "redis-server"
NGINX = "nginx"


def unavailable(program: str) -> str | None:
    """Why `program` cannot be run here, in one line; None when it can."""
    if shutil.which(program) or Path("/usr/sbin", program).exists():
        return None
    return f"no {program} here (Debian package: {program}; see .ci/run)"


@dataclass
class Redis:
    """A running Redis, shared by a worker's tests: each takes a numbered database of its own
    (`fresh_url`), so no test sees another's counts."""

    process: subprocess.Popen[bytes]
    port: int
    base: Path
    used: int = 0

    def fresh_url(self) -> str:
        """The URL of a database no test has used yet (Redis has 16 by default)."""
        self.used += 1
        return f"redis://127.0.0.1:{self.port}/{self.used}"


def start_redis(timeout: float = 30) -> Redis:
    """redis-server on a free port of 127.0.0.1, in memory only (no snapshot, no append log),
    returned once it answers PING."""
    base = Path(tempfile.mkdtemp(prefix="newapp-redis-"))
    port = free_port()
    argv = [REDIS, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(base)]
    argv += ["--save", "", "--appendonly", "no", "--logfile", str(base / "log")]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    redis = Redis(process, port, base)
    deadline = time.monotonic() + timeout
    while not _pong(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_redis(redis)
            raise AssertionError(f"redis-server did not answer: {_log(base)}")
        time.sleep(0.05)
    return redis


def stop_redis(redis: Redis) -> None:
    redis.process.terminate()
    try:
        redis.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        redis.process.kill()
        redis.process.wait(timeout=10)
    shutil.rmtree(redis.base, ignore_errors=True)


def _pong(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


def _log(base: Path) -> str:
    log = base / "log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


NGINX_CONF = """\
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {base}/access.log;
    client_body_temp_path {base}/body;
    proxy_temp_path {base}/proxy;
    fastcgi_temp_path {base}/fastcgi;
    uwsgi_temp_path {base}/uwsgi;
    scgi_temp_path {base}/scgi;
    upstream replicas {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(upstreams: Sequence[Server], base: Path) -> Iterator[Server]:
    """nginx on a free port of 127.0.0.1, sending requests to `upstreams` in turn (its
    default round robin), as a reverse proxy in front of replicas is set up; always stopped."""
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(f"        server {s.host}:{s.port};" for s in upstreams)
    conf = base / "nginx.conf"
    conf.write_text(NGINX_CONF.format(base=base, servers=servers, port=port))
    program = shutil.which(NGINX) or f"/usr/sbin/{NGINX}"
    # In the foreground, with its prefix here: nothing of the machine's own nginx is used.
    argv = [program, "-p", str(base), "-c", str(conf), "-g", "daemon off;"]
    with running_server(argv, {"PATH": "/usr/sbin:/usr/bin:/bin"}, "127.0.0.1", port, base) as s:
        yield s
