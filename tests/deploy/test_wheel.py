"""The distributions work installed, not only from a source checkout.

Each deployable's distribution (stubs, platform, services, CLI) is built into a wheel, all
are installed with --target into a bare folder, and a Python that sees that folder (and the
venv's third-party libraries) but not the repository renders the gateway config, makes the
mesh's certificates, signs a token and builds every service's environment: what `mivaa up`
needs before it starts processes.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# Runs in the installed copy: every mivaa module must come from there, and the mesh must know
# it is not in a checkout.
INSTALLED_CHECK = r"""
import json, pathlib, sys
target, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
import mivaa_gateway, mivaa_platform, mivaa_extractor.settings
from mivaa_cli import auth
from mivaa_cli.localmesh import certs, mesh
for module in (mivaa_gateway, mivaa_platform, mivaa_extractor.settings, auth, certs, mesh):
    assert pathlib.Path(module.__file__).is_relative_to(target), module.__file__
assert not mesh.SOURCE_CHECKOUT
config = mivaa_gateway.render(
    port=8080, admin_socket="/tmp/envoy-admin.sock", cors_origins=[],
    upstreams={"extractor": "a:1", "search": "b:2", "embedder": "c:3"}, jwks_path=str(work / "auth" / "jwks.json"),
)
report = certs.make_certs(work / "certs", ("extractor", "search"))
auth.init_keys(work / "auth")
token = auth.issue_token(work / "auth", subject="wheel", tenant="default", scopes=("read",))
local = mesh.LocalMesh(work / "state", mesh.MeshPorts(), models_dir=work / "models", ocr=False)
envs = {name: local._service_env(name) for name in ("embedder", "search", "extractor", "worker-0", "answer")}
print(json.dumps({"config": config, "certs": report, "token": token, "envs": envs}))
"""


# Every distribution the mesh runs from, by folder and wheel name (the Makefile's MIVAA_DISTS).
DISTRIBUTIONS = {
    "gen/python": "mivaa_protos",
    "libs": "mivaa_platform",
    "services/extractor": "mivaa_extractor",
    "services/search": "mivaa_search",
    "services/embedder": "mivaa_embedder",
    "services/ocr": "mivaa_ocr",
    "services/answer": "mivaa_answer",
    "cli": "mivaa_cli",
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> pathlib.Path:
    # Built from copies: setuptools leaves build/ beside the sources, and a stale build/lib
    # would carry deleted modules into the next wheel.
    sources, wheels = tmp_path_factory.mktemp("sources"), tmp_path_factory.mktemp("wheels")
    skip = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    copies = [shutil.copytree(REPO / folder, sources / folder, ignore=skip) for folder in DISTRIBUTIONS]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            *map(str, copies),
        ],
        check=True,
        capture_output=True,
        cwd=wheels,
    )
    built = sorted(wheels.glob("mivaa_*.whl"))
    assert sorted(path.name.split("-")[0] for path in built) == sorted(DISTRIBUTIONS.values())
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), *map(str, built)],
        check=True,
        capture_output=True,
    )
    return target


def test_wheel_carries_the_gateway_template_and_every_package(installed):
    """Package data travels: the Envoy template, the services' SQL; the certificate maker is a module."""
    assert (installed / "mivaa_gateway" / "envoy.template.yaml").is_file()
    assert (installed / "mivaa_cli" / "localmesh" / "certs.py").is_file()
    assert sorted((installed / "mivaa_search" / "migrations").glob("*.sql"))
    assert sorted((installed / "mivaa_answer" / "migrations").glob("*.sql"))
    for package in (
        "mivaa",
        "mivaa_platform",
        "mivaa_pool",
        "mivaa_gateway",
        "mivaa_extractor",
        "mivaa_search",
        "mivaa_embedder",
        "mivaa_ocr",
        "mivaa_answer",
        "mivaa_cli",
    ):
        assert (installed / package).is_dir(), package


def test_installed_wheel_renders_makes_certs_signs_and_builds_environments(installed, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(installed)  # the installed copy only; third-party libraries from the venv
    done = subprocess.run(
        [sys.executable, "-c", INSTALLED_CHECK, str(installed), str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "envoy.filters.http.jwt_authn" in result["config"] and "${" not in result["config"]
    assert (
        set(result["certs"].values()) == {"created"}
        and (tmp_path / "certs" / "search-key.pem").stat().st_mode & 0o777 == 0o600
    )
    assert result["token"].count(".") == 2 and (tmp_path / "auth" / "jwks.json").is_file()
    search = result["envs"]["search"]
    assert search["SEARCH_EMBEDDER_ADDR"] == "127.0.0.1:50053" and search["SEARCH_TLS_CERT"].endswith("search.pem")
    assert result["envs"]["worker-0"]["EXTRACTOR_ROLES"] == "worker"
    assert result["envs"]["embedder"]["EMBEDDER_MODELS_DIR"] == str(tmp_path / "models")
    answer = result["envs"]["answer"]
    assert answer["ANSWER_SEARCH_ADDR"] == "127.0.0.1:50052" and "mivaa_answer@" in answer["ANSWER_DATABASE_URL"]


def test_installed_gateway_command_renders(installed, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"PYTHONPATH": str(installed)}
    out = tmp_path / "envoy.yaml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mivaa_gateway",
            "--out",
            str(out),
            "--admin-socket",
            "/tmp/envoy-admin.sock",
            "--upstream",
            "extractor=a:1",
            "--upstream",
            "search=b:2",
            "--upstream",
            "embedder=c:3",
        ],
        check=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert "socket_address" in out.read_text()


def test_mivaa_up_from_the_installed_wheel(installed, tmp_path, model_dir):
    """The whole mesh from the installed copy, outside the checkout: up, status, down."""
    state = tmp_path / "mesh"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {
        "PYTHONPATH": str(installed),
        "MIVAA_STATE_DIR": str(state),
        "MIVAA_MODELS_DIR": str(model_dir.parent),
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "mivaa_cli.main", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )

    try:
        up = cli("up", "--free-ports")
        assert up.returncode == 0, up.stdout + up.stderr
        status = cli("status")
        assert status.returncode == 0 and "stopped" not in status.stdout, status.stdout
        # The launcher knew it was installed: its services run in the state folder, not a checkout.
        saved = json.loads((state / "state.json").read_text())
        assert saved["models_dir"] == str(model_dir.parent.resolve())
        for name in ("extractor", "search", "embedder"):
            assert pathlib.Path(os.readlink(f"/proc/{saved['processes'][name]['pid']}/cwd")) == state.resolve(), name
        gateway = saved["ports"]["gateway"]
        listing = cli("--address", f"127.0.0.1:{gateway}", "docs", "list")
        assert listing.returncode == 0, listing.stderr
    finally:
        down = cli("down")
    assert down.returncode == 0 and "mesh stopped" in down.stdout
