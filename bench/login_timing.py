"""How long a failed customer log-in takes, by what failed: an unknown access
key, a real key with a wrong NIP, a malformed key, a blocked key. With the
production Argon2 cost (ARGON2_* defaults) on the same database `make run`
uses (SQLite under a temporary directory) or PostgreSQL (--database-url).
Samples are interleaved (round-robin over the cases) so drift in the machine's
load hits every case alike; prints median, p10 and p90 per case and the
largest gap between medians. Run by hand:

    .venv/bin/python bench/login_timing.py [--samples 200] [--database-url postgresql://…]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from banking_core import errors, loader, migrate
from banking_core.bank import build_bank
from config import Settings

CASES = {
    "unknown key": ("10000099", "1357"),
    "wrong NIP": ("10000001", "0000"),
    "malformed key": ("1000000", "1357"),
    "blocked key": ("10000002", "2580"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        settings = Settings.from_env({"IVR_ENV": "development", "DATABASE_URL": url,
                                      "IVR_INSTANCE_PATH": tmp})
        bank = build_bank(settings)
        loader.seed_demo(bank)
        for _ in range(settings.max_failed_attempts):  # block Carlos's key
            try:
                bank.authenticate(method="access_key", identifier="10000002", nip="0000")
            except errors.DomainError:
                pass
        times = {name: [] for name in CASES}
        for _ in range(args.samples):
            for name, (key, nip) in CASES.items():
                start = time.perf_counter()
                try:
                    bank.authenticate(method="access_key", identifier=key, nip=nip)
                except errors.DomainError:
                    pass
                times[name].append((time.perf_counter() - start) * 1000)
                if name == "wrong NIP":  # never let the real key block (not timed)
                    bank.unblock(method="access_key", identifier=key)
        print(f"{args.samples} samples each, Argon2 t={settings.argon2_time_cost} "
              f"m={settings.argon2_memory_kib} KiB, {url.split(':')[0]}")
        medians = {}
        for name, values in times.items():
            q = statistics.quantiles(values, n=10)
            medians[name] = statistics.median(values)
            print(f"  {name:14} median {medians[name]:6.2f} ms   p10 {q[0]:6.2f}   p90 {q[-1]:6.2f}")
        gap = max(medians.values()) - min(medians.values())
        print(f"  largest gap between medians: {gap:.2f} ms "
              f"({gap / min(medians.values()):.1%} of the fastest)")
        bank.engine.dispose()


if __name__ == "__main__":
    main()
