"""Where a database route's time goes: py-spy on one worker of a generated server under wrk.

python bench/profile.py fastapi-postgresql get      # after `run.py --parts database` set up
python bench/profile.py fastapi-sync-sqlite post --seconds 10 --top 25

Uses the project and venv the database part installed (bench/.work/db-venv-<key>): seeds a
fresh database (PostgreSQL: a throwaway cluster), starts `python -m <pkg>` with one worker
(WEB_CONCURRENCY=1), warms it, then records its worker with `py-spy record --gil` (samples
only while a thread holds the GIL: the Python work, not the waiting) during a `wrk -c64` run of
the mode (get, post or hello). Prints the requests/s and the shares of samples: functions by
their own samples, and named steps by the samples under them. The collapsed stacks are kept in
bench/.work/profile-<key>-<mode>.txt.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import database
import envs
import pg
from common import WORK, Group
from load import start_wrk, wait_ready, wrk_json

PORT = 18490
# Steps whose samples (with all they call) are worth seeing on their own: the frame names of
# the frameworks, the ORM and the drivers, as py-spy prints them ("function (file)").
STEPS = {
    "threadpool trips (anyio run_sync)": "run_sync (anyio/to_thread.py",
    "dependencies (solve_dependencies)": "solve_dependencies (",
    "endpoint (run_endpoint_function)": "run_endpoint_function (",
    "response model (serialize_response)": "serialize_response (",
    "Session.get": "get (sqlalchemy/orm/session.py",
    "Session.commit": "commit (sqlalchemy/orm/session.py",
    "Session.close": "close (sqlalchemy/orm/session.py",
    "pool checkout": "_checkout (sqlalchemy/pool/base.py",
    "pool checkin (reset on return)": "_finalize_fairy (sqlalchemy/pool/base.py",
    "pre-ping": "do_ping (sqlalchemy",
    "asyncpg": "(asyncpg/",
    "psycopg": "(psycopg/",
    "aiosqlite": "(aiosqlite/",
    "sqlite3 execute": "execute (sqlalchemy/engine/default.py",
    "greenlet (await_)": "await_ (sqlalchemy/util/_concurrency_py3k.py",
    "middleware (app's own)": "/middleware.py",
    "flask-openapi3 view": "(flask_openapi3/",
    "flask-sqlalchemy session scope": "(flask_sqlalchemy/",
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("key", help="a database-part project, e.g. fastapi-postgresql")
    parser.add_argument("mode", choices=("get", "post", "hello"))
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=20, help="functions listed by own samples")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument(
        "--native", action="store_true", help="C and Rust frames too, samples on the CPU only"
    )
    return parser.parse_args(argv)


def project_of(key: str) -> envs.Project:
    variant, _, db = key.rpartition("-")
    if variant not in database.VARIANTS or db not in database.DATABASES:
        sys.exit(f"unknown key {key}: <{'|'.join(database.VARIANTS)}>-<sqlite|postgresql>")
    venv = WORK / f"db-venv-{key}"
    if not venv.exists():
        sys.exit(f"{venv} is missing: run `python bench/run.py --parts database` first")
    package = f"dbbench_{key}".replace("-", "_")
    return envs.Project(
        database.VARIANTS[variant].framework, package, WORK / f"db-project-{key}", venv
    )


def worker_of(leader: int) -> int:
    """The one worker process granian started under `leader` (WEB_CONCURRENCY=1)."""
    for _ in range(100):
        children = Path(f"/proc/{leader}/task/{leader}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("the server started no worker")


def summarize(stacks: Path, top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    steps: collections.Counter[str] = collections.Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1].split(":")[0]] += n
        for name, needle in STEPS.items():
            if needle in stack:
                steps[name] += n
    print(f"{total} samples with the GIL held")
    print("\nsteps (samples under them, share of all):")
    for name, n in steps.most_common():
        print(f"  {100 * n / total:5.1f} %  {name}")
    print(f"\nfunctions by own samples (top {top}):")
    for name, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {name}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    project = project_of(args.key)
    spy = shutil.which("py-spy") or str(envs.TOOLS / "bin" / "py-spy")
    folder = WORK / "profile" / args.key
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cluster = pg.start_cluster() if args.key.endswith("postgresql") else None
    try:
        if cluster is None:
            urls, low, high = database.seed_sqlite(project, folder, 1)
        else:
            urls, low, high = database.seed_postgresql(project, cluster, "profile", folder, 1)
        env = database.db_env(project, PORT, urls[0]) | {"WEB_CONCURRENCY": "1"}
        log = WORK / "logs" / f"profile-{args.key}.log"
        server = Group.start("profile", [project.python, "-m", project.package], env, log, folder)
        try:
            wait_ready(server, PORT, timeout=120, path="/readyz")
            load = database.DbLoad(
                connections=64,
                seconds=args.seconds,
                path="/items",
                mode=args.mode,
                low=low,
                high=high,
            )
            wrk_json(start_wrk(load, PORT, 2), 2)  # warm-up
            out = WORK / f"profile-{args.key}-{args.mode}.txt"
            how = ["--native"] if args.native else ["--gil", "--nonblocking"]
            record = [
                spy,
                "record",
                *how,
                "-r",
                str(args.rate),
                "-f",
                "raw",
                "-d",
                str(args.seconds),
                "-o",
                str(out),
                "-p",
                str(worker_of(server.proc.pid)),
            ]
            spying = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1)
            raw = wrk_json(start_wrk(load, PORT, args.seconds - 2), args.seconds)
            spying.wait(timeout=args.seconds + 30)
        finally:
            server.stop()
        rps = raw["requests"] / (raw["duration_us"] / 1e6)
        print(
            f"{args.key} {args.mode}: {rps:.0f} req/s on one worker, load {os.getloadavg()[0]:.1f}"
        )
        summarize(out, args.top)
    finally:
        if cluster is not None:
            pg.remove(cluster)


if __name__ == "__main__":
    main()
