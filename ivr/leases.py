"""A call's lock is a lease: short, renewed while its turn works, fenced.

Twilio gives a turn 15 s in all (its webhook's default read timeout and total
time are 15,000 ms: "Webhooks (HTTP callbacks): Connection Overrides",
https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides), and
when its connection to the webhook fails it tries once more (retry count `rc`,
default 1, "the number of retry attempts Twilio will make if its connection to
your webhook fails"). A worker killed in the middle of a turn drops that
connection: Twilio's retry comes at once and must find the call free within a
second or two, not after a 10 s lock expires. Hence:

- a lease of LEASE seconds, which a holder that is alive keeps renewing (one
  thread per process renews every lease the process holds, every RENEW_EVERY);
  a holder that died stops renewing, and its lease lapses within LEASE;
- a fencing token: each holder's token is written beside the state when it
  takes the lease, and a save is refused unless that token is still the last
  one taken. A turn that lost its lease (stalled past it, or behind a holder
  presumed dead) can never write over the state of the turn that took over.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

import structlog

LEASE = 1.5  # seconds: a dead holder blocks its call this long at most
RENEW_EVERY = 0.4  # well inside LEASE, so a late tick or two never loses it
# A turn behind a live holder (a duplicate delivery of a turn that is posting a
# payment) waits this long for it at most, leaving Twilio's 15 s time to answer.
LOCK_WAIT = 8.0

log = structlog.get_logger("ivr")


class LeaseLost(RuntimeError):
    """The turn's lease passed to another holder: its state may not be saved."""


class Renewer:
    """Keeps this process's leases alive. `renew(held)` gets [(call_sid,
    token), …] and answers, for each, whether the lease is still ours."""

    def __init__(self, renew: Callable[[list], list]):
        self._renew = renew
        self._held: dict[str, str] = {}  # call_sid -> token
        self._guard = threading.Lock()
        self._pid = None  # the thread does not survive a fork (gunicorn's workers)
        self._wake = threading.Event()

    def add(self, call_sid: str, token: str) -> None:
        with self._guard:
            self._held[call_sid] = token
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="ivr-lease-renewer",
                                 daemon=True).start()

    def remove(self, call_sid: str, token: str) -> bool:
        """Stop renewing; False if it was not being renewed (any more)."""
        with self._guard:
            if self._held.get(call_sid) != token:
                return False
            del self._held[call_sid]
            return True

    def _run(self) -> None:
        pid = os.getpid()
        while pid == self._pid:
            time.sleep(RENEW_EVERY)
            with self._guard:
                held = list(self._held.items())
            if not held:
                continue
            try:
                kept = self._renew(held)
            except Exception as exc:  # noqa: BLE001 - the store is down: the save will say
                log.warning("lease_renewal_failed", leases=len(held), error=type(exc).__name__)
                continue
            for (call_sid, token), ours in zip(held, kept):
                # A lease released since the snapshot is no loss: its turn is over.
                if not ours and self.remove(call_sid, token):
                    log.warning("lease_lost", call=call_sid)
