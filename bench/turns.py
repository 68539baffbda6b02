"""Mid-call turns per second: the IVR on gunicorn (2 workers, call state in Redis)
against a bare Flask app answering a fixed <Gather> the same way.

Each measured request is a real turn of a live call: the caller presses * at
the main menu (repeat), so the worker checks the Twilio signature, takes the
call's lock in Redis, loads its state, runs the interpreter, renders TwiML and
saves the state back. Calls are set up first through the webhooks themselves
(greeting, log-in as the demo customer). wrk sends the turns in order, each
call's turn number rising by one per visit, all signed in advance; afterwards
the states in Redis must show that every measured turn was really processed
(none answered from the duplicate-replay path).

    .venv/bin/python bench/turns.py [--seconds 10] [--connections 8] [--calls 500]

Targets (issue 15): with --also-redis-floor, the IVR sustains at least 0.85
of the floor's turns per second (the bare app plus only a locked turn's two
Redis round trips), with p99 under 25 ms. Needs Redis on 127.0.0.1:6379
(uses database 14, flushed) and wrk.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
TOKEN = "bench-twilio-token"
REDIS_URL = "redis://127.0.0.1:6379/14"
LOGIN = ["1", "10000001", "1357"]  # to the main menu, as the demo customer


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def gunicorn(app_spec: str, port: int, env: dict, threads: int, workers: int = 2
             ) -> subprocess.Popen:
    return subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", app_spec],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    # SIGINT is gunicorn's quick shutdown: a graceful SIGTERM may wait out
    # wrk's keep-alive connections (graceful_timeout, 30 s).
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


class HttpTransport:
    def post(self, url, data, headers):
        request = urllib.request.Request(url, data=urlencode(data).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def set_up_calls(base_url: str, count: int):
    """Live calls standing at the main menu; returns them (simulator objects)."""
    from qa.simulator import SimulatedCall

    calls = []
    for _ in range(count):
        call = SimulatedCall(HttpTransport(), base_url=base_url, auth_token=TOKEN)
        call.start()
        for keys in LOGIN:
            heard = call.press(keys)
        if "cuentas de cheques" not in heard.text:
            raise RuntimeError(f"setup call did not reach the main menu: {heard.text}")
        calls.append(call)
    return calls


def next_turns(calls, redis_client=None) -> list[int]:
    """Each call's next turn number: from its last answer, or, once turns
    were served behind the simulator's back (by wrk), from its state."""
    if redis_client is None:
        return [int(call.last.gather["action"].rsplit("t=", 1)[1]) for call in calls]
    from ivr.state import CallState
    return [CallState.from_json(redis_client.get(f"ivr:call:{call.call_sid}")).turn
            for call in calls]


def write_wrk_script(path: Path, base_url: str, calls, turns_each: int,
                     first_turns: list[int]) -> int:
    """Request i goes to call i mod N at its next turn: N requests apart, a
    call's turns are sequential, as Twilio's are."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    lines = ["local reqs = {}"]
    count = 0
    for round_ in range(turns_each):
        for call, first in zip(calls, first_turns):
            turn = first + round_
            url = f"{base_url}/ivr/step?t={turn}"
            params = call._params(Digits="*")
            body = urlencode(params)
            sig = validator.compute_signature(url, params)
            count += 1
            lines.append(f'reqs[{count}] = {{"/ivr/step?t={turn}", "{body}", "{sig}"}}')
    lines.append(f"local total = {count}")
    lines.append("""
local counter = 0
local step = 1
local threads = {}
-- `offset` is a global set per thread by setup() (thread:set); a local of the
-- same name here would hide it.
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
function init(args)
  step = tonumber(args[1] or "1")
end
function request()
  -- Past the signed turns it wraps around; for the IVR those would be
  -- replays, which the check after the run reports (sign more turns then).
  local i = ((offset or 0) + counter * step) % total + 1
  counter = counter + 1
  local r = reqs[i]
  return wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["X-Twilio-Signature"] = r[3]}, r[2])
