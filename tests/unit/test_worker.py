"""`ivr worker`'s loop: each job at its own pace, a failing round logged by its
error's type and followed by the next, and a stop request honoured between
jobs (the process tests are tests/e2e/test_serve_and_worker.py)."""
import dataclasses
from types import SimpleNamespace

from structlog.testing import capture_logs

from config import Settings
from ivr.state import MemoryCallStore
from linea_directa.worker import Job, Worker, describe, jobs_for


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_each_job_runs_at_its_own_pace_until_stopped():
    clock, runs = Clock(), []
    worker = Worker([Job("outbox", 1.0, lambda: runs.append(("outbox", clock.now)) or {}),
                     Job("sweep", 5.0, lambda: runs.append(("sweep", clock.now)) or {})],
                    clock=clock, sleep=clock.sleep)
    original_sleep = worker.sleep

    def sleep(seconds):
        original_sleep(seconds)
        if clock.now >= 10.5:
            worker.stop()

    worker.sleep = sleep
    worker.run()
    outbox = [round(t) for name, t in runs if name == "outbox"]
    sweep = [round(t) for name, t in runs if name == "sweep"]
    assert outbox == list(range(11)) and sweep == [0, 5, 10]


def test_a_failing_round_is_logged_without_its_message_and_the_next_one_runs():
    clock, calls = Clock(), []

    def deliver():
        calls.append(clock.now)
        if len(calls) == 1:
            raise ConnectionError("could not connect to postgresql://bank:s3cret@db/bank")
        return {"sent": 1, "failed": 0}

    worker = Worker([Job("outbox", 1.0, deliver)], clock=clock, sleep=clock.sleep)
    with capture_logs() as logs:
        worker.run_once()
        clock.now = 1.0
        worker.run_once()
    assert len(calls) == 2
    assert logs[0]["event"] == "worker_job_failed" and logs[0]["error"] == "ConnectionError"
    assert "s3cret" not in repr(logs)
    assert logs[1]["event"] == "worker_job_done" and logs[1]["sent"] == 1


def test_the_sweep_is_a_job_only_where_another_process_can_reach_the_call_states():
    plain = Settings.from_env({"IVR_ENV": "test", "SECRET_KEY": "s" * 40, "NIP_PEPPER": "p" * 40,
                               "TWILIO_AUTH_TOKEN": "t" * 32})
    with_redis = dataclasses.replace(plain, redis_url="redis://127.0.0.1:6379/0")

    def app(settings):
        return SimpleNamespace(extensions={"settings": settings, "bank": object(),
                                           "ivr": SimpleNamespace(store=MemoryCallStore())})

    def names(settings, sweep_every=60, due_every=60):
        return [job.name for job in jobs_for(app(settings), interval=1, due_every=due_every,
                                             sweep_every=sweep_every, sweep_idle=900)]

    assert names(plain) == ["outbox", "domiciliations"]
    assert names(with_redis) == ["outbox", "domiciliations", "transcripts_sweep"]
    assert names(with_redis, sweep_every=0, due_every=0) == ["outbox"]
    assert describe(plain, 1, 60) == (f"e-mails every 1 s as files in {plain.outbox_dir}/"
                                      "; domiciliations every 60 s")
    assert describe(with_redis, 2, 60).endswith("; transcripts sweep every 60 s")
    assert "domiciliations" not in describe(plain, 1, 60, due_every=0)
