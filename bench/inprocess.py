"""What one request costs the app itself (issue 19): CPU time per request in process, with no
server, socket or wrk beside it; writes section 10 of RESULTS.md.

    python bench/inprocess.py                          # 3 variants x 2 databases: about 7 minutes
    python bench/inprocess.py --variants fastapi --databases sqlite --skip-setup

Requests per second on a shared machine measure how much CPU a server could grab as much as
what a request costs; this measures the cost. Each variant (Flask; FastAPI async, its default;
FastAPI sync, --no-async-ok) and database is rendered with sign-in (the default), installed in
its own venv under bench/.work/, migrated, and given a user by its own `create-user`. Then
apps/inprocess_probe.py, run in that venv, signs in and calls the app's ASGI (FastAPI) or WSGI
(Flask) callable directly: GET /hello, GET /items/{id} without a token (the 401), GET
/users/me and GET /items/{id} signed in, REQUESTS times each, and reads the
process's CPU time (every thread's: aiosqlite's connection threads and FastAPI's threadpool
count). Each round runs every app's probe once, the apps in a rotating order. Flask is
measured without front.py's ASGI bridge, which the server adds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import envs
import pg
from common import APPS, WORK, load_average, median, run
from ops import write_section

from signin import EMAIL, PASSWORD, create_user

HEADING = "## 10. The app alone: CPU time per request in process (issue 19)"
RAW = WORK / "inprocess.json"
PROBE = APPS / "inprocess_probe.py"
SECRET = "bench-only-secret-of-32-characters-or-more"
FLAGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "flask": ("flask", ()),
    "fastapi": ("fastapi", ()),
    "fastapi-sync": ("fastapi", ("--no-async-ok",)),
}
LABELS = {"flask": "Flask", "fastapi": "FastAPI async", "fastapi-sync": "FastAPI sync"}
DATABASES = ("sqlite", "postgresql")


def project_of(variant: str, database: str, skip: bool) -> envs.Project:
    """inproc-<variant>-<database>, rendered with sign-in and installed (kept by --skip-setup)."""
    framework, flags = FLAGS[variant]
    key = f"{variant}-{database}"
    path, venv = WORK / f"inproc-project-{key}", WORK / f"inproc-venv-{key}"
    name = f"inproc-{key}"
    project = envs.Project(framework, name.replace("-", "_"), path, venv)
    if skip and venv.exists():
        return project
    print(f"rendering and installing {key}", flush=True)
    shutil.rmtree(path, ignore_errors=True)
    cmd = [envs.bin_of("newapp"), "create", "--yes", "--framework", framework, *flags]
    cmd += ["--database", database, "--name", name, *envs.AUTHOR, str(path)]
    run(cmd, env={**os.environ, "NEWAPP_TEMPLATE_DIR": str(envs.TEMPLATE)})
    envs.new_venv(venv, [str(path)])
    return project


def app_env(project: envs.Project, url: str) -> dict[str, str]:
    """The production settings, on `url`: only what the app needs to start."""
    secret = "FLASK_SECRET_KEY" if project.framework == "flask" else "SECRET_KEY"
    return {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url, secret: SECRET}


def prepare(project: envs.Project, url: str) -> None:
    """Migrate the database with the project's own command and make the probe's user."""
    env = app_env(project, url)
    run([project.python, "-m", project.package, "migrate"], env=env, cwd=project.path)
    create_user(project, env, project.path)


def database_of(cluster: pg.Cluster | None, key: str, database: str) -> str:
    """A new, empty database for one app: a PostgreSQL database, or a SQLite file."""
    if cluster is not None and database == "postgresql":
        return cluster.create_database(f"inproc_{key.replace('-', '_')}")
    path = WORK / "inproc-db" / f"{key}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def probe(project: envs.Project, url: str, requests: int, rounds: int) -> dict[str, list[float]]:
    argv = [project.python, str(PROBE), project.package, project.framework, EMAIL, PASSWORD]
    out = run([*argv, str(requests), str(rounds)], env=app_env(project, url), cwd=project.path)
    return dict(json.loads(out.strip().splitlines()[-1]))


def report(
    results: dict[str, dict[str, list[float]]], load: str, requests: int, rounds: int
) -> list[str]:
    lines = [
        HEADING,
        "",
        f"`python bench/inprocess.py`: {requests} requests per route per round, {rounds} rounds,",
        f"medians; load average {load}. CPU time of the app's own process per",
        "request, in microseconds: each app called in process (no server, no socket), signed",
        "in through its own POST /auth/token, on SQLite or PostgreSQL (whose server's CPU is",
        "not counted). The 401 is GET /items/{id} without a token.",
        "",
        "| variant | /hello | 401 | /users/me | /items/{id} | /items/{id} over /hello |",
        "|---|---|---|---|---|---|",
    ]
    for key, cpu in results.items():
        variant, database = key.rsplit("-", 1)
        m = {route: median(values) for route, values in cpu.items()}
        hello, item = m["GET /hello"], m["GET /items/{id}"]
        cells = [m["GET /hello"], m["GET /items/{id}, no token (401)"], m["GET /users/me"], item]
        shown = " | ".join(f"{value:,.0f}" for value in cells)
        label = f"{LABELS[variant]}, {'PostgreSQL' if database == 'postgresql' else 'SQLite'}"
        lines.append(f"| {label} | {shown} | {item / hello:.1f}x |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="flask,fastapi,fastapi-sync")
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--skip-setup", action="store_true")
    args = parser.parse_args()
    if not args.skip_setup or not envs.TEMPLATE.exists():
        envs.copy_template()
    databases = args.databases.split(",")
    cluster = pg.start_cluster() if "postgresql" in databases else None
    load = load_average()
    results: dict[str, dict[str, list[float]]] = {}
    try:
        ready = {}
        for database in databases:
            for variant in args.variants.split(","):
                key = f"{variant}-{database}"
                project = project_of(variant, database, args.skip_setup)
                ready[key] = (project, database_of(cluster, key, database))
                prepare(*ready[key])
        # Round by round, every app in turn (in an order that rotates): a drift of the
        # machine's speed during the run reaches them all alike.
        keys = list(ready)
        for round_ in range(args.rounds):
            print(f"round {round_ + 1} of {args.rounds}", flush=True)
            for key in keys[round_ % len(keys) :] + keys[: round_ % len(keys)]:
                cpu = probe(*ready[key], args.requests, 1)
                for route, values in cpu.items():
                    results.setdefault(key, {}).setdefault(route, []).extend(values)
    finally:
        if cluster is not None:
            pg.remove(cluster)
    load = f"{load} at the start, {load_average()} at the end"
    RAW.write_text(json.dumps(results, indent=2))
    lines = report(results, load, args.requests, args.rounds)
    print("\n".join(lines))
    write_section(lines, HEADING)


if __name__ == "__main__":
    sys.exit(main())