end
""")
    path.write_text("\n".join(lines))
    return count


def run_wrk(url: str, script: Path, args, threads: int) -> dict:
    command = ["wrk", "-t", str(threads), "-c", str(args.connections), "-d", f"{args.seconds}s",
               "--latency", "-s", str(script), url, "--", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    output = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rps": rps, "p50": latency.get("50"), "p99": latency.get("99"),
            "non2xx": int(errors.group(1)) if errors else 0, "requests": total,
            "command": " ".join(shlex.quote(c) for c in command)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--turns-each", type=int, default=100,
                        help="turns signed in advance per call (must outlast the run)")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--also-redis-floor", action="store_true",
                        help="also measure the bare app plus only the two Redis round "
                             "trips of a locked turn (bench/bare_redis_gather.py)")
    parser.add_argument("--also-required-floor", action="store_true",
                        help="also measure the floor plus only what any correct turn must "
                             "do (bench/bare_redis_required.py)")
    parser.add_argument("--floor-keeps-connection", action="store_true",
                        help="the floor keeps one Redis connection per worker, as the "
                             "IVR keeps one per thread, instead of the pool's per command")
    parser.add_argument("--rounds", type=int, default=1,
                        help="IVR runs (each followed by a floor run with "
                             "--also-redis-floor); ratios are the rounds' median")
    parser.add_argument("--worker-threads", type=int, default=1,
                        help="gunicorn --threads for both apps (1: sync workers)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    sys.path.insert(0, str(ROOT))
    import redis

    redis_client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    redis_client.flushdb()
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-turns-"))
    base_url = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "IVR_ENV": "development", "REDIS_URL": REDIS_URL,
           "DATABASE_URL": f"sqlite:///{work / 'bank.db'}", "IVR_INSTANCE_PATH": str(work),
           "PUBLIC_BASE_URL": base_url, "TWILIO_AUTH_TOKEN": TOKEN, "LOG_LEVEL": "WARNING",
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "64"}
    subprocess.run([str(VENV_BIN / "ivr"), "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    subprocess.run([str(VENV_BIN / "ivr"), "bank", "seed-demo"], env=env, check=True,
                   capture_output=True)
    threads = 2
    server = gunicorn("linea_directa.app:serving_app()", args.port, env, args.worker_threads)
    floor_server = required_server = None
    ivr_runs, floor_runs, required_runs = [], [], []
    processed = counted = 0
    try:
        wait_until_up(f"{base_url}/healthz")
        if args.also_redis_floor:
            floor_port = args.port + 2
            floor_server = gunicorn(
                "bench.bare_redis_gather:app", floor_port,
                {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_REDIS_URL": REDIS_URL,
                 "BENCH_KEEP_CONNECTION": "1" if args.floor_keeps_connection else ""},
                args.worker_threads)
            wait_until_up(f"http://127.0.0.1:{floor_port}/ivr/step")
        if args.also_required_floor:
            required_port = args.port + 3
            required_server = gunicorn(
                "bench.bare_redis_required:app", required_port,
                {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_REDIS_URL": REDIS_URL,
                 "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": base_url},
                args.worker_threads)
            wait_until_up(f"http://127.0.0.1:{required_port}/ivr/step")
        print(f"setting up {args.calls} live calls through the webhooks ...", flush=True)
        calls = set_up_calls(base_url, args.calls)
        script = work / "turns.lua"
        # The IVR and the floor take turns, so a slow spell of the machine
        # (the other core busy) weighs on both alike; the ratio is the median
        # of each round's.
        for round_ in range(args.rounds):
            first = next_turns(calls, redis_client if round_ else None)
            signed = write_wrk_script(script, base_url, calls, args.turns_each, first)
            print(f"round {round_ + 1}/{args.rounds}: wrk {args.seconds} s, "
                  f"{args.connections} connections, {signed} turns signed", flush=True)
            run = run_wrk(base_url, script, args, threads)
            processed += sum(next_turns(calls, redis_client)) - sum(first)
            counted += run["requests"]
            ivr_runs.append(run)
            if floor_server is not None:
                floor_runs.append(run_wrk(f"http://127.0.0.1:{floor_port}", script, args,
                                          threads))
            if required_server is not None:
                required_runs.append(run_wrk(f"http://127.0.0.1:{required_port}", script,
                                             args, threads))
    finally:
        stop(server)
        for extra in (floor_server, required_server):
            if extra is not None:
                stop(extra)
    bare_port = args.port + 1
    bare = gunicorn("bench.bare_gather:app", bare_port, {**os.environ, "PYTHONPATH": str(ROOT)},
                    args.worker_threads)
    try:
        wait_until_up(f"http://127.0.0.1:{bare_port}/ivr/step")
        ceiling = run_wrk(f"http://127.0.0.1:{bare_port}", script, args, threads)
    finally:
        stop(bare)
    redis_client.flushdb()
    shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'':26}{'turns/s':>10}{'p50':>10}{'p99':>10}{'non-2xx':>9}")
    for i, run in enumerate(ivr_runs):
        print(f"{'IVR (Redis state) ' + str(i + 1):26}{run['rps']:>10.1f}{run['p50']:>10}"
              f"{run['p99']:>10}{run['non2xx']:>9}")
        if floor_runs:
            floor = floor_runs[i]
            label = "floor, kept conn. " if args.floor_keeps_connection else "bare + 2 Redis trips "
            print(f"{label + str(i + 1):26}{floor['rps']:>10.1f}"
                  f"{floor['p50']:>10}{floor['p99']:>10}{floor['non2xx']:>9}   "
                  f"IVR / floor {run['rps'] / floor['rps']:.3f}")
        if required_runs:
            required = required_runs[i]
            print(f"{'floor + required ' + str(i + 1):26}{required['rps']:>10.1f}"
                  f"{required['p50']:>10}{required['p99']:>10}{required['non2xx']:>9}"
                  + (f"   / floor {required['rps'] / floor_runs[i]['rps']:.3f}"
                     if floor_runs else ""))
    print(f"{'bare Flask <Gather>':26}{ceiling['rps']:>10.1f}{ceiling['p50']:>10}"
          f"{ceiling['p99']:>10}{ceiling['non2xx']:>9}")
    ivr_rps = statistics.median(run["rps"] for run in ivr_runs)
    print(f"IVR / bare            {ivr_rps / ceiling['rps']:.3f}  (median of the rounds)")
    if floor_runs:
        ratio = statistics.median(r["rps"] / f["rps"] for r, f in zip(ivr_runs, floor_runs))
        print(f"IVR / floor           {ratio:.3f}  (median of the rounds; "
              f"target >= 0.85: {'MET' if ratio >= 0.85 else 'NOT MET'})")
    if floor_runs and required_runs:
        needed = statistics.median(q["rps"] / f["rps"] for q, f in zip(required_runs, floor_runs))
        print(f"required / floor      {needed:.3f}  (median: what a turn's required work "
              "alone leaves of the floor)")
    worst_p99 = max(parse_ms(run["p99"]) for run in ivr_runs)
    print(f"IVR p99 (worst round) {worst_p99:.1f} ms  (target < 25 ms: "
          f"{'MET' if worst_p99 < 25 else 'NOT MET'})")
    # wrk may count a few requests whose answers it drops at the stop.
    print(f"turns really processed {processed} of {counted} counted by wrk")
    print(f"server                gunicorn, 2 sync workers, 127.0.0.1; wrk {threads} threads")
    print(f"reproduce             cd {ROOT} && {sys.executable} bench/turns.py "
          f"--seconds {args.seconds} --connections {args.connections} --calls {args.calls}"
          f" --rounds {args.rounds}{' --also-redis-floor' if floor_runs else ''}"
          f"{' --floor-keeps-connection' if args.floor_keeps_connection else ''}"
          f"{' --also-required-floor' if required_runs else ''}")
    ok = all(run["non2xx"] == 0 for run in ivr_runs) and processed >= 0.99 * counted
    return 0 if ok else 1


def parse_ms(text: str) -> float:
    """wrk's latency ("812.00us", "9.40ms", "1.02s") in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


if __name__ == "__main__":
    sys.exit(main())
