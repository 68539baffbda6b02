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

Target: the IVR sustains at least 0.75 of the bare app's turns per second.
Needs Redis on 127.0.0.1:6379 (uses database 14, flushed) and wrk.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
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


def write_wrk_script(path: Path, base_url: str, calls, turns_each: int) -> int:
    """Request i goes to call i mod N at its next turn: N requests apart, a
    call's turns are sequential, as Twilio's are."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    lines = ["local reqs = {}"]
    count = 0
    for round_ in range(turns_each):
        for call in calls:
            turn = int(call.last.gather["action"].rsplit("t=", 1)[1]) + round_
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
    server = gunicorn("linea_directa.app:create_app()", args.port, env, args.worker_threads)
    try:
        wait_until_up(f"{base_url}/healthz")
        print(f"setting up {args.calls} live calls through the webhooks ...", flush=True)
        calls = set_up_calls(base_url, args.calls)
        script = work / "turns.lua"
        signed = write_wrk_script(script, base_url, calls, args.turns_each)
        before = sum(int(call.last.gather["action"].rsplit("t=", 1)[1]) for call in calls)
        print(f"wrk: {args.seconds} s, {args.connections} connections, {signed} turns signed",
              flush=True)
        ivr = run_wrk(base_url, script, args, threads)
        from ivr.state import CallState
        after = sum(CallState.from_json(redis_client.get(f"ivr:call:{call.call_sid}")).turn
                    for call in calls)
    finally:
        stop(server)
    processed = after - before
    bare_port = args.port + 1
    bare = gunicorn("bench.bare_gather:app", bare_port, {**os.environ, "PYTHONPATH": str(ROOT)},
                    args.worker_threads)
    try:
        wait_until_up(f"http://127.0.0.1:{bare_port}/ivr/step")
        ceiling = run_wrk(f"http://127.0.0.1:{bare_port}", script, args, threads)
    finally:
        stop(bare)
    floor = None
    if args.also_redis_floor:
        floor_port = args.port + 2
        server = gunicorn("bench.bare_redis_gather:app", floor_port,
                          {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_REDIS_URL": REDIS_URL},
                          args.worker_threads)
        try:
            wait_until_up(f"http://127.0.0.1:{floor_port}/ivr/step")
            floor = run_wrk(f"http://127.0.0.1:{floor_port}", script, args, threads)
        finally:
            stop(server)
    redis_client.flushdb()
    shutil.rmtree(work, ignore_errors=True)

    ratio = ivr["rps"] / ceiling["rps"]
    print()
    print(f"{'':22}{'turns/s':>10}{'p50':>10}{'p99':>10}{'non-2xx':>9}")
    print(f"{'IVR (Redis state)':22}{ivr['rps']:>10.1f}{ivr['p50']:>10}{ivr['p99']:>10}"
          f"{ivr['non2xx']:>9}")
    print(f"{'bare Flask <Gather>':22}{ceiling['rps']:>10.1f}{ceiling['p50']:>10}"
          f"{ceiling['p99']:>10}{ceiling['non2xx']:>9}")
    if floor is not None:
        print(f"{'bare + 2 Redis trips':22}{floor['rps']:>10.1f}{floor['p50']:>10}"
              f"{floor['p99']:>10}{floor['non2xx']:>9}   "
              f"(ratio to bare {floor['rps'] / ceiling['rps']:.3f})")
    print(f"ratio                 {ratio:.3f}  (target >= 0.75: {'MET' if ratio >= 0.75 else 'NOT MET'})")
    # wrk may count a few requests whose answers it drops at the stop.
    print(f"turns really processed {processed} of {ivr['requests']} counted by wrk")
    print(f"server                gunicorn, 2 sync workers, 127.0.0.1; wrk {threads} threads")
    print(f"reproduce             cd {ROOT} && {sys.executable} bench/turns.py "
          f"--seconds {args.seconds} --connections {args.connections} --calls {args.calls}")
    ok = ivr["non2xx"] == 0 and processed >= 0.99 * ivr["requests"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
