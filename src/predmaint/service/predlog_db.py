"""Where the prediction log lives: an SQLite file (the embedded default) or a PostgreSQL database.

Both hold the same two tables (``predictions``, ``feedback``); this module hides the differences of
the drivers (placeholders, DDL types, bulk insert, the tie-break of equal timestamps), so
:mod:`predmaint.service.predlog` writes and reads either through one DB-API connection.
A location is a :class:`~pathlib.Path` (SQLite) or a ``postgresql://`` URL (PostgreSQL, shared by
several API replicas on several hosts).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from predmaint import schema

Location = Path | str
INPUT_COLUMNS: tuple[str, ...] = tuple(schema.SNAKE_CASE[c] for c in schema.FEATURE_COLUMNS)
PREDICTION_COLUMNS: tuple[str, ...] = (
    "request_id",
    "ts",
    *INPUT_COLUMNS,
    "probability",
    "decision",
    "threshold",
    "predicted_modes",
    "model_name",
    "model_version",
)
POSTGRES_SCHEMES = ("postgresql", "postgres")
BUSY_TIMEOUT_MS = 30_000
_LOCK_KEY = 0x70726564  # pg_advisory_xact_lock key: replicas create the tables one at a time


def is_postgres(location: Location) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(location, str) and urlsplit(location).scheme in POSTGRES_SCHEMES


def display(location: Location) -> str:
    """The location for logs and ``/ready``: a URL without its password."""
    if not is_postgres(location):
        return str(location)
    parts = urlsplit(str(location))
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=f"{netloc}:{parts.port}" if parts.port else netloc))


def schema_sql(columns: Sequence[str], postgres: bool) -> str:
    """The DDL of both tables; ``columns`` are the input columns (``type`` first, then the numbers)."""
    real = "DOUBLE PRECISION" if postgres else "REAL"
    return f"""
CREATE TABLE IF NOT EXISTS predictions (
    request_id TEXT PRIMARY KEY, ts {real} NOT NULL, type TEXT NOT NULL,
    {", ".join(f"{c} {real} NOT NULL" for c in columns[1:])},
    probability {real} NOT NULL, decision INTEGER NOT NULL, threshold {real} NOT NULL,
    predicted_modes TEXT NOT NULL, model_name TEXT NOT NULL, model_version TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS predictions_ts ON predictions (ts);
CREATE TABLE IF NOT EXISTS feedback (
    request_id TEXT PRIMARY KEY REFERENCES predictions (request_id),
    target INTEGER NOT NULL CHECK (target IN (0, 1)), failure_mode TEXT, ts {real} NOT NULL);
"""


def connect(location: Location, columns: Sequence[str], *, readonly: bool = False) -> Any:
    """Open the log, creating the tables unless ``readonly`` (SQLite: WAL, ``synchronous=NORMAL``)."""
    if is_postgres(location):
        import psycopg2

        conn = psycopg2.connect(str(location), connect_timeout=10, application_name="predmaint-predlog")
        if not readonly:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                cur.execute(schema_sql(columns, postgres=True))
        return conn
    path = Path(location)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(schema_sql(columns, postgres=False))
    return conn


def exists(location: Location) -> bool:
    """Whether there is a log to read (a PostgreSQL log is created by the service's first start)."""
    return is_postgres(location) or Path(location).exists()


def sql(conn: Any, statement: str) -> str:
    """``statement`` written with ``?`` placeholders, in the connection's parameter style."""
    return statement if isinstance(conn, sqlite3.Connection) else statement.replace("?", "%s")


def execute(conn: Any, statement: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement (``?`` placeholders) and return its rows (none for a write)."""
    cur = conn.cursor()
    try:
        cur.execute(sql(conn, statement), tuple(args))
        return list(cur.fetchall()) if cur.description else []
    finally:
        cur.close()


def insert(conn: Any, table: str, rows: Sequence[Sequence[Any]], width: int) -> None:
    """Insert rows in bulk inside the caller's transaction (PostgreSQL: one multi-row statement per page)."""
    if not rows:
        return
    if isinstance(conn, sqlite3.Connection):
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)
        return
    from psycopg2.extras import execute_values

    with conn.cursor() as cur:
        execute_values(cur, f"INSERT INTO {table} VALUES %s", rows, page_size=1000)


def frame(conn: Any, statement: str, args: Sequence[Any] = ()) -> pd.DataFrame:
    """A query's rows as a DataFrame (``?`` placeholders); ``ROWID`` is SQLite's insertion order."""
    if not isinstance(conn, sqlite3.Connection):
        statement = statement.replace("p.rowid", "p.request_id")  # time-ordered ids (UUIDv7 layout)
    cur = conn.cursor()
    try:
        cur.execute(sql(conn, statement), tuple(args))
        return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    finally:
        cur.close()
