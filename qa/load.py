"""Many calls at once: each transcript replayed `repeat` times by `concurrency`
callers (threads), ramped up — caller i starts ramp_up * i / concurrency
seconds in — so the server warms up as a real morning rush does instead of
taking every connection in the same millisecond.

Each call is a fresh SimulatedCall (its own CallSid); the results say how many
completed and failed, the turn latency percentiles, and calls per second both
overall and once every caller was running (the sustained rate).
"""
from __future__ import annotations

import dataclasses
import queue
import threading
import time

from qa.report import ms, percentile
from qa.runner import RunResult, run_transcript


@dataclasses.dataclass
class LoadResult:
    results: list[RunResult]
    seconds: float           # first call placed to last call ended
    sustained_calls: int     # calls that ended after the ramp-up
    sustained_seconds: float
    concurrency: int

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if not r.passed]

    def latencies(self) -> list[float]:
        return [t.latency for r in self.results for t in r.timings]

    def text(self) -> str:
        turns = self.latencies()
        completed = len(self.results) - len(self.failed)
        sustained = (self.sustained_calls / self.sustained_seconds
                     if self.sustained_seconds > 0 else 0.0)
        return "\n".join([
            f"calls completed {completed}, failed {len(self.failed)} "
            f"({self.concurrency} concurrent, {self.seconds:.1f} s)",
            f"turns {len(turns)}, latency p50 {ms(percentile(turns, 50))}, "
            f"p95 {ms(percentile(turns, 95))}, p99 {ms(percentile(turns, 99))}, "
            f"max {ms(max(turns, default=0))}",
            f"calls/s {len(self.results) / self.seconds if self.seconds else 0:.1f} overall, "
            f"{sustained:.1f} sustained after the ramp-up; "
            f"turns/s {len(turns) / self.seconds if self.seconds else 0:.1f}",
        ])


def run_load(transcripts, line_for, *, concurrency: int, repeat: int, ramp_up: float,
             variables: dict | None = None, on_result=None) -> LoadResult:
    """`line_for(i)` gives caller i its line (a shared server, or its own app)."""
    jobs: queue.Queue = queue.Queue()
    for _ in range(repeat):
        for transcript in transcripts:
            jobs.put(transcript)
    results: list[RunResult] = []
    ended_at: list[float] = []
    guard = threading.Lock()
    started = time.perf_counter()
    ramp_end = started + ramp_up

    def caller(index: int) -> None:
        time.sleep(ramp_up * index / concurrency)
        line = line_for(index)
        while True:
            try:
                transcript = jobs.get_nowait()
            except queue.Empty:
                return
            result = run_transcript(transcript, line, variables)
            with guard:
                results.append(result)
                ended_at.append(time.perf_counter())
            if on_result is not None:
                on_result(result)

    threads = [threading.Thread(target=caller, args=(i,), daemon=True)
               for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = max(ended_at, default=started)
    after_ramp = [t for t in ended_at if t > ramp_end]
    return LoadResult(results=results, seconds=finished - started,
                      sustained_calls=len(after_ramp),
                      sustained_seconds=max(0.0, finished - ramp_end) if after_ramp else 0.0,
                      concurrency=concurrency)
