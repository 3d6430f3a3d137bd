"""Part 6: the database layer, GET /items/{id} and POST /items, generated against naive servers.

For every variant (Flask; FastAPI async, its default; FastAPI sync, async_ok=no) and database
(SQLite, PostgreSQL) a project rendered with that answer, installed in its own venv, migrated
with `python -m <pkg> migrate` and seeded with SEED items. One group per variant x database:
its servers are up at once, each on its own copy of the seeded database (so that one's writes
never slow another's reads), and each round gives every one of them a wrk run on a random-id
GET and one on a JSON POST, in an order that rotates each round; medians over rounds.

Each server also answers GET /hello in every round: GET and POST are reported as ratios to
that, the same server's framework-only speed, measured side by side.

Contenders: the generated server (`python -m <pkg>`, its defaults) and the naive one (Flask:
`flask --app <pkg>.app run`, the dev server; FastAPI: `uvicorn <pkg>.app:app`, one worker);
with PostgreSQL also the generated server with other DB_POOL_SIZE values. For each: the pool
timeouts SQLAlchemy logged ("QueuePool limit of size ... timed out"), other errors in the log,
the responses that were not 2xx, the connections it opened during each run (PostgreSQL:
pg_stat_database.sessions; SQLite: sqlite3.connect calls, counted by
apps/connects/sitecustomize.py) and (PostgreSQL) the connections it held mid-run.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import envs
import pg
from common import APPS, BENCH, HOST, WORK, Group, median, run
from contenders import Contender, shown
from load import Load, port_is_free, start_wrk, wait_ready, wrk_json
from servers import base_env

LUA = BENCH / "items.lua"
# On a server's PYTHONPATH with CONNECT_LOG set: counts its sqlite3.connect calls in that file.
CONNECT_COUNTER = APPS / "connects"
NAIVE_EXTRA = {"fastapi": ["uvicorn[standard]"]}
SEED = 1000  # items in every database before the first request
BASE_PORT = 18500
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DRAIN_SECONDS = 0.5  # let the requests still queued in a server finish before the next run
DATABASES = ("sqlite", "postgresql")
WITHIN_BEST = 0.90  # a pool size "serves as well" as the best one within 10 %
# Patterns counted in each server's log over the whole measurement (warm-up included).
LOG_PATTERNS = {
    "pool_timeouts": r"QueuePool limit of size \d+ overflow -?\d+ reached",
    "locked": r"database is locked",
    "too_many_clients": r"too many clients|remaining connection slots",
    "tracebacks": r"Traceback \(most recent call last\)",
}
DB_ENV = ("DATABASE_URL", "DB_POOL_SIZE", "TEST_DATABASE_URL")
SHOWN = [
    "sqlalchemy",
    "alembic",
    "flask-sqlalchemy",
    "flask-migrate",
    "psycopg",
    "asyncpg",
    "aiosqlite",
]
# Prints the pool size a project uses when DB_POOL_SIZE is unset: FastAPI's db.POOL_SIZE, or
# for Flask its server's threads per worker (server_conf.threads: one connection per thread).
DEFAULT_POOL = """
import importlib, sys
for module, name in ((".db", "POOL_SIZE"), (".server_conf", "threads")):
    try:
        print(getattr(importlib.import_module(sys.argv[1] + module), name))
        break
    except (ImportError, AttributeError):
        pass
