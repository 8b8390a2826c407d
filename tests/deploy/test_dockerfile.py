"""The images build: each Dockerfile stage's files are laid out in a folder exactly as its COPY lines
place them, every file its commands name is there, and the commands that run without a container
(the wheels, the model exports' imports) run in that folder."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.deploy.dockerfile import REPO, docker_ignored, lay_out, lineage, named_paths, stages

STAGES = stages()
EXPORT_PYTHON = REPO / ".cache" / "export-venv" / "bin" / "python"
# What `docker build --target` is run with (Dockerfile header, deploy/k8s, docs/operations.md).
TARGETS = {"extractor", "search", "embedder", "embedder-gpu", "ocr", "answer", "console", "model-export"}


def test_every_deployed_target_is_a_stage():
    assert set(STAGES) >= TARGETS
    header = [line for line in (REPO / "Dockerfile").read_text().splitlines() if "docker build --target" in line]
    assert {line.split("--target")[1].split()[0] for line in header} == TARGETS


@pytest.mark.parametrize("name", sorted(STAGES))
def test_copies_name_files_of_the_build_context_or_outputs_of_an_earlier_stage(name):
    for copy in STAGES[name].copies:
        for source in copy.sources:
            if copy.stage:
                made_by = " ".join(run for stage in lineage(copy.stage, STAGES) for run in stage.runs)
                copied = {c.dest.rstrip("/") for stage in lineage(copy.stage, STAGES) for c in stage.copies}
                parents = [str(p) for p in pathlib.PurePosixPath(source).parents][:-1] + [source]
                assert any(p in made_by or p in copied for p in parents), (
                    f"{name}: {source} is not made by {copy.stage}"
                )
            else:
                assert (REPO / source).exists(), f"{name}: COPY {source}: not in the checkout"
                assert not docker_ignored(source), f"{name}: COPY {source}: .dockerignore keeps it out"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_file_a_stage_runs_is_in_its_copy_set(name, tmp_path):
    root = lay_out(name, STAGES, tmp_path)
    stage = STAGES[name]
    workdir = root / stage.workdir.lstrip("/")
    commands = stage.runs + [" ".join(stage.start)]
    for command in commands:
        for path in named_paths(command):
            assert (workdir / path).exists(), f"{name}: `{command[:60]}...` names {path}, which it does not copy"
            if path.endswith(".sh"):
                _script_files_are_there(workdir / path, name)


def _script_files_are_there(script: pathlib.Path, stage: str) -> None:
    """A file a shell script reads as $ROOT/<path> (ROOT: the folder above the script's own) is
    copied too; folders it puts on PYTHONPATH are the source tree's, installed as wheels in the image."""
    for line in script.read_text().splitlines():
        for path in named_paths(line.replace('"$ROOT/', " ./").replace("$ROOT/", " ./")):
            if "$ROOT/" in line and "." in pathlib.PurePosixPath(path).name:
                assert (script.parents[1] / path).exists(), f"{stage}: {script.name} reads {path}, not copied"


def test_extractor_image_holds_the_tokenizer_it_is_configured_with():
    copies = {c.dest: c for c in STAGES["extractor"].copies}
    tokenizer = copies["/opt/mivaa/models/all-MiniLM-L6-v2/tokenizer.json"]
    assert tokenizer.stage == "models"
    # What the models stage exports there: the same script's output on this machine (`make models`).
    exported = REPO / "models" / "all-MiniLM-L6-v2"
    if not (exported / "manifest.json").exists():
        pytest.skip("models/all-MiniLM-L6-v2 is not exported here (make models)")
    assert (exported / pathlib.PurePosixPath(tokenizer.sources[0]).name).is_file()
    assert "tokenizer.json" in json.loads((exported / "manifest.json").read_text())["files"]


def test_wheels_stage_builds_every_wheel_from_its_copy_set(tmp_path):
    """`pip wheel` exactly as the stage runs it, in a folder holding only what the stage copies."""
    root = lay_out("wheels", STAGES, tmp_path / "context")
    [command] = STAGES["wheels"].runs
    folders = named_paths(command)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "w")]
        + [f"./{folder}" for folder in folders],
        cwd=root / STAGES["wheels"].workdir.lstrip("/"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    built = {path.name.split("-")[0] for path in (tmp_path / "w").glob("*.whl")}
    assert built == {"mivaa_protos", "mivaa_platform", "mivaa_extractor", "mivaa_search", "mivaa_embedder"} | {
        "mivaa_ocr",
        "mivaa_answer",
    }


@pytest.mark.parametrize("name", ["models", "model-export"])
def test_model_export_scripts_import_from_their_stage(name, tmp_path):
    """The export script a stage runs imports from the stage's files and its pip installs alone (the
    export venv installs requirements/export.txt as the stage does): `--help` parses arguments only
    after every top-level import."""
    if not EXPORT_PYTHON.exists():
        pytest.skip("no export venv here (make export-venv)")
    stage = STAGES[name]
    [script] = [
        path
        for command in stage.runs + [" ".join(stage.start)]
        for path in named_paths(command)
        if path.endswith(".py")
    ]
    root = lay_out(name, STAGES, tmp_path)
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(EXPORT_PYTHON), "-I", script, "--help"],  # -I: no user site, no PYTHONPATH, not the cwd
        cwd=root / stage.workdir.lstrip("/"),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--out" in result.stdout


def test_gpu_embedder_swaps_onnxruntime_for_its_cuda_build():
    stage = STAGES["embedder-gpu"]
    assert stage.base == "embedder" and stage.start == STAGES["embedder"].start
    [command] = stage.runs
    assert "pip uninstall -y onnxruntime" in command and "onnxruntime-gpu[cuda,cudnn]==" in command


def test_console_stage_runs_a_script_its_package_defines():
    scripts = json.loads((REPO / "console" / "package.json").read_text())["scripts"]
    for command in STAGES["console-build"].runs:
        if command.startswith("npm run "):
            assert command.split()[2] in scripts
