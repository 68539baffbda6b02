"""Servers of the fault tests' own, each on a free port in a temporary
directory, that a test may stop, restart or flush: redis-server, a PostgreSQL
cluster (initdb + pg_ctl) and the app under gunicorn with two workers.

Nothing here touches the machine's own PostgreSQL or Redis. Under CI a missing
binary fails the tests; elsewhere they are skipped, saying which is missing.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
import requests

from tests import services

VENV_BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[2]


def binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        message = f"{name} not found (the fault tests start their own servers)"
        if services.services_required():
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {seconds} s")


class RedisServer:
    """No persistence, as production's cache of call state may well run: a
    restart loses every call's state."""

    def __init__(self, directory: Path):
        self.binary = binary("redis-server")
        self.directory, self.port = directory, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory),
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.client().ping(), seconds=10, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def client(self):
        return redis_lib.Redis.from_url(self.url, decode_responses=True)


class PostgresServer:
    """A cluster of its own. PostgreSQL refuses to run as root: as root, its
    commands run as the `postgres` user, who owns the cluster's directory."""

    def __init__(self, directory: Path):
        self.initdb, self.pg_ctl = binary("initdb"), binary("pg_ctl")
        self.directory, self.port = directory, free_port()
        self.data = directory / "data"
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/bank"

    def _run(self, *command: str) -> None:
        prefix = []
        if os.geteuid() == 0:
            prefix = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*prefix, *command], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale", "C")
        self.start()
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute("CREATE DATABASE bank")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l",
                  str(self.directory / "postgres.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


class AppServer:
    """The app as production serves it: gunicorn with the production settings
    (config/gunicorn.conf.py: two worker processes of four threads, the app
    preloaded), call state in Redis."""

    def __init__(self, directory: Path, env: dict):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PUBLIC_BASE_URL": self.base_url}
        self.directory, self.process = directory, None

    def start(self) -> None:
        self.log = open(self.directory / "gunicorn.log", "ab")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", str(PROJECT / "config" / "gunicorn.conf.py"),
             "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "2"],
            cwd=PROJECT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"{self.base_url}/healthz", timeout=1).ok,
                   seconds=60, what="gunicorn")
        wait_until(lambda: len(self.workers()) == 2, seconds=30, what="gunicorn's workers")

    def workers(self) -> list[int]:
        """The worker processes gunicorn's master runs now."""
        found = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.split("/")[2]))
        return found

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None
            self.log.close()


def process_with_socket(pids, local_port: int) -> int | None:
    """Which of `pids` holds the TCP socket whose local port is `local_port`
    (the client end of a database connection: pg_stat_activity's client_port)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                inodes.add(fields[9])
    for pid in pids:
        for fd in glob.glob(f"/proc/{pid}/fd/*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    return None


def scratch_directory(name: str) -> Path:
    """A directory another user (postgres) can reach: pytest's own tmp_path
    sits under a directory only its owner may enter."""
    path = Path(tempfile.mkdtemp(prefix=f"ivr-faults-{name}-"))
    path.chmod(0o755)
    return path
