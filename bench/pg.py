"""A throwaway PostgreSQL cluster for the database part, started and removed by the bench.

The approach of tests/postgres.py: Debian's server binaries, a cluster in a temp folder owned
by the `postgres` user (PostgreSQL refuses to run as root; every server command goes through
`runuser` when we are root), TCP on 127.0.0.1 only plus a socket in that folder. Unlike the
tests it keeps fsync on (writes are measured) and allows more connections than the default 100,
so that all the servers of one comparison can be up at once; the report gives the connections
each one opened, against that default.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from common import HOST

ROLE, PASSWORD = "bench", "bench-only-not-a-secret"
MAX_CONNECTIONS = 500  # all servers of one group at once; PostgreSQL's default is 100


def server_bin() -> Path | None:
    """The newest PostgreSQL server's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    roots = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0),
    )
    if roots:
        return roots[-1]
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A running cluster; `url(db)` is the plain postgresql:// URL a hosting platform hands out."""

    bin: Path
    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    def _as_owner(self, argv: Sequence[str | Path], timeout: float = 60) -> str:
        command = [str(arg) for arg in argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.base
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def start(self) -> None:
        options = (
            f"-k {self.base} -p {self.port} -c listen_addresses={HOST}"
            f" -c max_connections={MAX_CONNECTIONS}"
        )
        log = self.base / "log"
        self._as_owner(
            [self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "start"]
        )

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._as_owner([self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement as the superuser over the private socket; its unaligned output."""
        psql = [self.bin / "psql", "-h", self.base, "-p", str(self.port), "-U", "postgres"]
        options = ["-v", "ON_ERROR_STOP=1", "-At", "-c", statement]
        return self._as_owner([*psql, "-d", database, *options]).strip()

    def create_database(self, name: str, template: str | None = None) -> str:
        """A fresh database owned by the bench role (a copy of `template`); its plain URL."""
        self.sql(f'DROP DATABASE IF EXISTS "{name}"')
        copy = f' TEMPLATE "{template}"' if template else ""
        self.sql(f'CREATE DATABASE "{name}" OWNER {ROLE}{copy}')
        return self.url(name)

    def connections(self, database: str) -> int:
        """How many connections the server has open to `database` now."""
        query = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'"
        return int(self.sql(query) or 0)

    def sessions(self, database: str) -> int:
        """How many connections `database` has had since it was made (pg_stat_database)."""
        query = f"SELECT sessions FROM pg_stat_database WHERE datname = '{database}'"
        return int(self.sql(query) or 0)

    def url(self, database: str) -> str:
        return f"postgresql://{ROLE}:{PASSWORD}@{HOST}:{self.port}/{database}"

    def version(self) -> str:
        return self.sql("SHOW server_version").split()[0]


def start_cluster() -> Cluster:
    """initdb and start a cluster whose TCP logins need the bench role's password."""
    bin_dir = server_bin()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server here (Debian package: postgresql)")
    base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    cluster = Cluster(bin_dir, base, free_port())
    initdb = [bin_dir / "initdb", "-D", cluster.data, "-U", "postgres", "--no-sync"]
    cluster._as_owner([*initdb, "--auth-local=trust", "--auth-host=scram-sha-256"], timeout=120)
    cluster.start()
    cluster.sql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
    return cluster


def remove(cluster: Cluster) -> None:
    """Stop the cluster (fast shutdown) and delete its folder."""
    cluster.stop()
    shutil.rmtree(cluster.base, ignore_errors=True)
