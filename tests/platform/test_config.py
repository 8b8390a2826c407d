"""Settings both ways: settings_env writes what load_config reads; the log level comes from them too."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts
from mivaa_embedder.settings import EmbedderSettings
from mivaa_extractor.settings import ExtractorSettings
from mivaa_ocr.settings import OcrSettings
from mivaa_platform.config import ConfigError, ServerSettings, load_config, settings_env
from mivaa_platform.messaging import NatsSettings
from mivaa_platform.runtime import log_level
from mivaa_search.settings import SearchSettings

ALL_SETTINGS = (ServerSettings, NatsSettings, ExtractorSettings, SearchSettings, EmbedderSettings, OcrSettings)


def test_values_round_trip_through_the_environment():
    values = {
        "search_addr": "search:50051",
        "embedder_addr": "embedder:50051",
        "task_key_file": "/run/key",
        "roles": ("worker",),
        "max_pages": 7,
        "ack_wait_seconds": 4.5,
        "extract_images": False,
    }
    env = settings_env(ExtractorSettings, "EXTRACTOR", **values)
    assert env["EXTRACTOR_ROLES"] == "worker" and env["EXTRACTOR_EXTRACT_IMAGES"] == "false"
    loaded = load_config(ExtractorSettings, "EXTRACTOR", env)
    assert {name: getattr(loaded, name) for name in values} == values


@pytest.mark.parametrize("settings_class", ALL_SETTINGS, ids=lambda cls: cls.__name__)
def test_every_settings_type_writes_its_defaults_back(settings_class):
    """Each field's default survives the trip: the format matches the parser for every type in use."""
    defaults = {
        field.name: field.default
        for field in dataclasses.fields(settings_class)
        if field.default is not dataclasses.MISSING
    }
    required = {field.name: "x" for field in dataclasses.fields(settings_class) if field.default is dataclasses.MISSING}
    loaded = load_config(settings_class, "SVC", settings_env(settings_class, "SVC", **defaults, **required))
    assert {name: getattr(loaded, name) for name in defaults} == defaults


def test_a_renamed_or_retyped_field_fails_at_once():
    with pytest.raises(TypeError, match="SearchSettings has no field embedder_address"):
        settings_env(SearchSettings, "SEARCH", embedder_address="embedder:50051")
    with pytest.raises(TypeError, match="ServerSettings.port"):
        settings_env(ServerSettings, "SEARCH", port="fifty")


def test_none_leaves_the_default():
    assert settings_env(ExtractorSettings, "EXTRACTOR", ocr_addr=None, max_pages=3) == {"EXTRACTOR_MAX_PAGES": "3"}


def test_mesh_passes_every_service_its_settings():
    """What the mesh hands each process loads as that service's settings, with the values it meant."""
    mesh = LocalMesh(
        pathlib.Path(tempfile.mkdtemp(prefix="mivaa-env-")),
        MeshPorts(),
        ocr=True,
        extra_env={"MIVAA_LOG_LEVEL": "debug"},
    )
    extractor = mesh._service_env("extractor")
    settings = load_config(ExtractorSettings, "EXTRACTOR", extractor)
    assert settings.roles == ("api",) and settings.search_addr == mesh.address("search")
    assert load_config(ExtractorSettings, "EXTRACTOR", mesh._service_env("worker-0")).roles == ("worker",)
    assert load_config(NatsSettings, "EXTRACTOR_NATS", extractor).user == "extractor"
    search = mesh._service_env("search")
    assert load_config(SearchSettings, "SEARCH", search).embedder_addr == mesh.address("embedder")
    assert load_config(EmbedderSettings, "EMBEDDER", mesh._service_env("embedder")).models_dir == str(mesh.models_dir)
    for name, prefix in (("embedder", "EMBEDDER"), ("search", "SEARCH"), ("ocr", "OCR"), ("extractor", "EXTRACTOR")):
        server = load_config(ServerSettings, prefix, mesh._service_env(name))
        assert server.port == getattr(mesh.ports, name) and server.log_level == "debug" and server.tls_cert


def test_log_level_comes_from_the_service_settings(monkeypatch):
    monkeypatch.setenv("SEARCH_LOG_LEVEL", "warning")
    assert log_level("SEARCH") == "WARNING"
    monkeypatch.setenv("SEARCH_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError, match="SEARCH_LOG_LEVEL: expected one of DEBUG"):
        log_level("SEARCH")


def test_a_service_logs_at_its_own_level(tmp_path):
    """<SVC>_LOG_LEVEL reaches the root logger of a real service process (run_service)."""
    program = (
        "import logging\n"
        "from mivaa_platform.runtime import run_service\n"
        "async def main():\n"
        "    logging.getLogger('mivaa.probe').debug('debug line')\n"
        "    logging.getLogger('mivaa.probe').warning('warning line')\n"
        "run_service('search', main)\n"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", program],
        check=False,
        capture_output=True,
        text=True,
        env=_env(SEARCH_LOG_LEVEL="WARNING"),
        timeout=60,
    )
    loud = subprocess.run(
        [sys.executable, "-c", program],
        check=False,
        capture_output=True,
        text=True,
        env=_env(SEARCH_LOG_LEVEL="DEBUG"),
        timeout=60,
    )
    assert quiet.returncode == 0 and loud.returncode == 0, quiet.stderr + loud.stderr
    assert "warning line" in quiet.stderr and "debug line" not in quiet.stderr
    assert "debug line" in loud.stderr


def _env(**extra: str) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.endswith("_LOG_LEVEL")} | extra
