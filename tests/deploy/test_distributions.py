"""Each deployable's distribution declares what its code imports, and nothing another one runs.

An image installs one service's distribution (Dockerfile), so a missing dependency shows up
only in production and a needless one (PyMuPDF in the search image) only in its size. The
pyproject files are read as they are; third-party dependencies are followed through the
installed packages' metadata.
"""

from __future__ import annotations

import ast
import importlib.metadata
import pathlib
import re
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = pathlib.Path(__file__).resolve().parents[2]
FOLDERS = (
    "gen/python",
    "libs",
    "services/extractor",
    "services/search",
    "services/embedder",
    "services/ocr",
    "services/answer",
    "cli",
)
# Imported lazily, installed by tools/install_ocr.sh (CPU torch first): not pip-resolvable from the pyproject.
OCR_SCRIPT_INSTALLS = {"easyocr", "easyocr_en_models", "torch", "torchvision"}


def _project(folder: str) -> dict:
    return tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]


PROJECTS = {canonicalize_name(_project(folder)["name"]): folder for folder in FOLDERS}


def _requirements(name: str, extras: frozenset[str]) -> list[Requirement]:
    """A distribution's requirements with these extras: ours from pyproject, others from metadata."""
    if name in PROJECTS:
        project = _project(PROJECTS[name])
        texts = list(project.get("dependencies", []))
        for extra in extras:
            texts += project.get("optional-dependencies", {}).get(extra, [])
        return [Requirement(text) for text in texts]
    try:
        texts = importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    wanted = []
    for requirement in map(Requirement, texts):
        markers = [{"extra": extra} for extra in extras] or [{"extra": ""}]
        if requirement.marker is None or any(requirement.marker.evaluate(marker) for marker in markers):
            wanted.append(requirement)
    return wanted


def closure(name: str, extras: frozenset[str] = frozenset(), through: frozenset[str] = frozenset()) -> set[str]:
    """Every distribution that `pip install name[extras]` brings in (canonical names), not
    following the dependencies of those named in `through`."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(name), extras)]
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        if item[0] in through:
            seen.add(item)
            continue
        seen.add(item)
        todo += [(canonicalize_name(r.name), frozenset(r.extras)) for r in _requirements(*item)]
    return {dist for dist, _ in seen}


def _top_level_imports(folder: pathlib.Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        if "build" in path.relative_to(folder).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__"}


def _own_packages(folder: str) -> set[str]:
    return {init.parent.name for init in (REPO / folder).glob("*/__init__.py")}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_every_import_is_declared(name):
    folder = PROJECTS[name]
    extras = frozenset(_project(folder).get("optional-dependencies", {}))
    reachable = closure(name, extras)
    providers = importlib.metadata.packages_distributions()
    ours = {package: dist for dist, other in PROJECTS.items() for package in _own_packages(other)}
    missing = []
    for module in sorted(_top_level_imports(REPO / folder) - _own_packages(folder)):
        if name == "mivaa-ocr" and module in OCR_SCRIPT_INSTALLS:
            continue
        candidates = {ours[module]} if module in ours else {canonicalize_name(d) for d in providers.get(module, [])}
        if not candidates & reachable:
            missing.append(f"{module} (from {sorted(candidates) or 'nothing installed'})")
    assert not missing, f"{name} imports what it does not declare: {missing}"


@pytest.mark.parametrize(
    ("name", "absent"),
    [
        ("mivaa-search", {"pymupdf", "onnxruntime", "tesserocr", "tokenizers", "nats-py", "pillow"}),
        # The extractor validates picture uploads itself (PNG/JPEG/TIFF as documents): Pillow, with its
        # decompression-bomb and truncation checks, is its decoder there, so it is not in this list.
        ("mivaa-extractor", {"psycopg", "pgvector", "tesserocr"}),
        ("mivaa-embedder", {"pymupdf", "psycopg", "pgvector", "tesserocr", "nats-py"}),
        ("mivaa-ocr", {"pymupdf", "onnxruntime", "psycopg", "pgvector", "tokenizers", "nats-py"}),
        ("mivaa-answer", {"pymupdf", "onnxruntime", "pgvector", "tesserocr", "tokenizers", "nats-py"}),
        ("mivaa-platform", {"pymupdf", "onnxruntime", "psycopg", "numpy", "nats-py"}),
    ],
)
def test_a_service_installs_nothing_another_one_runs(name, absent):
    extras = frozenset(_project(PROJECTS[name]).get("optional-dependencies", {})) - {"messaging"}
    assert not closure(name, extras) & absent


def test_the_extractor_gets_onnxruntime_only_through_pymupdf():
    """PyMuPDF 2.0 itself requires onnxruntime (for pymupdf-layout's model); nothing of ours does."""
    assert "onnxruntime" in closure("pymupdf")
    assert "onnxruntime" not in closure("mivaa-extractor", through=frozenset({"pymupdf"}))


def _dockerfile_stages() -> dict[str, str]:
    stages, name = {}, None
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            name = line.split()[-1]
            stages[name] = ""
        elif name:
            stages[name] += line + "\n"
    return stages


@pytest.mark.parametrize("service", ["extractor", "search", "embedder", "ocr", "answer"])
def test_each_image_installs_its_own_service_only(service):
    """The image's pip install names the stubs, the platform and this service's wheel, no other."""
    stages = _dockerfile_stages()
    wheels = set(re.findall(r"/wheels/(mivaa_\w+)-\*\.whl", stages[service]))
    assert wheels == {"mivaa_protos", "mivaa_platform", f"mivaa_{service}"}
    built = set(re.findall(r"\./(\S+)", stages["wheels"].split("pip wheel", 1)[1].splitlines()[0]))
    assert f"services/{service}" in built and {"gen/python", "libs"} <= built