"""


@dataclass(frozen=True)
class Variant:
    """A way to render a project: the framework, extra newapp flags, DB_POOL_SIZE values to try
    beside the default (PostgreSQL only: SQLite needs no pool sizing)."""

    framework: str
    flags: tuple[str, ...]
    pools: tuple[int, ...]
    label: str


VARIANTS = {
    # Default: 8 = the server's threads per worker, no overflow. More than 8 changes nothing: a
    # worker's 8 threads never hold more than 8 connections (16 opened 16 in all, as 8 did).
    "flask": Variant("flask", (), (2, 4), "Flask (sync, granian)"),
    # Default: 20 kept per worker, no overflow (was 10 + 10, which churned). 32: the 64
    # connections' share of one of 2 workers, every concurrent request with a connection.
    "fastapi": Variant("fastapi", (), (10, 32), "FastAPI async (granian)"),
    # Default: 20 + 20 overflow = anyio's 40 threads per worker. 40: all threads, no overflow.
    "fastapi-sync": Variant("fastapi", ("--no-async-ok",), (10, 40), "FastAPI sync (granian)"),
}


@dataclass(frozen=True)
class DbLoad(Load):
    """A wrk run of items.lua: `mode` get (ids low..high), post, or hello (GET /hello)."""

    mode: str = "get"
    low: int = 1
    high: int = SEED

    def argv(self, port: int, seconds: int | None = None) -> list[str]:
        head = super().argv(port, seconds)
        head[head.index("-s") + 1] = str(LUA)
        return [*head, "--", self.mode, str(self.low), str(self.high)]


# --- set-up: templates and projects -----------------------------------------------------------


def template_copy(framework: str, source: str | None) -> Path:
    """The plain template newapp renders `framework` from: bench/.work/template (the repository's)
    or, with --db-templates, a copy of a git checkout's HEAD (or a folder's copier.yml and
    template_* folders), e.g. an engineer's worktree before it is merged."""
    if not source:
        return envs.TEMPLATE
    src, dest = Path(source).resolve(), WORK / f"template-db-{framework}"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    names = ["copier.yml", *sorted(p.name for p in src.glob("template_*"))]
    if (src / ".git").exists():
        archive = subprocess.run(
            ["git", "-C", str(src), "archive", "--format=tar", "HEAD", *names],
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    else:
        shutil.copy2(src / "copier.yml", dest / "copier.yml")
        for name in names[1:]:
            shutil.copytree(src / name, dest / name)
    return dest


def describe(templates: dict[str, str]) -> dict[str, str]:
    """Where each framework's template came from: a checkout's path and HEAD commit."""
    out = {}
    for framework, source in templates.items():
        head = subprocess.run(
            ["git", "-C", source, "log", "-1", "--format=%h, committed %cd", "--date=iso"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        out[framework] = f"{source} @ {head}" if head else source
    return out


def render(variant: str, database: str, template: Path) -> envs.Project:
    """Render and install dbbench-<variant>-<database> from `template`."""
    spec = VARIANTS[variant]
    key = f"{variant}-{database}"
    path, venv = WORK / f"db-project-{key}", WORK / f"db-venv-{key}"
    shutil.rmtree(path, ignore_errors=True)
    name = f"dbbench-{key}"
    cmd = [envs.bin_of("newapp"), "create", "--yes", "--framework", spec.framework]
    # No sign-in: this part measures the database layer as anyone reaches it (bench/signin.py
    # measures what a token check adds).
    cmd += [*spec.flags, "--database", database, "--no-auth", "--name", name]
    cmd += [*envs.AUTHOR, str(path)]
    run(cmd, env={**os.environ, "NEWAPP_TEMPLATE_DIR": str(template)})
    project = envs.Project(spec.framework, name.replace("-", "_"), path, venv)
    if not (path / "src" / project.package / "db.py").exists():
        raise RuntimeError(f"{template} renders no database layer (no src/{project.package}/db.py)")
    # uvicorn for the naive FastAPI contender (the server FastAPI's docs start with); the
    # generated projects serve with granian and do not depend on it.
    envs.new_venv(venv, [str(path), *NAIVE_EXTRA.get(spec.framework, [])])
    return project


def setup(
    variants: list[str], templates: dict[str, str], skip: bool
) -> dict[str, tuple[str, str, envs.Project]]:
    """Every variant x database project, rendered and installed (reused with --skip-setup)."""
    copies = {
        f: template_copy(f, templates.get(f)) for f in {VARIANTS[v].framework for v in variants}
    }
    projects = {}
    for variant in variants:
        for database in DATABASES:
            key = f"{variant}-{database}"
            venv = WORK / f"db-venv-{key}"
            package = f"dbbench_{key}".replace("-", "_")
            if skip and venv.exists():
                path = WORK / f"db-project-{key}"
                project = envs.Project(VARIANTS[variant].framework, package, path, venv)
            else:
                print(f"rendering and installing {key}", flush=True)
                project = render(variant, database, copies[VARIANTS[variant].framework])
            projects[key] = (variant, database, project)
    return projects


# --- databases: migrate once, seed, one copy per server -----------------------------------------


def db_env(project: envs.Project, port: int, url: str) -> dict[str, str]:
    env = {k: v for k, v in base_env(project, port).items() if k not in DB_ENV}
    return env | {"DATABASE_URL": url}


def migrate(project: envs.Project, url: str, cwd: Path) -> None:
    """`python -m <pkg> migrate`, from a folder that is not the project's (as in a container,
    which only has the wheel)."""
    # HOST and PORT as for a server: should a template lack the command and start one instead,
    # it stays on loopback, and the timeout ends it.
    env = db_env(project, BASE_PORT - 1, url)
    argv = [project.python, "-m", project.package, "migrate"]
    group = Group.start("migrate", argv, env, WORK / "logs" / f"migrate-{project.package}.log", cwd)
    try:
        code = group.proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        group.stop()  # the whole group, should it have started a server with workers
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code}:\n{group.log_tail()}")


SEED_SQL = "INSERT INTO items (name, description) VALUES (?, ?)"


def seed_sqlite(project: envs.Project, folder: Path, copies: int) -> tuple[list[str], int, int]:
    """A migrated, seeded SQLite file and one copy per server; their URLs and the id range."""
    seed = folder / "seed.db"
    migrate(project, f"sqlite:///{seed}", folder)
    with sqlite3.connect(seed) as connection:
        rows = [(f"item {n}", f"seeded item number {n}") for n in range(1, SEED + 1)]
        connection.executemany(SEED_SQL, rows)
        low, high = connection.execute("SELECT min(id), max(id) FROM items").fetchone()
    connection.close()  # the last connection checkpoints the WAL into the file
    urls = []
    for index in range(copies):
        target = folder / f"server-{index}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copy2(seed, target)
        urls.append(f"sqlite:///{target}")
    return urls, int(low), int(high)


def seed_postgresql(
    project: envs.Project, cluster: pg.Cluster, key: str, folder: Path, copies: int
) -> tuple[list[str], int, int]:
    """A migrated, seeded database and one copy per server (CREATE DATABASE ... TEMPLATE)."""
    base = key.replace("-", "_")
    migrate(project, cluster.create_database(f"{base}_seed"), folder)
    cluster.sql(
        "INSERT INTO items (name, description) SELECT 'item ' || n, 'seeded item number ' || n"
        f" FROM generate_series(1, {SEED}) AS n",
        f"{base}_seed",
    )
    low, high = cluster.sql("SELECT min(id) || ' ' || max(id) FROM items", f"{base}_seed").split()
    urls = [cluster.create_database(f"{base}_{i}", f"{base}_seed") for i in range(copies)]
    return urls, int(low), int(high)


# --- the servers ---------------------------------------------------------------------------------


def contenders_of(variant: str, database: str, project: envs.Project) -> list[Contender]:
    """Generated and naive; with PostgreSQL, the generated server with other pool sizes too."""
    py, pkg = project.python, project.package
    if project.framework == "flask":
        flask = str(project.venv / "bin" / "flask")
        naive = Contender(
            "naive: flask run (dev server)", "naive", [flask, "--app", f"{pkg}.app", "run"], True
        )
    else:
        naive = Contender(
            "naive: uvicorn, 1 worker", "naive", [py, "-m", "uvicorn", f"{pkg}.app:app"], True
        )
    entries = [Contender("generated: python -m", "generated", [py, "-m", pkg]), naive]
    if database == "postgresql":
        for size in VARIANTS[variant].pools:
            env = {"DB_POOL_SIZE": str(size)}
            entries.append(
                Contender(f"generated, DB_POOL_SIZE={size}", "pool", [py, "-m", pkg], env=env)
            )
    return entries


def default_pool(project: envs.Project) -> int | None:
    """The pool size the project's db.py takes when DB_POOL_SIZE is unset (None: not found)."""
    out = run([project.python, "-c", DEFAULT_POOL, project.package]).strip()
    return int(out) if out.isdigit() else None


def check_contract(port: int, low: int) -> None:
    """GET /items/<low> answers the seeded item; POST /items answers 201 with an id."""
    url = f"http://{HOST}:{port}/items"
    with urllib.request.urlopen(f"{url}/{low}", timeout=5) as response:
        item = json.loads(response.read())
        if response.status != 200 or item.get("id") != low:
            raise RuntimeError(f"GET /items/{low} answered {response.status} {item}")
    body = json.dumps({"name": "contract check"}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        item = json.loads(response.read())
        if response.status != 201 or not isinstance(item.get("id"), int):
            raise RuntimeError(f"POST /items answered {response.status} {item}")


@dataclass
class Server:
    contender: Contender
    group: Group
    port: int
    database: str  # PostgreSQL: the database name, for its connection count; SQLite: ""
    connect_log: Path | None = None  # SQLite: one byte per sqlite3.connect of the server


def sqlite_connects(server: Server) -> int:
    """How many SQLite connections the server has opened so far (its connect log's size)."""
    log = server.connect_log
    return log.stat().st_size if log is not None and log.exists() else 0


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (a server's supervisor and workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (those still running)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS


def backends(cluster: pg.Cluster | None, database: str) -> list[int]:
    """The PostgreSQL backend processes serving `database` now."""
    if cluster is None or not database:
        return []
    query = f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"
    return [int(pid) for pid in cluster.sql(query).split()]


def one_run(
    server: Server, load: DbLoad, cluster: pg.Cluster | None, seconds: int | None = None
) -> dict[str, float]:
    """One wrk run; (PostgreSQL) the connections the server holds, sampled mid-run, and the
    connections it opened during the run (a pool that closes and reopens them churns); the CPU
    time the server's processes and (PostgreSQL) its backends used per request, which the other
    programs on a shared machine change far less than they change requests/s."""
    length = seconds or load.seconds
    measured = cluster is not None and bool(server.database)
    before = cluster.sessions(server.database) if cluster is not None and measured else 0
    connects = sqlite_connects(server)
    app = process_tree(server.group.proc.pid)
    serving = backends(cluster, server.database)
    app_cpu, db_cpu = cpu_seconds(app), cpu_seconds(serving)
    proc = start_wrk(load, server.port, length)
    connections = opened = float("nan")
    if cluster is not None and measured:
        time.sleep(length * 0.6)
        connections = float(cluster.connections(server.database))
    raw = wrk_json(proc, length)
    time.sleep(DRAIN_SECONDS)
    app_cpu = cpu_seconds(app) - app_cpu
    # Backends that came and went during the run are missed: "opened" shows whether there were.
    db_cpu = cpu_seconds(sorted(set(serving) | set(backends(cluster, server.database)))) - db_cpu
    served = max(raw["requests"], 1)
    if cluster is not None and measured:
        opened = float(cluster.sessions(server.database) - before)
    elif server.connect_log is not None:
        opened = float(sqlite_connects(server) - connects)
    sockets = sum(raw[k] for k in ("connect", "read", "write", "timeout"))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": float(sockets + raw["non2xx"]),
        "non2xx": float(raw["non2xx"]),
        "5xx": float(raw["5xx"]),
        "timeouts": float(raw["timeout"]),
        "requests": float(raw["requests"]),
        "connections": connections,
        "opened": opened,
        "app_cpu_us": app_cpu * 1e6 / served,
        "db_cpu_us": db_cpu * 1e6 / served if measured else float("nan"),
    }


def log_counts(log: Path) -> dict[str, int]:
    text = log.read_text(errors="replace")
    return {name: len(re.findall(pattern, text)) for name, pattern in LOG_PATTERNS.items()}


def summarize(runs: list[dict[str, float]]) -> dict[str, float]:
    """Medians over rounds; errors and requests are totals, connections held the peak,
    connections opened per run the median."""
    measures = ("rps", "p50_ms", "p99_ms", "app_cpu_us", "db_cpu_us")
    out = {k: median([r[k] for r in runs if r.get(k) == r.get(k)]) for k in measures}
    for key in ("errors", "non2xx", "5xx", "timeouts", "requests"):
        out[key] = sum(r[key] for r in runs)
    peaks = [r["connections"] for r in runs if r["connections"] == r["connections"]]
    out["connections"] = max(peaks) if peaks else float("nan")
    opened = [r["opened"] for r in runs if r["opened"] == r["opened"]]
    out["opened"] = median(opened)
    return out


def measure_group(
    key: str,
    variant: str,
    database: str,
    project: envs.Project,
    loads: dict[str, DbLoad],
    rounds: int,
    cluster: pg.Cluster | None,
    first_port: int,
) -> dict[str, Any]:
    """Seed, start every server of the group, warm them, alternate wrk runs, stop them."""
    entries = contenders_of(variant, database, project)
    folder = WORK / "db" / key
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if cluster is None:
        urls, low, high = seed_sqlite(project, folder, len(entries))
    else:
        urls, low, high = seed_postgresql(project, cluster, key, folder, len(entries))
    loads = {
        name: DbLoad(**{**vars(load), "low": low, "high": high}) for name, load in loads.items()
    }
    servers: list[Server] = []
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        c.name: {name: [] for name in loads} for c in entries
    }
    shutdown: dict[str, dict[str, Any]] = {}
    try:
        for index, (contender, url) in enumerate(zip(entries, urls, strict=True)):
            port = first_port + index
            if not port_is_free(port):
                raise RuntimeError(f"port {port} is taken; stop what listens there")
            env = db_env(project, port, url) | contender.env
            connect_log = None
            if cluster is None:
                connect_log = folder / f"connects-{index}"
                connect_log.unlink(missing_ok=True)
                path = f"{CONNECT_COUNTER}{os.pathsep}{env.get('PYTHONPATH', '')}"
                env |= {"CONNECT_LOG": str(connect_log), "PYTHONPATH": path}
            log = WORK / "logs" / f"db-{key}-{index}.log"
            group = Group.start(contender.name, contender.command(port), env, log, cwd=folder)
            name = url.rsplit("/", 1)[1] if cluster is not None else ""
            servers.append(Server(contender, group, port, name, connect_log))
        for server in servers:  # all started at once: start-up is slow on a busy machine
            wait_ready(server.group, server.port, timeout=120, path="/readyz")
            check_contract(server.port, low)
            print(f"  up: {key}: {server.contender.name} on {server.port}", flush=True)
        for server in servers:  # warm-up: imports, pools filled, caches
            for load in loads.values():
                one_run(server, load, None, seconds=1)
        for index in range(rounds):
            shift = index % len(servers)
            for server in servers[shift:] + servers[:shift]:
                if not server.group.alive():
                    raise RuntimeError(f"{server.contender.name} died:\n{server.group.log_tail()}")
                for name, load in loads.items():
                    samples[server.contender.name][name].append(one_run(server, load, cluster))
            print(f"  {key} round {index + 1}/{rounds}", flush=True)
    finally:
        for server in servers:
            seconds, code = server.group.stop()
            shutdown[server.contender.name] = {"shutdown_s": seconds, "exit_code": code}
    pool = default_pool(project)
    rows = []
    for server in servers:
        c = server.contender
        size = int(c.env["DB_POOL_SIZE"]) if "DB_POOL_SIZE" in c.env else None
        row: dict[str, Any] = {"name": c.name, "role": c.role, "command": shown(c)}
        row["pool_size"] = size if c.role == "pool" else pool if c.role == "generated" else None
        row |= {name: summarize(samples[c.name][name]) for name in loads}
        row |= {"log": log_counts(server.group.log)} | shutdown[c.name]
        rows.append(row)
    by_role = {r["role"]: r for r in rows if r["role"] != "pool"}
    ratio = {name: of(by_role["generated"][name], by_role["naive"][name]) for name in loads}
    to_hello = {
        row["name"]: {name: of(row[name], row["hello"]) for name in ("get", "post")} for row in rows
    }
    return {
        "variant": variant,
        "label": VARIANTS[variant].label,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": database,
        "package": project.package,
        "seeded_ids": [low, high],
        "default_pool": pool,
        "rows": rows,
        "ratio_to_naive": ratio,
        "ratio_to_hello": to_hello,
        "versions": {k: v for k, v in envs.versions(project.python).items() if k in SHOWN},
    }


def of(part: dict[str, float], whole: dict[str, float]) -> float:
    """part's requests/s as a ratio of whole's (nan when whole served nothing)."""
    return part["rps"] / whole["rps"] if whole["rps"] else float("nan")


def choose_pool(group: dict[str, Any]) -> dict[str, Any]:
    """The smallest pool size that serves as well as the best: its score (the geometric mean of
    its GET and POST requests/s, each relative to the best of the group) within WITHIN_BEST of
    the best score, with no pool timeout and no failed request (socket error, response not
    2xx) at 64 connections."""
    rows = [r for r in group["rows"] if r["role"] in {"generated", "pool"} and r["pool_size"]]
    best = {name: max(r[name]["rps"] for r in rows) for name in ("get", "post")}

    def score(r: dict[str, Any]) -> float:
        return float((r["get"]["rps"] / best["get"] * r["post"]["rps"] / best["post"]) ** 0.5)

    def clean(r: dict[str, Any]) -> bool:
        # wrk's timeouts (an answer slower than 2 s) show in p99; failures are what count here
        failed = sum(r[n]["errors"] - r[n]["timeouts"] for n in ("get", "post"))
        return r["log"]["pool_timeouts"] == 0 and failed == 0

    top = max((score(r) for r in rows if clean(r)), default=0.0)
    fitting = sorted(
        (r for r in rows if clean(r) and score(r) >= WITHIN_BEST * top),
        key=lambda r: r["pool_size"],
    )
    default = next((r for r in rows if r["role"] == "generated"), None)
    return {
        "chosen": fitting[0]["pool_size"] if fitting else None,
        "default": group["default_pool"],
        "default_fits": bool(default and default in fitting),
        "default_clean": bool(default and clean(default)),
        "scores": {str(r["pool_size"]): score(r) for r in rows},
        "sizes": sorted(r["pool_size"] for r in rows),
    }


def measure(
    projects: dict[str, tuple[str, str, envs.Project]], rounds: int, seconds: int
) -> dict[str, Any]:
    """Every group in turn (SQLite first, then PostgreSQL on a throwaway cluster)."""
    common = Load(connections=64, seconds=seconds, path="/items")
    loads = {
        "hello": DbLoad(**vars(common), mode="hello"),
        "get": DbLoad(**vars(common), mode="get"),
        "post": DbLoad(**vars(common), mode="post"),
    }
    ordered = sorted(projects.items(), key=lambda item: DATABASES.index(item[1][1]))
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    groups: dict[str, Any] = {}
    cluster: pg.Cluster | None = None
    port = BASE_PORT
    try:
        for key, (variant, database, project) in ordered:
            if database == "postgresql" and cluster is None:
                cluster = pg.start_cluster()
                print(f"  PostgreSQL {cluster.version()} on {HOST}:{cluster.port}", flush=True)
            on = cluster if database == "postgresql" else None
            groups[key] = measure_group(key, variant, database, project, loads, rounds, on, port)
            groups[key]["run"] = started
            port += len(groups[key]["rows"])
        pg_version = cluster.version() if cluster else None
    finally:
        if cluster is not None:
            pg.remove(cluster)
    return {
        "rounds": rounds,
        "seconds": seconds,
        "seed": SEED,
        "load": {k: vars(v) for k, v in loads.items()},
        "within_best": WITHIN_BEST,
        "postgresql": pg_version,
        "postgresql_max_connections": pg.MAX_CONNECTIONS,
        "sqlite": sqlite3.sqlite_version,
        "groups": groups,
    }


def keep_others(result: dict[str, Any], earlier: dict[str, Any], variants: list[str]) -> None:
    """Keep the groups of the variants this run left out from the earlier results; each group
    carries its own date, each template its source."""
    for key, group in earlier.get("groups", {}).items():
        if group["variant"] not in variants:
            result["groups"][key] = group
    for framework, source in earlier.get("templates", {}).items():
        result["templates"].setdefault(framework, source)
