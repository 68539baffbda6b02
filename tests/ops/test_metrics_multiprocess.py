"""Multiprocess mode, as under gunicorn: with PROMETHEUS_MULTIPROC_DIR set,
each process writes its counts to files there, and a scrape answered by any
process sums them all. Two processes each place a call; a third scrapes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from banking_core import loader
from banking_core.models import CallRecord
from config import Settings
from linea_directa import metrics
from linea_directa.app import create_app
from tests.conftest import TEST_PEPPER
from tests.ops.helpers import parse

ROOT = Path(__file__).resolve().parents[2]

A_CALL = """
import os
from linea_directa.app import create_app
from qa.simulator import FlaskTransport, SimulatedCall

app = create_app()
settings = app.extensions["settings"]
call = SimulatedCall(FlaskTransport(app.test_client()), base_url=settings.public_base_url,
                     auth_token=settings.twilio_auth_token)
call.start()
for keys in ("1", "10000001", "1357"):
    call.press(keys)
assert call.hang_up() == 204
print(os.getpid())
"""

A_SCRAPE = """
import sys
from linea_directa.app import create_app

sys.stdout.write(create_app().test_client().get("/metrics").get_data(as_text=True))
"""


@pytest.fixture
def environment(tmp_path, sqlite_url):
    env = {**os.environ, "IVR_ENV": "test", "IVR_INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": sqlite_url, "NIP_PEPPER": TEST_PEPPER, "ARGON2_TIME_COST": "1",
           "ARGON2_MEMORY_KIB": "64", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    env.pop("REDIS_URL", None)
    app = create_app(Settings.from_env(env))
    loader.seed_demo(app.extensions["bank"])
    app.extensions["bank"].engine.dispose()
    return env  # the directory is not made here: the first process makes it


def run(script: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_scrape_sums_every_process(environment, sqlite_url):
    pids = {run(A_CALL, environment).strip().splitlines()[-1] for _ in range(2)}
    assert len(pids) == 2
    directory = Path(environment["PROMETHEUS_MULTIPROC_DIR"])
    assert {f"counter_{pid}.db" for pid in pids} <= {p.name for p in directory.iterdir()}

    samples = parse(run(A_SCRAPE, environment))
    app = create_app(Settings.from_env(environment))
    with app.extensions["bank"].unit_of_work() as uow:
        turns = uow.session.scalar(select(func.sum(CallRecord.turns)))
    app.extensions["bank"].engine.dispose()
    assert turns >= 8  # two calls of at least four turns each
    assert samples.total("ivr_turns_total") == turns
    assert samples.get_value("ivr_turn_duration_seconds_count") == turns
    assert samples.get_value("ivr_calls_total", outcome="caller_hung_up",
                             transfer_reason="") == 2
    # The registry of one process is not what was read: it has the garbage
    # collector's counts, multiprocess mode has none.
    assert not any(name.startswith("python_gc_") for name, _ in samples)


def test_serving_starts_from_an_empty_directory(tmp_path, monkeypatch):
    """`ivr serve` empties it: a previous run's counts would be added again."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_12345.db").write_bytes(b"\0" * 16)
    (directory / "notes.txt").write_text("not ours")
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(directory))
    metrics.prepare_multiprocess_dir()
    assert [p.name for p in directory.iterdir()] == ["notes.txt"]
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path / "new"))
    metrics.prepare_multiprocess_dir()
    assert (tmp_path / "new").is_dir()
