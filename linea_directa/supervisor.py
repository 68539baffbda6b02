"""`ivr serve`'s two processes, kept together: the web server (gunicorn) and
the worker (`ivr worker`: the outbox's e-mails, the transcripts sweep).

- Ctrl-C or SIGTERM stops both: each child gets the same signal (for
  gunicorn SIGINT is a quick shutdown, SIGTERM a graceful one that finishes
  the requests under way; the worker finishes its round either way), and
  whatever is still running after `stop_timeout` seconds is killed. No process is left behind; on Linux a
  child also gets SIGTERM if this process itself is killed outright.
- The worker is restarted when it dies (after 1 s, doubling up to a minute
  while it keeps dying), each time said on stderr; the server keeps serving
  meanwhile: the e-mails wait in the outbox, nothing is lost.
- The server's end is everyone's: the worker is stopped and its status is
  ours, since without a server there is nothing to run.

Production runs each as a service of its own instead (docs/deploy.md).
"""
from __future__ import annotations

import ctypes
import dataclasses
import os
import signal
import subprocess
import sys
import time
from typing import Callable

TICK = 0.2
RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 60.0
ESCALATE_AFTER = 3.0  # seconds before a child that ignored SIGINT gets SIGTERM
HEALTHY_AFTER = 60.0  # a worker up this long has its restart delay reset
PR_SET_PDEATHSIG = 1


@dataclasses.dataclass
class Child:
    name: str
    argv: list[str]
    restart: bool = False  # restart it when it dies (the worker), or stop all (the server)
    while_down: str = "The server keeps serving; e-mails wait in the outbox meanwhile."
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    delay: float = RESTART_DELAY
    restart_at: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _child_setup() -> None:
    """In the child, before exec: Ctrl-C reaches it through us (as SIGTERM),
    not half-way through its start-up as a KeyboardInterrupt traceback; and
    our death is its SIGTERM (Linux), so it is never orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


class Supervisor:
    def __init__(self, children: list[Child], *, echo: Callable[[str], None],
                 stop_timeout: float = 15.0, env: dict | None = None):
        self.children, self.echo = children, echo
        self.stop_timeout, self.env = stop_timeout, env
        self.stop_signal: int | None = None

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, env=self.env, preexec_fn=_child_setup)
        child.started_at, child.restart_at = time.monotonic(), None

    def _on_signal(self, signum, _frame) -> None:
        self.stop_signal = signum

    def run(self, on_started: Callable[[list[Child]], None] | None = None) -> int:
        """Start every child and watch them; the exit status to end with.
        `on_started` is told once all are running (the banner)."""
        previous = {s: signal.signal(s, self._on_signal)
                    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            for child in self.children:
                self.start(child)
            if on_started is not None:
                on_started(self.children)
            return self._watch()
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _watch(self) -> int:
        while self.stop_signal is None:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        self.start(child)
                        self.echo(f"{child.name} restarted (pid {child.pid})")
                    continue
                status = child.process.poll()
                if status is None:
                    if now - child.started_at >= HEALTHY_AFTER:
                        child.delay = RESTART_DELAY
                    continue
                if self.stop_signal is not None:
                    break  # stopping: an exit now is expected
                if not child.restart:
                    self.echo(f"{child.name} exited ({_status(status)}); stopping the rest")
                    return status or 1
                self.echo(f"{child.name} exited ({_status(status)}); restarting it in "
                          f"{child.delay:g} s. {child.while_down}")
                child.restart_at = now + child.delay
                child.delay = min(child.delay * 2, MAX_RESTART_DELAY)
            time.sleep(TICK)
        return 0

    def _stop_all(self) -> None:
        """Each child gets the signal we got: SIGINT (Ctrl-C) is gunicorn's
        quick shutdown, SIGTERM its graceful one. A child that ignores it (one
        still starting up ignores SIGINT) gets SIGTERM after ESCALATE_AFTER,
        and whatever still runs at `stop_timeout` is killed."""
        first = signal.SIGINT if self.stop_signal == signal.SIGINT else signal.SIGTERM
        started = time.monotonic()
        for signum, wait_until in ((first, started + ESCALATE_AFTER),
                                   (signal.SIGTERM, started + self.stop_timeout)):
            for child in self.children:
                if child.running():
                    child.process.send_signal(signum)
            for child in self.children:
                if child.process is not None:
                    try:
                        child.process.wait(timeout=max(wait_until - time.monotonic(), 0))
                    except subprocess.TimeoutExpired:
                        pass
            if not any(child.running() for child in self.children):
                return
        for child in self.children:
            if child.running():
                self.echo(f"{child.name} did not stop in {self.stop_timeout:g} s: killed")
                child.process.kill()
                child.process.wait()


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"status {code}"


def supervise(children: list[Child], *, echo: Callable[[str], None],
              on_started: Callable[[list[Child]], None] | None = None,
              stop_timeout: float = 15.0) -> int:
    """Run `children` until the first one that is not restarted ends, or we
    are told to stop."""
    supervisor = Supervisor(children, echo=echo, stop_timeout=stop_timeout, env=dict(os.environ))
    return supervisor.run(on_started)
