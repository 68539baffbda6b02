"""Instructions per mid-call turn, counted by valgrind's callgrind: the same
figure whatever else the machine is doing (bench/turns.py's turns per second
move ±15% from run to run on a shared 2-core machine; this does not).

The app serves, in this process, signed `*` turns at the main menu of live
calls (set up through the webhooks: greeting, log-in as the demo customer),
through `app.wsgi_app` exactly as gunicorn calls it, with the call state in
Redis (database 13, flushed). Callgrind dumps its counters at each
`math.factorial` call, which marks the phases: set-up and warm-up, then the
measured turns. Garbage collection is run before the measured phase and the
survivors frozen, so a collection of the whole heap does not land in it.

    .venv/bin/python bench/turn_instructions.py                 # the IVR
    .venv/bin/python bench/turn_instructions.py --app floor     # bench/bare_redis_gather.py
    .venv/bin/python bench/turn_instructions.py --app required  # bench/bare_redis_required.py

Needs valgrind and Redis on 127.0.0.1:6379. Takes two to four minutes.
"""
from __future__ import annotations

import argparse
import gc
import glob
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-twilio-token"
BASE = "http://127.0.0.1:5077"
REDIS_URL = "redis://127.0.0.1:6379/13"
APPS = {"floor": "bench.bare_redis_gather", "required": "bench.bare_redis_required"}


def serve(args) -> None:
    """Runs under valgrind: set up, warm up, then the measured turns."""
    sys.path.insert(0, str(ROOT))
    work = tempfile.mkdtemp(prefix="turn-instructions-")
    os.environ.update({
        "IVR_ENV": "development", "REDIS_URL": REDIS_URL, "BENCH_REDIS_URL": REDIS_URL,
        "DATABASE_URL": f"sqlite:///{work}/bank.db", "IVR_INSTANCE_PATH": work,
        "PUBLIC_BASE_URL": BASE, "TWILIO_AUTH_TOKEN": TOKEN, "LOG_LEVEL": "WARNING",
        "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "64", "BILLER_DEMO_PORT": "0"})
    import redis
    from twilio.request_validator import RequestValidator
    from werkzeug.test import EnvironBuilder

    redis.Redis.from_url(REDIS_URL).flushdb()
    from linea_directa.app import create_app
    from qa.simulator import FlaskTransport, SimulatedCall

    bin_dir = Path(sys.executable).parent
    for command in (["db", "upgrade"], ["bank", "seed-demo"]):
        subprocess.run([str(bin_dir / "ivr"), *command], check=True, capture_output=True,
                       cwd=ROOT)
    ivr_app = create_app()
    calls = []
    for _ in range(args.calls):
        call = SimulatedCall(FlaskTransport(ivr_app.test_client()), base_url=BASE,
                             auth_token=TOKEN)
        call.start()
        for keys in ("1", "10000001", "1357"):
            heard = call.press(keys)
        assert "cuentas de cheques" in heard.text, heard.text
        calls.append((call, int(call.last.gather["action"].rsplit("t=", 1)[1])))
    if args.app == "ivr":
        app = ivr_app
    else:
        import importlib
        app = importlib.import_module(APPS[args.app]).app
    validator = RequestValidator(TOKEN)
    environs = []
    for i in range(args.warm + args.turns):
        call, first = calls[i % len(calls)]
        turn = first + i // len(calls)
        params = call._params(Digits="*")
        environs.append(EnvironBuilder(
            path="/ivr/step", query_string=f"t={turn}", method="POST", data=urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": validator.compute_signature(
                f"{BASE}/ivr/step?t={turn}", params)}).get_environ())

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise RuntimeError(f"a turn answered {status}")

    for environ in environs[:args.warm]:
        b"".join(app.wsgi_app(environ, start_response))
    gc.collect()
    gc.freeze()
    math.factorial(1)  # dump: everything before the measured turns
    for environ in environs[args.warm:]:
        b"".join(app.wsgi_app(environ, start_response))
    math.factorial(2)  # dump: the measured turns


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=["ivr", *APPS], default="ivr")
    parser.add_argument("--calls", type=int, default=1, help="live calls, served in turn")
    parser.add_argument("--warm", type=int, default=40)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args)
        return 0
    out = Path(tempfile.mkdtemp(prefix="turn-instructions-cg-"))
    command = ["valgrind", "--tool=callgrind", "--dump-before=math_factorial",
               f"--callgrind-out-file={out}/cg", sys.executable, __file__, "--serve",
               "--app", args.app, "--calls", str(args.calls), "--warm", str(args.warm),
               "--turns", str(args.turns)]
    done = subprocess.run(command, capture_output=True, text=True)
    dumps = sorted(glob.glob(f"{out}/cg.*"), key=lambda f: int(f.rsplit(".", 1)[1]))
    if done.returncode != 0 or len(dumps) < 2:
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    measured = next(int(line.split()[1]) for line in open(dumps[1])
                    if line.startswith(("summary:", "totals:")))
    print(f"{args.app}: {measured / args.turns:,.0f} instructions per turn "
          f"({args.turns} turns of {args.calls} call(s), callgrind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
