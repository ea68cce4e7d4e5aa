"""One SQLite connection per thread to one database file, and its write transactions.

Shared by the study database and the reading store, which live in the same file. Each
thread gets its own ``sqlite3`` connection (``threading.local``), never one shared
connection; WAL lets readers go on while a writer writes, and writers take the write
lock up front (``BEGIN IMMEDIATE``) and wait up to the busy timeout for each other.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

BUSY_TIMEOUT_MS = 30_000


class ThreadConnections:
    def __init__(self, path: Path, *, synchronous: Literal["NORMAL", "FULL"]) -> None:
        self.path = path
        self._synchronous = synchronous
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[sqlite3.Connection] = []

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so close_all() can close every thread's
            # connection; each connection is used by the thread that opened it.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    @property
    def open_count(self) -> int:
        """How many threads have a connection open."""
        with self._lock:
            return len(self._opened)

    def close_all(self) -> None:
        """Close every thread's connection (call once no thread uses them)."""
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed at the end, rolled back on any exception."""
        conn = self.get()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
