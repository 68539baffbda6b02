"""`ivr serve` as a real process, as `make run` starts it: on a free port, on a
temporary SQLite database with the demo bank and an instance folder of its
own, with its own log file. For the tests that need the processes themselves
(the worker beside the server, signals, a replay against another bank)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from banking_core import loader, migrate
from banking_core.bank import build_bank
from config import Settings
from tests.conftest import TEST_PEPPER

AUTH_TOKEN = "served-test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout: float, every: float = 0.1, what: str):
    """Poll `predicate` until it answers something true; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(every)


def descendants(pid: int) -> set[int]:
    """Every process under `pid` (Linux's /proc): the server's and worker's."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


class Served:
    """One instance: prepare() its bank, start() `ivr serve`, stop() it."""

    def __init__(self, folder: Path, **env):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite:///{self.folder / 'served.db'}"
        self.instance = self.folder / "instance"
        self.log = self.folder / "serve.log"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"PUBLIC_BASE_URL", "REDIS_URL", "DATABASE_URL", "QA_TOKEN"}}
        self.env.update({
            "IVR_ENV": "development", "IVR_INSTANCE_PATH": str(self.instance),
            "DATABASE_URL": self.database_url, "NIP_PEPPER": TEST_PEPPER,
            "SECRET_KEY": "served-test-secret-key-0123456789abcdef",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_KIB": "64", "PYTHONUNBUFFERED": "1",
            # The example biller's site only where a test asks for it (its port).
            "BILLER_DEMO_PORT": "0", **env})
        self.process: subprocess.Popen | None = None

    @property
    def outbox(self) -> Path:
        return self.instance / "outbox"

    def prepare(self) -> "Served":
        settings = Settings.from_env(self.env)
        migrate.upgrade(settings.database_url)
        bank = build_bank(settings)
        try:
            loader.seed_demo(bank)
        finally:
            bank.engine.dispose()
        return self

    def start(self, *args: str) -> "Served":
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "linea_directa", "serve", "--port", str(self.port),
                 "--workers", "1", *args],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        wait_for(self._ready, timeout=60, what=f"`ivr serve` answering on {self.url}")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"`ivr serve` exited ({self.process.returncode}):\n"
                                 f"{self.output()}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, signum=signal.SIGINT, timeout: float = 40) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """After a failed test: nothing left running."""
        if self.process is None:
            return
        for pid in descendants(self.process.pid) | {self.process.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)
