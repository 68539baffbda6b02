"""Audit the locked requirements for known vulnerabilities (pip-audit over
PyPI's advisory data), telling a finding from a service that cannot be reached.

pip-audit exits 1 both when it finds a vulnerability and when it cannot reach
its service (or crashes on a refused connection), so the exit status alone
cannot tell them apart: its JSON report is written only once the audit ran.
Findings fail the run, each package named with its advisories and the versions
that fix them; an unreachable service is one line and exit 0, so an offline
machine can still run the tests.

    python tools/audit_deps.py requirements/test.txt [more lock files]
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# What pip-audit prints when the service is out of reach: its own
# ConnectionError (with the "network may be blocking" tip), or requests'
# exceptions it lets through (refused, DNS, proxy, timeouts, 5xx).
UNREACHABLE = re.compile(
    r"network may be blocking|ConnectionError|Max retries exceeded|NameResolutionError"
    r"|ProxyError|ConnectTimeout|ReadTimeout|Temporary failure in name resolution"
    r"|ServiceError|5\d\d Server Error", re.I)
TIMEOUT_SECONDS = int(os.environ.get("AUDIT_TIMEOUT_SECONDS", "120"))


def pip_audit_command(lock_files: list[str], report: Path) -> list[str]:
    command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off",
               "--disable-pip", "--require-hashes", "--format", "json",
               "--output", str(report), "--timeout", "15"]
    for lock in lock_files:
        command += ["--requirement", lock]
    return command


def findings(report: dict) -> list[str]:
    lines = []
    for dependency in report.get("dependencies", []):
        for vuln in dependency.get("vulns", []):
            ids = ", ".join([vuln["id"], *vuln.get("aliases", [])])
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            lines.append(f"  {dependency['name']} {dependency.get('version', '?')}: {ids} "
                         f"(fixed in {fixed})")
    return lines


def verdict(returncode: int, stderr: str, report: dict | None) -> tuple[int, str]:
    """The exit status and what to say, from what pip-audit did."""
    if report is not None:
        found = findings(report)
        if found:
            return 1, ("dependency audit: known vulnerabilities (bump the pin: setup.cfg, "
                       "then make lock):\n" + "\n".join(found))
        dependencies = report.get("dependencies", [])
        # PyPI answering 404 for a release (or a mirror without the JSON API)
        # leaves it unaudited: pip-audit skips it and says "no known
        # vulnerabilities", which must not pass for an audit.
        skipped = [d["name"] for d in dependencies if "skip_reason" in d]
        if returncode == 0 and dependencies and len(skipped) == len(dependencies):
            return 0, ("dependency audit skipped: the vulnerability database could not be "
                       "reached (it knew none of the locked packages)")
        if returncode == 0:
            note = f"; not audited: {', '.join(skipped)}" if skipped else ""
            return 0, (f"dependency audit: no known vulnerabilities in "
                       f"{len(dependencies) - len(skipped)} locked packages{note}")
    if UNREACHABLE.search(stderr):
        return 0, "dependency audit skipped: the vulnerability database could not be reached"
    # Anything else (a lock file pip-audit cannot read, a missing hash) is ours to fix.
    return returncode or 1, f"dependency audit failed (pip-audit exit {returncode}):\n{stderr}"


def main(lock_files: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "audit.json"
        try:
            done = subprocess.run(pip_audit_command(lock_files, report_path),
                                  capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"dependency audit skipped: the vulnerability database did not answer "
                  f"within {TIMEOUT_SECONDS} s")
            return 0
        report = json.loads(report_path.read_text()) if report_path.is_file() else None
    status, message = verdict(done.returncode, done.stderr.strip(), report)
    print(message, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements/test.txt"]))
