"""Payments per second on PostgreSQL during a due-date rush, next to pgbench.

C client processes post payments through `Bank.post_payment`, every one to the
same biller (service 1411), each client paying from its own accounts; then
`pgbench -b tpcb-like` runs with the same client count against the same server.
Target: our payments/s >= 0.5 x pgbench's tps.

    .venv/bin/python bench/payments.py [--clients 8] [--seconds 15]

It creates two databases named ivr_bench_* and drops them at the end, also on
error or Ctrl-C.
"""
from __future__ import annotations

import argparse
import collections
import logging
import multiprocessing as mp
import os
import queue
import re
import shlex
import subprocess
import sys
import time
import uuid

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url

from banking_core import migrate
from banking_core.bank import Bank
from banking_core.db import make_engine, make_session_factory
from banking_core.loader import load_bank_file
from banking_core.loader_schema import BankFile
from banking_core.policy import BankPolicy
from banking_core.secrets import SecretHasher

SERVICE_KEY, REFERENCE, AMOUNT = "1411", "9876543217", 100
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Limits must never be what refuses a payment: we measure throughput, not policy.
POLICY = BankPolicy(daily_limits={"phone": 10**14, "web": 10**14, "agent": 10**14})


def quiet_logs() -> None:
    # Only warnings: a log line per payment would time the terminal, not the bank.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def make_bank(url: str, pool_size: int) -> Bank:
    # make_engine's production defaults (pool_pre_ping included) are kept apart
    # from the pool size, so we time the path the IVR really takes.
    engine = make_engine(url, pool_size=pool_size, max_overflow=0)
    # Argon2 is not on the payment path; cheap parameters keep setup fast.
    hasher = SecretHasher(pepper="bench-pepper-0123456789abcdef", time_cost=1, memory_kib=64)
    return Bank(session_factory=make_session_factory(engine), hasher=hasher, policy=POLICY)


def admin_sql(url: str, *statements: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def load_accounts(bank: Bank, count: int) -> list[tuple]:
    """One biller, `count` customers with one well-funded cheques account each;
    returns (principal, account_id) per customer."""
    load_bank_file(bank, BankFile.model_validate({
        "billers": [{
            "service_key": SERVICE_KEY, "name": "Bench Internet",
            "amount": {"min": 1, "max": 50000},
            "references": [{"label": "Cliente", "charset": "numeric", "length": 10,
                            "check_digit": "luhn"}],
        }],
        "customers": [{
            "name": f"Cliente {i}", "email": f"cliente{i}@bench.example",
            "accounts": [{"number": f"{i:010d}", "kind": "cheques", "balance": 10**9}],
        } for i in range(1, count + 1)],
    }))
    with bank.unit_of_work() as uow:
        customer_ids = uow.session.scalars(text("SELECT id FROM customers ORDER BY id")).all()
    pairs = []
    for customer_id in customer_ids:
        principal = bank.principal_for_customer(customer_id, method="bench")
        (account_id,) = principal.account_ids
        pairs.append((principal, account_id))
    return pairs


def client(index, url, accounts, start, warmup, seconds, barrier, results, profile):
    """One client process: warm up, then post payments back to back for `seconds`."""
    quiet_logs()
    bank = make_bank(url, pool_size=1)
    try:
        bank.find_service(SERVICE_KEY)  # opens the connection before the clock starts
        barrier.wait(timeout=120)  # every client is ready ...
        barrier.wait(timeout=120)  # ... and the parent has set the start time
        begin, end = start.value + warmup, start.value + warmup + seconds
        profiler = __import__("cProfile").Profile() if profile and index == 0 else None
        posted = measured = n = 0
        latencies, errors = [], collections.Counter()
        # This process's CPU (user + system) from the first payment started in
        # the window to the end of the last one: the client's cost per payment.
        cpu_start, started = None, 0
        while (t0 := time.monotonic()) < end:
            principal, account_id = accounts[n % len(accounts)]
            n += 1
            if t0 >= begin:
                if cpu_start is None:
                    cpu_start = time.process_time()
                started += 1
            if profiler and t0 >= begin:
                profiler.enable()
            try:
                bank.post_payment(principal, channel="phone", account_id=account_id,
                                  service_key=SERVICE_KEY, references=[REFERENCE],
                                  amount_centavos=AMOUNT, idempotency_key=str(uuid.uuid4()))
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops us
                errors[f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"] += 1
                continue
            finally:
                if profiler:
                    profiler.disable()
            t1 = time.monotonic()
            posted += 1
            if begin <= t0 and t1 < end:  # only payments wholly inside the window
                measured += 1
                latencies.append(t1 - t0)
        cpu = time.process_time() - cpu_start if cpu_start is not None else 0.0
        if profiler:
            profiler.dump_stats(profile)
        results.put((posted, measured, latencies, errors, cpu, started))
    except KeyboardInterrupt:
        pass
    finally:
        bank.session_factory.kw["bind"].dispose()


def run_payments(url, accounts, args):
    ctx = mp.get_context("spawn")  # a fresh interpreter each: no inherited connections
    barrier, start, results = ctx.Barrier(args.clients + 1), ctx.Value("d", 0.0), ctx.Queue()
    per = args.accounts_per_client
    procs = [ctx.Process(target=client, daemon=True, args=(
        i, url, accounts[i * per:(i + 1) * per], start, args.warmup, args.seconds,
        barrier, results, args.profile)) for i in range(args.clients)]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=120)  # every client has imported and connected
        # CLOCK_MONOTONIC is system-wide on Linux, so one start time serves all.
        start.value = time.monotonic()
        barrier.wait(timeout=120)
        out, deadline = [], time.monotonic() + args.warmup + args.seconds + 120
        while len(out) < len(procs):
            try:
                out.append(results.get(timeout=1))
            except queue.Empty:
                if time.monotonic() > deadline or any(p.exitcode for p in procs):
                    raise RuntimeError("a client process died or hung (traceback above)")
        for p in procs:
            p.join(timeout=30)
        return out
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()


def pgbench(admin, db, args, *options) -> str:
    cmd = ["pgbench", "-h", admin.host, "-p", str(admin.port or 5432),
           "-U", admin.username or "postgres", *options, db]
    env = dict(os.environ, **({"PGPASSWORD": admin.password} if admin.password else {}))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=args.seconds + 600)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def run_pgbench(admin, db, args) -> tuple[float, str]:
    pgbench(admin, db, args, "-i", "-s", str(args.scale), "-q")
    run = ["-b", "tpcb-like", "-c", str(args.clients), "-j", str(args.clients), "-n", "-T"]
    pgbench(admin, db, args, *run, str(max(1, round(args.warmup))))  # its warm-up, unmeasured
    out = pgbench(admin, db, args, *run, str(args.seconds))
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    if not tps:
        raise RuntimeError(f"could not read tps from pgbench:\n{out}")
    return float(tps.group(1)), latency.group(1) if latency else "?"


