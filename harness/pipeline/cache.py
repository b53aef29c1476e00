"""SQLite request cache: re-runs are free and an interrupted run resumes where it stopped.

Key = sha256 of everything that determines an answer: the backend, the model's identity (name,
path, revision, weights sha256, chat-template sha256), dtype, and the request itself (exact
messages, chat-template mode, candidates, every sampling parameter including the seed). The key
does not depend on batch size or device count, so a resumed run may use different ones.
Responses are committed as each batch finishes (WAL mode), so a crash loses at most the batch
in flight.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pydantic import ValidationError

from harness.backends.base import ModelInfo, Request, Response
from harness.core.errors import HarnessError

_SCHEMA = """CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, response TEXT NOT NULL, created REAL NOT NULL)"""


def model_identity(info: ModelInfo) -> dict[str, str | None]:
    return {"backend": info.backend, "name": info.name, "path": info.path, "revision": info.revision,
            "weights_sha256": info.weights_sha256, "chat_template_sha256": info.chat_template_sha256,
            "dtype": info.dtype}


def cache_key(info: ModelInfo, request: Request) -> str:
    payload = json.dumps({"model": model_identity(info), "request": request.key}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class CacheDamaged(HarnessError):
    """The cache file is not a readable SQLite database, or holds a response that is not one."""


class RequestCache:
    """Every SQLite error names the cache file (one line, exit 2); a damaged file says how to recover."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._errors("cannot open the request cache"):
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)

    def _damaged(self, problem: str) -> CacheDamaged:
        return CacheDamaged(f"{problem}; clear it with `harness cache clear --cache {self.path}` (a damaged file is "
                            "removed) or run with --no-cache", file=self.path)

    @contextlib.contextmanager
    def _errors(self, doing: str = "the request cache failed") -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:  # locked, full disk, no permission: the file itself is fine
            raise HarnessError(f"{doing} ({exc})", file=self.path) from None
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            raise self._damaged(f"the request cache is damaged ({exc})") from None

    def _select(self, columns: str, keys: Sequence[str]) -> list[tuple]:  # type: ignore[type-arg]
        rows = []
        with self._errors():
            for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters, with room to spare
                chunk = list(keys[start:start + 500])
                marks = ",".join("?" * len(chunk))
                rows += self._db.execute(f"SELECT {columns} FROM responses WHERE key IN ({marks})", chunk).fetchall()
        return rows

    def get_many(self, keys: Sequence[str]) -> dict[str, Response]:
        out = {}
        for k, v in self._select("key, response", keys):
            try:
                out[k] = Response.model_validate_json(v)
            except ValidationError as exc:
                problem = " ".join(str(exc).split("\n")[:3])[:160]
                raise self._damaged(f"the cached response {k[:12]}… is not a valid response ({problem})") from None
        return out

    def answered(self, info: ModelInfo, requests: Sequence[Request]) -> set[str]:
        """Keys of the `requests` this model's cached responses answer (the responses are not read)."""
        keys = {cache_key(info, r): r.key for r in requests}
        return {keys[k] for (k,) in self._select("key", list(keys))}

    def put_many(self, model: str, entries: Iterable[tuple[str, Response]]) -> None:
        now = time.time()
        rows = [(k, model, r.model_dump_json(), now) for k, r in entries]
        with self._errors(), self._db:  # one transaction per batch
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", rows)

    def info(self) -> dict[str, int]:
        with self._errors():
            (count,) = self._db.execute("SELECT COUNT(*) FROM responses").fetchone()
            models = self._db.execute("SELECT model, COUNT(*) FROM responses GROUP BY model ORDER BY model").fetchall()
        return {"responses": count, **{f"model {m}": n for m, n in models}}

    def clear(self) -> int:
        with self._errors():
            (count,) = self._db.execute("SELECT COUNT(*) FROM responses").fetchone()
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute("DELETE FROM responses")
            self._db.execute("VACUUM")
        return count

    def close(self) -> None:
        self._db.close()


def clear_cache(path: Path) -> int | None:
    """Delete every cached response: the number deleted, or None when the file was damaged and is
    removed whole (with its WAL and shared-memory files)."""
    try:
        cache = RequestCache(path)
        try:
            return cache.clear()
        finally:
            cache.close()
    except CacheDamaged:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return None
