"""`ivr worker`'s loop: each job at its own pace, a failing round logged by its
error's type and followed by the next, and a stop request honoured between
jobs (the process tests are tests/e2e/test_serve_and_worker.py)."""
from structlog.testing import capture_logs

from linea_directa.worker import Job, Worker


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