def ms_at(sorted_seconds, q) -> float:
    return 1000 * sorted_seconds[min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))] \
        if sorted_seconds else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--accounts-per-client", type=int, default=50)
    parser.add_argument("--scale", type=int, help="pgbench scale (default: the client count)")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="admin connection used to create and drop the bench databases")
    parser.add_argument("--profile", metavar="FILE", help="cProfile client 0's window into FILE")
    args = parser.parse_args(argv)
    args.scale = args.scale or args.clients
    admin = make_url(args.postgres_url)
    if admin.host not in LOOPBACK:
        parser.error("the benchmark only runs against a server on 127.0.0.1")
    if min(args.clients, args.seconds, args.accounts_per_client) < 1:
        parser.error("--clients, --seconds and --accounts-per-client must be positive")

    suffix = uuid.uuid4().hex[:10]
    bank_db, pg_db = f"ivr_bench_pay_{suffix}", f"ivr_bench_pgbench_{suffix}"
    bank_url = admin.set(drivername="postgresql+psycopg", database=bank_db) \
        .render_as_string(hide_password=False)
    created = []
    try:
        for db in (bank_db, pg_db):
            admin_sql(args.postgres_url, f'CREATE DATABASE "{db}"')
            created.append(db)
        migrate.upgrade(bank_url)
        quiet_logs()
        bank = make_bank(bank_url, pool_size=2)
        accounts = load_accounts(bank, args.clients * args.accounts_per_client)
        # pgbench -i ends with VACUUM ANALYZE of what it loaded; do the same for
        # the tables we loaded. Not for the still-empty ledger tables: analyzed
        # while empty, PostgreSQL caches its foreign-key checks' plans as scans
        # that slow every insert as the tables grow, until autovacuum analyzes
        # them (about a minute into a real deployment, but not within a 15 s run).
        admin_sql(bank_url, "VACUUM ANALYZE customers, accounts, credentials, billers, "
                            "biller_references", "CHECKPOINT")

        load_before = os.getloadavg()[0]
        print(f"posting payments: {args.clients} clients, {args.warmup:g} s warm-up + "
              f"{args.seconds} s ...", flush=True)
        results = run_payments(bank_url, accounts, args)
        posted, measured = sum(r[0] for r in results), sum(r[1] for r in results)
        latencies = sorted(x for r in results for x in r[2])
        errors = sum((r[3] for r in results), collections.Counter())
        client_cpu = sum(r[4] for r in results) / max(1, sum(r[5] for r in results))
        report = bank.verify()
        bank.session_factory.kw["bind"].dispose()

        admin_sql(args.postgres_url, "CHECKPOINT")
        print(f"running pgbench: scale {args.scale}, {args.clients} clients ...", flush=True)
        tps, pg_latency = run_pgbench(admin, pg_db, args)

        ours = measured / args.seconds
        ratio = ours / tps if tps else float("nan")
        same = report.payments == posted
        command = shlex.join([os.path.relpath(sys.executable), *sys.argv])
        print(f"""
clients                 {args.clients} processes, {args.accounts_per_client} accounts each, \
all paying service {SERVICE_KEY}
duration                {args.seconds} s measured after {args.warmup:g} s warm-up \
(1-min load average before: {load_before:.2f} on {os.cpu_count()} CPUs)
payments/s              {ours:.1f}  ({measured} payments in the window)
payment latency         p50 {ms_at(latencies, 0.50):.2f} ms, p99 {ms_at(latencies, 0.99):.2f} ms
client CPU per payment  {client_cpu * 1e6:.0f} us  (user + system, the client processes' own)
errors                  {sum(errors.values())}""")
        for key, n in errors.most_common():
            print(f"    {n} x {key}")
        print(f"""\
pgbench tpcb-like tps   {tps:.1f}  (scale {args.scale}, -c {args.clients} -j {args.clients}, \
latency average {pg_latency} ms)
ratio                   {ratio:.3f}  (target >= 0.5: {'MET' if ratio >= 0.5 else 'NOT MET'})
ledger                  {'verified' if report.ok else 'BROKEN'}: {report.summary()}
payments in database    {report.payments}, clients counted {posted} (warm-up included): \
{'match' if same else 'MISMATCH'}
reproduce               cd {os.getcwd()} && {command}""")
        return 0 if report.ok and same and not errors else 1
    except KeyboardInterrupt:
        print("\ninterrupted; dropping the bench databases", file=sys.stderr)
        return 130
    finally:
        for db in created:
            admin_sql(args.postgres_url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
