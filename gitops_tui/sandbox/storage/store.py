"""The kine-style SQLite store: an append-only log whose row id is the resourceVersion, plus current objects."""

from __future__ import annotations

import builtins  # Store.list shadows the builtin in the class body
import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gitops_tui.sandbox.storage.records import (  # noqa: F401 - re-exported: the store's callers import them here
    AlreadyExists,
    Conflict,
    Expired,
    LogEvent,
    NotFound,
    StoreClosed,
    StoreError,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    grp TEXT NOT NULL, plural TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, object TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS current (
    grp TEXT NOT NULL, plural TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    rv INTEGER NOT NULL, object TEXT NOT NULL,
    PRIMARY KEY (grp, plural, namespace, name)
);
CREATE INDEX IF NOT EXISTS current_by_namespace ON current (namespace);
CREATE INDEX IF NOT EXISTS log_by_type ON log (grp, plural, id);
CREATE INDEX IF NOT EXISTS current_service_ips ON current (json_extract(object, '$.spec.clusterIP'))
    WHERE grp='' AND plural='services';
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _with_rv(text: str, rv: int) -> dict[str, Any]:
    obj = json.loads(text)
    obj.setdefault("metadata", {})["resourceVersion"] = str(rv)
    return obj


def _dump(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    if "resourceVersion" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "resourceVersion"}
    return json.dumps(obj, separators=(",", ":"), sort_keys=False)


class Store:
    """One cluster's objects in SQLite; every write appends a log row whose id is the new revision."""

    def __init__(self, path: Path, keep_revisions: int = 1000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.keep_revisions = max(1, int(keep_revisions))
        self.lock = threading.RLock()
        #: Guards the revisions watchers wait on: one condition for any write, one per type for that type's.
        self._wake_lock = threading.Lock()
        self._changed = threading.Condition(self._wake_lock)
        self._type_changed: dict[tuple[str, str], threading.Condition] = {}
        self._closed = False
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name='log'").fetchone()
        self._rev = int(row[0]) if row else 0
        row = self._db.execute("SELECT value FROM meta WHERE key='compacted'").fetchone()
        self._compacted = int(row[0]) if row else 0
        #: The newest revision of each type, (group, plural) -> revision (0 or absent: none in the kept log).
        self._type_rev: dict[tuple[str, str], int] = {
            (g, p): int(rev) for g, p, rev in self._db.execute("SELECT grp, plural, MAX(id) FROM log GROUP BY grp, plural")}

    # -- revisions ---------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The newest resourceVersion written (0 for an empty store)."""
        return self._rev

    @property
    def compacted_revision(self) -> int:
        """History at or below this revision is gone; watching from older versions is Expired."""
        return self._compacted

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    def type_revision(self, group: str, plural: str) -> int:
        """The newest revision that wrote an object of this type (0 when none is in the kept history)."""
        return self._type_rev.get((group, plural), 0)

    def changed_since(self, revision: int, types: Iterable[tuple[str, str]]) -> bool:
        """Whether an object of one of ``types`` ((group, plural) pairs) was written after ``revision``."""
        return any(self._type_rev.get(key, 0) > revision for key in types)

    def check_not_expired(self, revision: int) -> None:
        """Raise Expired when events after ``revision`` are no longer all in the log."""
        if revision < self._compacted:
            raise Expired(revision, self._compacted)

    # -- reads -------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreClosed("the store is closed")
        return self._db

    def get(self, group: str, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Return the live object with its resourceVersion, or None."""
        with self.lock:
            row = self._conn().execute(
                "SELECT rv, object FROM current WHERE grp=? AND plural=? AND namespace=? AND name=?",
                (group, plural, namespace, name),
            ).fetchone()
        return _with_rv(row[1], row[0]) if row else None

    def list(
        self, group: str, plural: str, namespace: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Return the live objects of one type (optionally one namespace), sorted, and the revision."""
        sql = "SELECT rv, object FROM current WHERE grp=? AND plural=?"
        args: builtins.list[Any] = [group, plural]
        if namespace is not None:
            sql += " AND namespace=?"
            args.append(namespace)
        sql += " ORDER BY namespace, name"
        with self.lock:
            rows = self._conn().execute(sql, args).fetchall()
            rev = self._rev
        return [_with_rv(obj, rv) for rv, obj in rows], rev

    def service_ip_taken(self, address: str) -> bool:
        """Whether a live Service holds ``address`` as its spec.clusterIP (an index lookup, not a scan)."""
        with self.lock:
            row = self._conn().execute(
                "SELECT 1 FROM current WHERE grp='' AND plural='services' "
                "AND json_extract(object, '$.spec.clusterIP') = ? LIMIT 1", (address,),
            ).fetchone()
        return row is not None

    def extract(self, group: str, plural: str, path: str) -> builtins.list[Any]:
        """The value at JSON ``path`` ("$.spec.clusterIP") of every live object of one type, read by SQLite.

        None where absent; arrays and objects come decoded. No whole object is decoded in Python.
        """
        with self.lock:
            rows = self._conn().execute(
                "SELECT json_extract(object, ?), json_type(object, ?) FROM current WHERE grp=? AND plural=?",
                (path, path, group, plural),
            ).fetchall()
        return [json.loads(value) if kind in ("array", "object") else value for value, kind in rows]

    def in_namespace(self, namespace: str) -> builtins.list[tuple[str, str, dict[str, Any]]]:
        """Return (group, plural, object) for every live object in ``namespace``."""
        with self.lock:
            rows = self._conn().execute(
                "SELECT grp, plural, rv, object FROM current WHERE namespace=? ORDER BY grp, plural, name",
                (namespace,),
            ).fetchall()
        return [(g, p, _with_rv(obj, rv)) for g, p, rv, obj in rows]

    def count_type(self, group: str, plural: str) -> int:
        """Return how many live objects of one type exist."""
        with self.lock:
            row = self._conn().execute(
                "SELECT COUNT(*) FROM current WHERE grp=? AND plural=?", (group, plural)
            ).fetchone()
        return int(row[0])

    def events_since(
        self,
        revision: int,
        group: str | None = None,
        plural: str | None = None,
        namespace: str | None = None,
        limit: int = 500,
    ) -> builtins.list[LogEvent]:
        """Return log events after ``revision`` (optionally one type / namespace); Expired if too old."""
        sql = "SELECT id, type, grp, plural, namespace, name, object FROM log WHERE id > ?"
        args: builtins.list[Any] = [revision]
        if group is not None and plural is not None:
            sql += " AND grp=? AND plural=?"
            args += [group, plural]
        if namespace is not None:
            sql += " AND namespace=?"
            args.append(namespace)
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        with self.lock:
            self.check_not_expired(revision)
            rows = self._conn().execute(sql, args).fetchall()
        return [
            LogEvent(rid, typ, g, p, ns, n, _with_rv(obj, rid))
            for rid, typ, g, p, ns, n, obj in rows
        ]

    def changed_types(self, revision: int) -> set[tuple[str, str]]:
        """Return the (group, plural) of every type written after ``revision``; Expired if too old."""
        with self.lock:
            self.check_not_expired(revision)
            rows = self._conn().execute("SELECT DISTINCT grp, plural FROM log WHERE id > ?", (revision,)).fetchall()
        return {(g, p) for g, p in rows}

    def previous(self, event: LogEvent) -> dict[str, Any] | None:
        """Return the object as it was just before ``event`` (None if new or no longer in the log)."""
        if event.type == "ADDED":
            return None
        with self.lock:
            row = self._conn().execute(
                "SELECT id, object FROM log WHERE grp=? AND plural=? AND namespace=? AND name=? AND id < ? "
                "ORDER BY id DESC LIMIT 1",
                (event.group, event.plural, event.namespace, event.name, event.revision),
            ).fetchone()
        if row is None:
            return None
        return _with_rv(row[1], row[0])

    def wait(self, after: int, timeout: float, group: str | None = None, plural: str | None = None) -> bool:
        """Block until the revision passes ``after``, the store closes, or ``timeout`` s pass.

        With ``group`` and ``plural``, only a write of that type passes it: a watcher is not woken by the writes
        of every other type (a cluster with its controllers holds a watch per type).
        """
        if group is None or plural is None:
            with self._changed:
                return self._changed.wait_for(lambda: self._rev > after or self._closed, timeout)
        key = (group, plural)
        with self._wake_lock:
            condition = self._type_changed.get(key)
            if condition is None:
                condition = self._type_changed[key] = threading.Condition(self._wake_lock)
            return condition.wait_for(lambda: self._type_rev.get(key, 0) > after or self._closed, timeout)

    # -- writes ------------------------------------------------------------------------------

    def _append(
        self, group: str, plural: str, namespace: str, name: str, typ: str, obj: dict[str, Any]
    ) -> tuple[int, str]:
        text = _dump(obj)
        cur = self._conn().execute(
            "INSERT INTO log (grp, plural, namespace, name, type, object) VALUES (?,?,?,?,?,?)",
            (group, plural, namespace, name, typ, text),
        )
        assert cur.lastrowid is not None  # an INSERT always sets it
        return cur.lastrowid, text

    def _write(self, key: tuple[str, str], fn: Any) -> dict[str, Any]:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            rev, result = fn()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        with self._wake_lock:
            self._rev = rev
            self._type_rev[key] = rev
            self._changed.notify_all()
            condition = self._type_changed.get(key)
            if condition is not None:
                condition.notify_all()
        self._maybe_compact()
        return result

    def _current_rv(self, group: str, plural: str, namespace: str, name: str) -> int | None:
        row = self._conn().execute(
            "SELECT rv FROM current WHERE grp=? AND plural=? AND namespace=? AND name=?",
            (group, plural, namespace, name),
        ).fetchone()
        return int(row[0]) if row else None

    def create(
        self, group: str, plural: str, namespace: str, name: str, obj: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a new object; AlreadyExists if the key is taken. Returns it with its resourceVersion."""
        with self.lock:
            def run() -> tuple[int, dict[str, Any]]:
                if self._current_rv(group, plural, namespace, name) is not None:
                    raise AlreadyExists(name)
                rev, text = self._append(group, plural, namespace, name, "ADDED", obj)
                self._db.execute(
                    "INSERT INTO current (grp, plural, namespace, name, rv, object) VALUES (?,?,?,?,?,?)",
                    (group, plural, namespace, name, rev, text),
                )
                return rev, _with_rv(text, rev)

            return self._write((group, plural), run)

    def update(
        self,
        group: str,
        plural: str,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        expected_rv: int | None = None,
    ) -> dict[str, Any]:
        """Replace a live object; NotFound if absent, Conflict if ``expected_rv`` is stale."""
        with self.lock:
            def run() -> tuple[int, dict[str, Any]]:
                live = self._current_rv(group, plural, namespace, name)
                if live is None:
                    raise NotFound(name)
                if expected_rv is not None and expected_rv != live:
                    raise Conflict(name)
                rev, text = self._append(group, plural, namespace, name, "MODIFIED", obj)
                self._db.execute(
                    "UPDATE current SET rv=?, object=? WHERE grp=? AND plural=? AND namespace=? AND name=?",
                    (rev, text, group, plural, namespace, name),
                )
                return rev, _with_rv(text, rev)

            return self._write((group, plural), run)

    def delete(
        self,
        group: str,
        plural: str,
        namespace: str,
        name: str,
        expected_rv: int | None = None,
        final: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Remove a live object, logging DELETED with ``final`` (else its last state); returns that."""
        with self.lock:
            def run() -> tuple[int, dict[str, Any]]:
                row = self._conn().execute(
                    "SELECT rv, object FROM current WHERE grp=? AND plural=? AND namespace=? AND name=?",
                    (group, plural, namespace, name),
                ).fetchone()
                if row is None:
                    raise NotFound(name)
                if expected_rv is not None and expected_rv != int(row[0]):
                    raise Conflict(name)
                last = final if final is not None else json.loads(row[1])
                rev, text = self._append(group, plural, namespace, name, "DELETED", last)
                self._db.execute(
                    "DELETE FROM current WHERE grp=? AND plural=? AND namespace=? AND name=?",
                    (group, plural, namespace, name),
                )
                return rev, _with_rv(text, rev)

            return self._write((group, plural), run)

    # -- compaction --------------------------------------------------------------------------

    def _maybe_compact(self) -> None:
        if self._rev - self._compacted > self.keep_revisions + max(1, self.keep_revisions // 4):
            self.compact()

    def compact(self, keep: int | None = None) -> int:
        """Drop log rows older than the last ``keep`` revisions; return the new compacted revision."""
        keep = self.keep_revisions if keep is None else max(0, keep)
        with self.lock:
            target = self._rev - keep
            if target <= self._compacted:
                return self._compacted
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM log WHERE id <= ?", (target,))
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('compacted', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (str(target),),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._compacted = target
            return target

    def close(self) -> None:
        """Close the database and wake every waiter; idempotent."""
        with self.lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
        with self._wake_lock:
            self._changed.notify_all()
            for condition in self._type_changed.values():
                condition.notify_all()
