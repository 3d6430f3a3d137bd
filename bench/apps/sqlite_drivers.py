"""One primary-key read on SQLite through SQLAlchemy, sync (pysqlite) against async (aiosqlite):
the process's CPU time per read, in microseconds. Run in a generated FastAPI project's venv
(bench/.work/inproc-venv-fastapi-sqlite) on its migrated database:

    python bench/apps/sqlite_drivers.py PACKAGE path/to/migrated.db
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

READS = 3000
User = importlib.import_module(f"{sys.argv[1]}.models").User
FILE = sys.argv[2]


def per_read(started: float) -> str:
    return f"{(time.process_time() - started) / READS * 1e6:,.0f} us"


def sync_reads() -> None:
    engine = create_engine(f"sqlite:///{FILE}")
    started = time.process_time()
    for _ in range(READS):
        with Session(engine) as session:
            session.get(User, 1)
    print("sync session.get (pysqlite): ", per_read(started))


async def async_reads() -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{FILE}")
    started = time.process_time()
    for _ in range(READS):
        async with AsyncSession(engine) as session:
            await session.get(User, 1)
    print("async session.get (aiosqlite):", per_read(started))
    await engine.dispose()


sync_reads()
asyncio.run(async_reads())
