"""The Dockerfile read as stages (what each copies, runs and starts), and each stage's files laid out
in a folder as the build would place them, so the tests can check a stage without a container builder
(none runs here: buildah installs from Debian but cannot pull the python base image offline)."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import pathlib
import re
import shlex
import shutil

REPO = pathlib.Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


@dataclasses.dataclass
class Copy:
    sources: list[str]
    dest: str  # absolute, WORKDIR applied
    stage: str = ""  # --from=<stage>; empty for the build context


@dataclasses.dataclass
class Stage:
    name: str
    base: str  # an image, or an earlier stage's name
    workdir: str = "/"
    copies: list[Copy] = dataclasses.field(default_factory=list)
    runs: list[str] = dataclasses.field(default_factory=list)
    start: list[str] = dataclasses.field(default_factory=list)  # ENTRYPOINT + CMD
    env: dict[str, str] = dataclasses.field(default_factory=dict)


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    joined, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined]


def _absolute(path: str, workdir: str) -> str:
    return path if path.startswith("/") else str(pathlib.PurePosixPath(workdir) / path) + ("/" * path.endswith("/"))


def _exec_form(arguments: str) -> list[str]:
    return json.loads(arguments) if arguments.startswith("[") else ["/bin/sh", "-c", arguments]


def stages() -> dict[str, Stage]:
    found: dict[str, Stage] = {}
    stage: Stage | None = None
    for instruction, arguments in _instructions(DOCKERFILE.read_text()):
        if instruction == "FROM":
            base, _, name = arguments.partition(" AS ")
            inherited = found.get(base.strip())
            stage = Stage(name=name.strip(), base=base.strip(), workdir=inherited.workdir if inherited else "/")
            if inherited:
                stage.env, stage.start = dict(inherited.env), list(inherited.start)
            found[stage.name] = stage
            continue
        assert stage is not None, f"{instruction} before FROM"
        if instruction == "WORKDIR":
            stage.workdir = _absolute(arguments, stage.workdir)
        elif instruction == "ENV":
            stage.env.update(token.split("=", 1) for token in shlex.split(arguments))
        elif instruction == "COPY":
            words = shlex.split(arguments)
            flags = dict(word[2:].split("=", 1) for word in words if word.startswith("--"))
            paths = [word for word in words if not word.startswith("--")]
            stage.copies.append(Copy(paths[:-1], _absolute(paths[-1], stage.workdir), flags.get("from", "")))
        elif instruction == "RUN":
            stage.runs.append(re.sub(r"^(--\S+\s+)+", "", arguments))
        elif instruction in ("CMD", "ENTRYPOINT"):
            command = _exec_form(arguments)
            stage.start = command + stage.start[1:] if instruction == "ENTRYPOINT" else stage.start[:1] + command
    return found


def lineage(name: str, all_stages: dict[str, Stage]) -> list[Stage]:
    """The stage and the stages it is built FROM, oldest first."""
    chain = []
    while name in all_stages:
        chain.insert(0, all_stages[name])
        name = all_stages[name].base
    return chain


def lay_out(name: str, all_stages: dict[str, Stage], root: pathlib.Path) -> pathlib.Path:
    """Copies what the stage (and the stages it is built FROM) takes from the build context into
    `root`, at the paths the image has them; returns `root`. Copies from other stages are left out
    (they are build outputs), and so is what .dockerignore keeps out of the context."""
    for stage in lineage(name, all_stages):
        for copy in stage.copies:
            if copy.stage:
                continue
            for source in copy.sources:
                origin = REPO / source
                assert origin.exists(), f"{stage.name}: COPY {source}: no such file in the build context"
                into_folder = copy.dest.endswith("/") or len(copy.sources) > 1 or origin.is_dir()
                target = root / copy.dest.lstrip("/")
                if origin.is_dir():
                    shutil.copytree(origin, target, dirs_exist_ok=True, ignore=_ignored)
                else:
                    target = target / origin.name if into_folder else target
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target)
    return root


def _ignored(directory: str, names: list[str]) -> set[str]:
    """.dockerignore's patterns that apply inside copied folders (caches and build leftovers)."""
    return {
        name for name in names if name in ("__pycache__", "build", "node_modules", "dist") or name.endswith(".egg-info")
    }


# A relative path a command names: a folder or file of the checkout (tools/x.py, ./libs, export.txt).
RELATIVE_PATH = re.compile(r"(?<![\w/$.-])(\./[\w./-]+|(?:[\w-]+/)*[\w-]+\.(?:py|sh|txt|json|toml))")


def named_paths(command: str) -> list[str]:
    return [match.removeprefix("./") for match in RELATIVE_PATH.findall(command)]


def docker_ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (or a folder above it) out of the build context."""
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip()]
    parts = pathlib.PurePosixPath(path.rstrip("/")).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
        for pattern in patterns
        for prefix in prefixes
    )


# The folder a stage's RUN exports into (`--out /models/all-MiniLM-L6-v2`).
STAGE_OUT = re.compile(r"--out\s+(/\S+)")
