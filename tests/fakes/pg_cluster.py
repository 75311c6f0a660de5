"""A throwaway PostgreSQL cluster of a test's own (initdb + pg_ctl on a free port), to stop and
restart at will: the shared server other tests use is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.fakes.smtp import free_port


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"{name} is not installed (PostgreSQL server binaries are needed)")


class PgCluster:
    """``start()``, ``stop()``, ``restart()``; ``url`` names its database ``coo``."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="coo-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/coo"
        # initdb refuses to run as root: the cluster belongs to the postgres user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")
        self._run(_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=60)

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", *args)

    def start(self) -> PgCluster:
        self._ctl("start")
        import psycopg

        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = 'coo'").fetchone():
                admin.execute("CREATE DATABASE coo")
        return self

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """A fast restart: every open connection is cut, the server is back within a second."""
        self._ctl("-m", "fast", "restart")

    def destroy(self) -> None:
        try:
            self._ctl("-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # not running
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                shutil.rmtree(self.dir)
                return
            except OSError:
                time.sleep(0.1)
