"""Every path, model and certificate a manifest references exists where it is read from: in the
image the container runs (the Dockerfile target's files, or an earlier stage's output it copies),
or in the volume mounted there (a certificate Secret's keys, a generated ConfigMap's files, the
volume an init container exports a model into)."""

from __future__ import annotations

import pathlib
import re

import pytest

from mivaa_embedder.settings import EmbedderSettings
from tests.deploy.dockerfile import REPO, STAGE_OUT, lineage, stages
from tests.deploy.k8s_manifests import build_with_components

STAGES = stages()
IMAGES = "ghcr.io/mivaa/"
ALL_COMPONENTS = [
    "network-policies",
    "cert-manager",
    "autoscaling",
    "keda-autoscaling",
    "gpu-embedder",
    "clip-model",
    "nats-cluster",
    "cloudnative-pg",
    "tracing",
]
CERTIFICATE_KEYS = {"tls.crt", "tls.key", "ca.crt"}  # what cert-manager writes into each Secret
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/-])/(?:etc|opt|var|data|models|checkpoint)/[\w./-]*[\w]")
DEPLOY_README = (REPO / "deploy" / "README.md").read_text()
OPERATIONS = (REPO / "docs" / "operations.md").read_text() if (REPO / "docs" / "operations.md").exists() else ""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> list[dict]:
    return build_with_components(tmp_path_factory.mktemp("overlay"), ALL_COMPONENTS)


def workloads(built: list[dict]) -> list[dict]:
    return [r for r in built if r["kind"] in ("Deployment", "StatefulSet", "Job")]


def containers(workload: dict) -> list[tuple[dict, dict]]:
    spec = workload["spec"]["template"]["spec"]
    return [(spec, c) for c in spec.get("initContainers", []) + spec["containers"]]


def generated_files(built: list[dict]) -> dict[str, dict[str, str]]:
    """ConfigMap name -> its files, as built (generated ConfigMaps carry a hash suffix, resolved by kustomize)."""
    return {r["metadata"]["name"]: r.get("data", {}) for r in built if r["kind"] == "ConfigMap"}


def referenced_paths(container: dict, files: dict[str, dict[str, str]], spec: dict) -> set[str]:
    """Absolute paths the container is told to read: env values, args, and the config files mounted into it."""
    env = {item["name"]: item.get("value", "") for item in container.get("env", [])}
    paths = {value for value in env.values() if value.startswith("/")}
    paths |= {arg for arg in container.get("args", []) + container.get("command", []) if arg.startswith("/")}
    for argument in container.get("args", []):
        paths |= set(ABSOLUTE_PATH.findall(_expand(argument, env)))
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        if "persistentVolumeClaim" in volumes.get(mount["name"], {}) and mount.get("readOnly"):
            paths.add(mount["mountPath"])  # read as a whole: a model folder, a checkpoint
        config = volumes.get(mount["name"], {}).get("configMap")
        if config and config["name"] in files and mount["mountPath"].startswith("/etc/"):
            for text in files[config["name"]].values():
                paths |= set(ABSOLUTE_PATH.findall(text))
    return {_expand(path, env) for path in paths}


def _expand(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), value)


def mount_of(container: dict, path: str) -> dict | None:
    candidates = [
        m for m in container.get("volumeMounts", []) if path == m["mountPath"] or path.startswith(m["mountPath"] + "/")
    ]
    return max(candidates, key=lambda m: len(m["mountPath"]), default=None)


def image_provides(target: str, path: str) -> bool:
    """Whether the Dockerfile target's image holds `path`: copied from the checkout, or from the
    output of an earlier stage (a folder its RUN writes with --out; files in it as exported here)."""
    for stage in lineage(target, STAGES):
        for copy in stage.copies:
            for source in copy.sources:
                whole_folder = len(copy.sources) == 1 and not copy.dest.endswith("/")
                landing = (
                    copy.dest.rstrip("/") if whole_folder else f"{copy.dest.rstrip('/')}/{pathlib.Path(source).name}"
                )
                if path != landing and not path.startswith(landing + "/"):
                    continue
                inside = f"{source.rstrip('/')}{path[len(landing) :]}"
                if not copy.stage:
                    return (REPO / inside).exists()
                return stage_writes(copy.stage, inside)
    return False


def stage_writes(stage: str, path: str) -> bool:
    for folder in STAGE_OUT.findall(" ".join(run for s in lineage(stage, STAGES) for run in s.runs)):
        if folder == path or folder.startswith(path + "/"):
            return True  # the folder itself, or one above it
        if path.startswith(folder + "/"):
            exported = REPO / "models" / pathlib.Path(folder).name  # the same export script's output here
            if not (exported / "manifest.json").exists():
                pytest.skip(f"{exported} is not exported here (make models)")
            return (exported / path[len(folder) + 1 :]).exists()
    return False


