"""The local Prometheus's config, rendered in code: a job per service (workers together), each
target over mTLS with Prometheus's own certificate, Envoy at its stats path, the alert rules loaded."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess

import pytest

from mivaa_cli.localmesh.monitoring import ENVOY_STATS_PATH, RULES_DIR, LocalPrometheus, metrics_ports


def _config(tmp_path: pathlib.Path) -> dict:
    prometheus = LocalPrometheus(tmp_path, 9490, tmp_path / "certs")
    targets = metrics_ports(9464, ocr=True, workers=2, envoy_stats=9901)
    return prometheus.config(targets)


def test_every_process_is_a_target_of_its_job(tmp_path):
    jobs = {job["job_name"]: job for job in _config(tmp_path)["scrape_configs"]}
    assert set(jobs) == {"embedder", "search", "extractor", "ocr", "answer", "extractor-worker", "envoy"}
    workers = jobs["extractor-worker"]["static_configs"]
    assert [(c["targets"], c["labels"]["process"]) for c in workers] == [
        (["127.0.0.1:9469"], "worker-0"),
        (["127.0.0.1:9470"], "worker-1"),
    ]
    assert jobs["envoy"]["metrics_path"] == ENVOY_STATS_PATH
    assert jobs["envoy"]["static_configs"][0]["targets"] == ["127.0.0.1:9901"]
    for job in jobs.values():
        assert job["scheme"] == "https"
        assert job["tls_config"]["cert_file"].endswith("certs/prometheus.pem")
        assert job["tls_config"]["ca_file"].endswith("certs/ca.pem")


def test_the_alert_rules_are_loaded_and_the_web_door_needs_a_client_certificate(tmp_path):
    prometheus = LocalPrometheus(tmp_path, 9490, tmp_path / "certs")
    assert prometheus.config({})["rule_files"] == [str(RULES_DIR / "*.yml")]
    assert prometheus.web_config()["tls_server_config"]["client_auth_type"] == "RequireAndVerifyClientCert"


def test_promtool_accepts_the_rendered_config(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed: run `make prometheus`")
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "prometheus.pem", "prometheus-key.pem"):
        (certs / name).write_text("")  # promtool checks that the files exist, not what they hold
    path = tmp_path / "prometheus.yml"
    path.write_text(json.dumps(_config(tmp_path)))
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
