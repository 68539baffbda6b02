"""tools/audit_deps.py: a known vulnerability fails the run naming the package
and the advisory; a vulnerability database out of reach is one line and the
run goes on; anything else pip-audit refuses is a failure."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from packaging.version import Version
from pip_audit._format import JsonFormat
from pip_audit._service.interface import (
    ResolvedDependency, SkippedDependency, VulnerabilityResult,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "audit_deps.py"
spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
audit_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)
HASH = "--hash=sha256:" + "0" * 64


def report(results) -> dict:
    """The JSON report pip-audit itself writes for these results."""
    return json.loads(JsonFormat(output_desc=False, output_aliases=True).format(results, []))


def test_a_known_vulnerability_fails_naming_the_package_and_the_advisory():
    jinja = ResolvedDependency(name="jinja2", version=Version("2.10"))
    flask = ResolvedDependency(name="flask", version=Version("3.1.3"))
    vuln = VulnerabilityResult.create(ids=["GHSA-462w-v97r-4m45", "PYSEC-2019-217"],
                                      description="sandbox escape",
                                      fix_versions=[Version("2.10.1")], published=None)
    status, message = audit_deps.verdict(1, "Found 1 known vulnerability in 1 package",
                                         report({jinja: [vuln], flask: []}))
    assert status == 1
    assert "jinja2 2.10: PYSEC-2019-217, GHSA-462w-v97r-4m45 (fixed in 2.10.1)" in message
    assert "flask" not in message


def test_a_clean_audit_passes_and_says_how_many_packages_it_checked():
    clean = {ResolvedDependency(name="flask", version=Version("3.1.3")): [],
             SkippedDependency(name="private-pkg", skip_reason="Dependency not found"): []}
    status, message = audit_deps.verdict(0, "No known vulnerabilities found", report(clean))
    assert status == 0
    assert message == ("dependency audit: no known vulnerabilities in 1 locked packages; "
                       "not audited: private-pkg")


def test_a_database_that_knows_no_locked_package_is_a_skipped_audit_not_a_clean_one():
    # A mirror without PyPI's JSON API answers 404 for every release.
    unknown = {SkippedDependency(name=name, skip_reason="Dependency not found on PyPI"): []
               for name in ("flask", "jinja2")}
    status, message = audit_deps.verdict(0, "No known vulnerabilities found", report(unknown))
    assert status == 0 and message.startswith("dependency audit skipped: the vulnerability "
                                              "database could not be reached")


def run_script(lock: Path, tmp_path, **env):
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                   "XDG_CACHE_HOME": str(tmp_path / "cache"),
                   "PIP_CACHE_DIR": str(tmp_path / "cache" / "pip"), **env}
    return subprocess.run([sys.executable, str(SCRIPT), str(lock)], capture_output=True,
                          text=True, env=environment, timeout=120)


def test_an_unreachable_database_is_one_line_and_the_run_goes_on(tmp_path):
    lock = tmp_path / "run.txt"
    lock.write_text(f"jinja2==2.10 \\\n    {HASH}\n")
    # A proxy that refuses every connection: the real pip-audit, cut off.
    done = run_script(lock, tmp_path, HTTPS_PROXY="http://127.0.0.1:9",
                      HTTP_PROXY="http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "dependency audit skipped: the vulnerability database could not be reached"]


def test_a_lock_file_without_hashes_fails_the_audit(tmp_path):
    lock = tmp_path / "run.txt"
    lock.write_text("jinja2==2.10\n")
    done = run_script(lock, tmp_path, HTTPS_PROXY="http://127.0.0.1:9")
    assert done.returncode != 0
    assert "dependency audit failed" in done.stderr and "hash" in done.stderr.lower()


def test_the_lock_files_are_audited_by_make_test():
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "tools/audit_deps.py $(TEST_LOCK)" in test_recipe
