"""A private PostgreSQL cluster in a temporary directory, on a free loopback port, for tests
that stop, restart or crash the database server. The shared cluster on 5432 is never touched.

initdb refuses to run as root: as root the cluster is created and run as the `postgres` system
user (via runuser); as anyone else, as that user. When the server binaries are not installed
`find_bindir()` is None and the caller skips; when they are but cannot be run here,
`PgCluster.create()` raises ClusterUnavailable with the reason.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.serverproc import free_port

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")


class ClusterUnavailable(RuntimeError):
    pass


def _has_tools(bindir: Path) -> bool:
    return all((bindir / tool).is_file() for tool in SERVER_TOOLS)


def _version(bindir: Path) -> tuple[int, ...]:
    found = re.search(r"postgresql/(\d+)", str(bindir))
    return (int(found.group(1)),) if found else (0,)


def find_bindir() -> Path | None:
    """The server's bin directory: JIESU_PG_BINDIR, else the newest Debian-style install,
    else initdb on PATH."""
    given = os.environ.get("JIESU_PG_BINDIR")
    candidates = [Path(given)] if given else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    return next((c for c in candidates if _has_tools(c)), None)


class PgCluster:
    def __init__(self, bindir: Path, root: Path, port: int, run_as: list[str]) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = port
        self._run_as = run_as

    @classmethod
    def create(cls, bindir: Path) -> PgCluster:
        """initdb a new cluster and start it (ClusterUnavailable if that cannot be done)."""
        run_as: list[str] = []
        owner = None
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterUnavailable("running as root and there is no postgres user") from None
            if runuser is None:
                raise ClusterUnavailable("running as root and runuser is not installed")
            run_as = [runuser, "-u", "postgres", "--"]
        root = Path(tempfile.mkdtemp(prefix="jiesu-pg-"))
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = cls(bindir, root, free_port(), run_as)
        try:
            cluster._run(
                "initdb",
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            )
            with (cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(
                    f"\nport = {cluster.port}\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = ''\n"
                    "shared_buffers = 16MB\n"
                    "max_connections = 60\n"
                    "fsync = on\n"
                    "synchronous_commit = on\n"
                )
            cluster.start()
        except (OSError, subprocess.SubprocessError) as exc:
            cluster.destroy()
            raise ClusterUnavailable(f"could not create a private cluster: {exc}") from exc
        return cluster

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        cmd = [*self._run_as, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise subprocess.SubprocessError(
                f"{tool} {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """fast: sessions are ended and the server checkpoints; immediate: it just dies, as
        after a power cut, and replays its WAL at the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w", "restart")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
