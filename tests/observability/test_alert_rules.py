"""The alert rules of deploy/observability: valid for Prometheus (`promtool check rules`) and doing
what they say on recorded series (`promtool test rules`, the cases in deploy/observability/tests)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

OBSERVABILITY = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "observability"
RULE_FILES = sorted((OBSERVABILITY / "rules").glob("*.yml"))
ALERTS = {
    "MivaaErrorRateHigh",
    "MivaaSearchLatencyHigh",
    "MivaaQueueBacklogGrowing",
    "MivaaQueueStalled",
    "MivaaOriginalsDeletionStuck",
    "MivaaTargetDown",
    "MivaaProcessRestarted",
    "MivaaStorageNearlyFull",
    "MivaaDatabasePoolExhausted",
    "MivaaCertificateExpiringSoon",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not installed: run `make prometheus` (Debian's prometheus package)")
    return found


def _run(promtool: str, *args: str) -> str:
    done = subprocess.run([promtool, *args], cwd=OBSERVABILITY, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rule_files_are_valid(promtool):
    assert RULE_FILES
    out = _run(promtool, "check", "rules", *map(str, RULE_FILES))
    assert "SUCCESS" in out


def test_every_alert_has_a_unit_test_that_passes(promtool):
    tests = sorted((OBSERVABILITY / "tests").glob("*.test.yml"))
    tested = {
        line.split(":", 1)[1].strip()
        for path in tests
        for line in path.read_text().splitlines()
        if line.strip().startswith("alertname:")
    }
    assert tested == ALERTS
    rules_text = "\n".join(path.read_text() for path in RULE_FILES)
    assert {
        line.split(":", 1)[1].strip() for line in rules_text.splitlines() if line.strip().startswith("- alert:")
    } == ALERTS
    out = _run(promtool, "test", "rules", *(str(path.relative_to(OBSERVABILITY)) for path in tests))
    assert "SUCCESS" in out


def test_a_broken_expectation_fails(promtool, tmp_path):
    """The unit tests can fail: the same case expecting the quiet service to alert does."""
    case = (OBSERVABILITY / "tests" / "mivaa-alerts.test.yml").read_text()
    broken = case.replace(
        "exp_labels: {service: search, severity: page}", "exp_labels: {service: embedder, severity: page}"
    )
    assert broken != case
    path = tmp_path / "broken.test.yml"
    path.write_text(broken.replace("../rules/", str(OBSERVABILITY / "rules") + "/"))
    done = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "MivaaErrorRateHigh" in done.stdout + done.stderr
