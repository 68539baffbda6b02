"""The app as a server builds it (linea_directa.app.serving_app, what gunicorn,
`ivr serve` and wsgi.py load): start-up's objects frozen out of the garbage
collector's passes, the collector still on for what turns make, and the app
answering. Run in a process of its own: a freeze would keep this one's test
apps for good."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_PEPPER

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import gc, json, weakref
from linea_directa.app import serving_app

app = serving_app()
frozen = gc.get_freeze_count()

class Cycle:
    pass

garbage = Cycle()
garbage.me = garbage
gone = weakref.ref(garbage)
del garbage
gc.collect()
print(json.dumps({"frozen": frozen, "enabled": gc.isenabled(), "cycle_collected": gone() is None,
                  "healthz": app.test_client().get("/healthz").status_code}))
"""


def test_a_served_app_freezes_what_start_up_built(tmp_path, sqlite_url):
    env = {**os.environ, "IVR_ENV": "test", "IVR_INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": sqlite_url, "NIP_PEPPER": TEST_PEPPER, "ARGON2_TIME_COST": "1",
           "ARGON2_MEMORY_KIB": "64"}
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([sys.executable, "-c", SERVE], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["frozen"] > 50_000  # the app, its menu and prompts, the libraries
    assert seen["enabled"] and seen["cycle_collected"]  # a turn's garbage still goes
    assert seen["healthz"] == 200


def test_gunicorn_and_ivr_serve_load_the_served_app():
    import runpy

    from linea_directa.cli import GUNICORN_CONFIG, server_argv

    assert runpy.run_path(str(GUNICORN_CONFIG))["wsgi_app"] == "linea_directa.app:serving_app()"
    assert server_argv("127.0.0.1", 5000, 2, 4)[-1] == "linea_directa.app:serving_app()"
