"""What a replay prints, and the JUnit XML CI reads."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from qa.runner import RunResult


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.0095 else f"{seconds * 1000:.1f} ms"


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0-100); 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def failure_text(result: RunResult) -> str:
    f = result.failure
    where = "before the first step" if f.step is None else (
        f"step {f.step.number}" + (f" (line {f.step.line})" if f.step.line else ""))
    return (f"{where}, turn {f.turn}, after {f.after}:\n"
            f"  expected: {f.expected}\n"
            f"  heard:    {f.heard}")


def result_text(result: RunResult, *, verbose: bool = False) -> str:
    latencies = [t.latency for t in result.timings]
    status = "PASS" if result.passed else "FAIL"
    skipped = (f", {result.skipped_checks} bank-side check(s) skipped"
               if result.skipped_checks else "")
    head = (f"{status}  {result.transcript.path}  {result.transcript.name}  "
            f"({len(result.timings)} turns, p50 {ms(percentile(latencies, 50))}, "
            f"max {ms(max(latencies, default=0))}, {result.call_sid}{skipped})")
    lines = [head]
    if verbose or not result.passed:
        lines += [f"      turn {t.turn:>3}  {ms(t.latency):>9}  {t.action}" for t in result.timings]
    if not result.passed:
        lines += ["      " + line for line in failure_text(result).splitlines()]
    return "\n".join(lines)


def summary_text(results: list[RunResult], seconds: float) -> str:
    failed = sum(not r.passed for r in results)
    latencies = [t.latency for r in results for t in r.timings]
    skipped = sum(r.skipped_checks for r in results)
    return (f"{len(results) - failed} passed, {failed} failed, {len(results)} call(s) in "
            f"{seconds:.1f} s; turn latency p50 {ms(percentile(latencies, 50))}, "
            f"p95 {ms(percentile(latencies, 95))}, p99 {ms(percentile(latencies, 99))}"
            + (f"\n{skipped} bank-side check(s) skipped: {NO_BANK}" if skipped else ""))


NO_BANK = ("the server's bank was not read (give --bank-url with its DATABASE_URL "
           "to check payments, blocks, call records and hand-off reasons)")


def junit_xml(results: list[RunResult], seconds: float, *, suite: str = "ivr-transcripts") -> str:
    root = ET.Element("testsuites")
    tests = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)),
                          failures=str(sum(not r.passed for r in results)), errors="0",
                          skipped="0", time=f"{seconds:.3f}")
    for r in results:
        case = ET.SubElement(tests, "testcase", name=r.transcript.name,
                             classname=_classname(r.transcript.path),
                             file=r.transcript.path, time=f"{r.seconds:.3f}")
        if not r.passed:
            f = r.failure
            failure = ET.SubElement(case, "failure", type="TranscriptMismatch",
                                    message=f"turn {f.turn}: expected {f.expected}")
            failure.text = failure_text(r)
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join([f"call {r.call_sid}"] + [
            f"turn {t.turn} {ms(t.latency)} {t.action}" for t in r.timings])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _classname(path: str) -> str:
    return path.removesuffix(".yaml").strip("./").replace("/", ".")
