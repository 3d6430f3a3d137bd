"""A throwaway PostgreSQL cluster for end-to-end tests, on 127.0.0.1 and a private socket folder.

PostgreSQL refuses to run as root, and CI runs as root: there the cluster belongs to the
`postgres` user (Debian's package creates it) and every server command runs through `runuser`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from support import free_port

ROLE, PASSWORD = "newapp", "s3cret-only-for-tests"


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


def unavailable() -> str | None:
    """Why no cluster can be had here, in one line; None when one can."""
    if server_bin() is None:
        return "no PostgreSQL server here (Debian package: postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
    return None


@dataclass
class Cluster:
    """A running PostgreSQL cluster; `url(db)` is the plain URL a hosting platform hands out."""

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
        options = f"-k {self.base} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.base / "log"
        self._as_owner(
            [self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "start"]
        )

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._as_owner([self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement as the superuser, over the private socket."""
        psql = [self.bin / "psql", "-h", self.base, "-p", str(self.port), "-U", "postgres"]
        return self._as_owner([*psql, "-d", database, "-v", "ON_ERROR_STOP=1", "-c", statement])

    def create_database(self, name: str, template: str | None = None) -> str:
        """A fresh database owned by the test role, a copy of `template` if one is named; its
        plain postgresql:// URL."""
        copy = f' TEMPLATE "{template}"' if template else ""
        self.sql(f'CREATE DATABASE "{name}" OWNER {ROLE}{copy}')
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"


def start_cluster() -> Cluster:
    """initdb and start a cluster whose TCP logins need the test role's password."""
    bin_dir = server_bin()
    assert bin_dir is not None, unavailable()
    # Not under pytest's tmp folders: those are private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="newapp-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    cluster = Cluster(bin_dir, base, free_port())
    initdb = [bin_dir / "initdb", "-D", cluster.data, "-U", "postgres", "--no-sync"]
    cluster._as_owner([*initdb, "--auth-local=trust", "--auth-host=scram-sha-256"], timeout=120)
    cluster.start()
    cluster.sql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
    return cluster


def remove(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.base, ignore_errors=True)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `predicate()` until it is true or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
