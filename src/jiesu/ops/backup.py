"""`jiesu db backup` / `jiesu db restore`: a consistent copy of the whole database while it serves.

SQLite: the sqlite3 online backup API copies page by page under SQLite's own locking, so the
copy is one consistent state even while writers commit. PostgreSQL: `pg_dump -Fc` reads one
snapshot (REPEATABLE READ) and `pg_restore --clean --if-exists --single-transaction` puts it back
all or nothing. Both need the client tools on PATH (Debian: postgresql-client, same major
version as the server or newer).

A backup file says what it is by its first bytes ("SQLite format 3", "PGDMP"); restoring one
kind over a database of the other kind is refused before anything is touched. A backup file is
created with mode 0600 (owner only), whatever the umask: it holds every citizen's personal data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
BACKUP_MODE = 0o600


class BackupError(Exception):
    """Refused or failed; the message says what to fix."""


@dataclass(frozen=True)
class BackupInfo:
    kind: str  # sqlite | postgresql
    path: Path
    size: int


def kind_of_url(url: str) -> str:
    backend = sa.engine.make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"database kind '{backend}' is not supported; use SQLite or PostgreSQL")
    return backend


def kind_of_file(path: Path) -> str:
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{path}: cannot read ({exc.strerror})") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{path} is not a jiesu backup (neither a SQLite file nor a pg_dump -Fc dump)"
    )


def backup(url: str, out: Path) -> BackupInfo:
    kind = kind_of_url(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed at the end: a failed run never leaves a
    # half-written file under the name an operator will later restore from.
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _private_file(partial)
        if kind == "sqlite":
            _sqlite_copy(_sqlite_path(url), partial)
        else:
            _run(
                _pg_tool("pg_dump"),
                url,
                ["-Fc", "--no-owner", "--no-privileges", "-f", str(partial)],
            )
        # Again after the tool ran, in case it replaced the file rather than writing into it.
        partial.chmod(BACKUP_MODE)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(kind, out, out.stat().st_size)


def _private_file(path: Path) -> None:
    """Create the file empty, readable by its owner only, before anything is written into it:
    a backup holds every citizen's name and phone, and a file made by the tool would take the
    umask's mode (0644, readable by every local account) for as long as the copy runs."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, BACKUP_MODE))


def restore(url: str, path: Path) -> BackupInfo:
    """Replace the database's whole content with the backup's. The caller has made sure no
    server writes meanwhile (stop it first): a restore is a point-in-time rewind."""
    kind = kind_of_url(url)
    got = kind_of_file(path)
    if got != kind:
        raise BackupError(
            f"{path} is a {_NAMES[got]} backup but JIESU_DATABASE_URL is a {_NAMES[kind]} "
            f"database; restore it into a {_NAMES[got]} database instead"
        )
    if kind == "sqlite":
        _check_sqlite_backup(path)
        _sqlite_copy(path, _sqlite_path(url))
    else:
        _run(
            _pg_tool("pg_restore"),
            url,
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                str(path),
            ],
        )
    return BackupInfo(kind, path, path.stat().st_size)


_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"{source}: no such database file")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        # One step for the whole file: the copy is a single consistent state. Writers wait
        # for the copy (milliseconds for a few hundred MB), which busy_timeout absorbs.
        src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()
        has_schema = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
        ).fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: not a readable SQLite database ({exc})") from exc
    finally:
        conn.close()
    if not ok or ok[0] != "ok":
        raise BackupError(f"{path}: the SQLite file is damaged ({ok[0] if ok else '?'})")
    if not has_schema or has_schema[0] == 0:
        raise BackupError(f"{path} is a SQLite file but not a jiesu database (no alembic_version)")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found on PATH; install the PostgreSQL client tools")
    return found


def _run(tool: str, url: str, args: list[str]) -> None:
    u = sa.engine.make_url(url)
    # The password travels in the environment, never on the command line (ps would show it).
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    cmd = [tool, "-h", u.host or "localhost", "-p", str(u.port or 5432)]
    if u.username:
        cmd += ["-U", u.username]
    cmd += ["-d", u.database or "postgres", *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{Path(tool).name} failed: {detail[-1] if detail else done.returncode}")