def volume_provides(spec: dict, container: dict, mount: dict, path: str, files: dict, made: set[str]) -> str:
    """Why the volume mounted at `mount` holds `path`; fails when it does not."""
    volume = next((v for v in spec.get("volumes", []) if v["name"] == mount["name"]), None)
    if volume is None or "emptyDir" in volume:
        return "written at run time"  # a StatefulSet's claim or a scratch folder
    key = path[len(mount["mountPath"]) :].lstrip("/")
    where = f"{container['name']}: {path}"
    if "secret" in volume:
        secret = volume["secret"]
        if secret.get("items"):
            assert key in {item["path"] for item in secret["items"]}, where
            return "an item of a hand-made Secret"
        if secret["secretName"] in made:
            assert key in CERTIFICATE_KEYS, f"{where}: not a file cert-manager writes"
            return "a cert-manager Secret"
        assert secret["secretName"] in DEPLOY_README and key in DEPLOY_README, f"{where}: the Secret is made nowhere"
        return "a Secret deploy/README.md says how to make"
    if "configMap" in volume:
        name = volume["configMap"]["name"]
        if name in files:
            assert key in files[name], f"{where}: ConfigMap {name} has no {key}"
            return "a ConfigMap of the manifests"
        assert name in DEPLOY_README and key in DEPLOY_README, f"{where}: ConfigMap {name} is made nowhere"
        return "a ConfigMap deploy/README.md says how to make"
    if "persistentVolumeClaim" in volume:
        claim = volume["persistentVolumeClaim"]["claimName"]
        if not mount.get("readOnly"):
            return "written by this container"
        if exported := exported_into(spec, volume, mount):
            return exported
        # Nothing in the pod writes it: the operator fills it, as docs/operations.md says.
        assert claim in OPERATIONS and pathlib.PurePosixPath(path).name in OPERATIONS, f"{where}: nothing fills {claim}"
        return "filled by hand as docs/operations.md says"
    raise AssertionError(f"{where}: unexpected volume {volume}")


def exported_into(spec: dict, volume: dict, mount: dict) -> str:
    """A model volume: an init container of the same pod exports into it, to the folder mounted here."""
    sub = mount.get("subPathExpr") or mount.get("subPath") or ""
    for init in spec.get("initContainers", []):
        writes = [m for m in init.get("volumeMounts", []) if m["name"] == volume["name"] and not m.get("readOnly")]
        env = {item["name"]: item.get("value", "") for item in init.get("env", [])}
        args = [_expand(arg, env) for arg in init.get("args", [])]
        if writes and "--out" in args:
            out = args[args.index("--out") + 1]
            assert out == f"{writes[0]['mountPath']}/{_expand(sub, env)}", (out, sub)
            assert image_provides(init["image"].removeprefix(IMAGES).split(":")[0], "/build/tools/export_clip.py")
            return "exported by an init container"
    return ""


def test_every_mivaa_image_is_a_dockerfile_target(built):
    images = {c["image"] for w in workloads(built) for _, c in containers(w) if c["image"].startswith(IMAGES)}
    assert {"ghcr.io/mivaa/embedder-gpu:0.1.0", "ghcr.io/mivaa/model-export:0.1.0"} <= images
    for image in images:
        assert image.removeprefix(IMAGES).split(":")[0] in STAGES, image


def test_every_referenced_path_exists_in_its_image_or_volume(built):
    files = generated_files(built)
    made = {r["spec"]["secretName"] for r in built if r["kind"] == "Certificate"}
    checked = {}
    for workload in workloads(built):
        for spec, container in containers(workload):
            image = container["image"]
            for path in sorted(referenced_paths(container, files, spec)):
                if mount := mount_of(container, path):
                    checked[(container["name"], path)] = volume_provides(spec, container, mount, path, files, made)
                elif image.startswith(IMAGES):
                    target = image.removeprefix(IMAGES).split(":")[0]
                    assert image_provides(target, path), f"{container['name']}: {path} is not in the {target} image"
                    checked[(container["name"], path)] = f"the {target} image"
    # The case the issue found: the worker's tokenizer, now copied into the extractor image.
    tokenizer = "/opt/mivaa/models/all-MiniLM-L6-v2/tokenizer.json"
    assert checked[("extractor-worker", tokenizer)] == "the extractor image"
    assert checked[("embedder", "/opt/mivaa/models")] == "the embedder-gpu image"
    assert checked[("embedder", "/opt/mivaa/models/clip-vit-base-patch32")] == "exported by an init container"
    assert checked[("export-clip", "/checkpoint/clip-vit-base-patch32")] == "filled by hand as docs/operations.md says"


def test_embedder_models_dir_holds_the_text_models_it_serves(built):
    [embedder] = [w for w in workloads(built) if w["metadata"]["name"] == "embedder"]
    container = embedder["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item.get("value", "") for item in container["env"]}
    names = env.get("EMBEDDER_TEXT_MODELS", ",".join(EmbedderSettings().text_models)).split(",")
    target = container["image"].removeprefix(IMAGES).split(":")[0]
    for name in names:
        assert image_provides(target, f"{env['EMBEDDER_MODELS_DIR']}/{name}/model.onnx"), name
