"""What every model export shares: file checksums, a work folder, and swapping it into place verified.

Used by tools/export_text_model.py and tools/export_clip.py, which run in the
export venv (where the services' packages are not installed), so this lives
beside them rather than in libs/.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator

MANIFEST = "manifest.json"


def sha256_file(path: pathlib.Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def replace_folder(work: pathlib.Path, out: pathlib.Path) -> None:
    """Moves the finished `work` folder to `out`, replacing an older export only once the new one is complete."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        work.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        work.rename(out)


def hub_offline() -> None:
    """Never reach for the Hugging Face Hub: everything an export reads is on disk already."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def needs_export(out: pathlib.Path, up_to_date: tuple[bool, str], source: str = "") -> bool:
    """Says whether `out` is up to date or why it is exported (again); True when it must be."""
    ok, why = up_to_date
    if ok:
        print(f"{out}: up to date ({why})")
        return False
    print(f"{out}: exporting {source} ({why})" if source else f"{out}: exporting ({why})")
    return True


def exported_at() -> str:
    """When the manifest was written, in UTC to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def work_folder(out: pathlib.Path) -> Iterator[pathlib.Path]:
    """A fresh folder beside `out` to export into; removed on the way out unless `publish` moved it to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    work.chmod(0o755)  # mkdtemp makes it 0700; the services may run as another user
    try:
        yield work
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def publish(
    work: pathlib.Path,
    out: pathlib.Path,
    manifest: dict,
    *,
    export_format: int,
    files_key: str,
    files: dict,
    started: float,
) -> int:
    """Writes the manifest last (ending with the format, the time and `files` under `files_key`), then
    replaces `out` with the verified `work` folder; returns exit status 0."""
    manifest = {**manifest, "export_format": export_format, "exported_at": exported_at(), files_key: files}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    replace_folder(work, out)  # only now, verified, does it replace an older export
    print(f"wrote {out} ({', '.join(files)}, {MANIFEST}) in {time.perf_counter() - started:.1f}s")
    return 0


def export_onnx(
    wrapper,
    dummy: tuple,
    path: pathlib.Path,
    names: list[str],
    output: str,
    dynamic: dict[str, dict[int, tuple[str, int]]],
    opset: int,
    exporter: str,
    output_axes: dict[int, str] | None = None,
) -> str:
    """torch.onnx.export, the legacy exporter first, then dynamo; returns the one that worked.

    `dynamic` maps each input to its dynamic axes, {axis: (label, largest size)}; the output's
    dynamic axes are `output_axes` (the batch only, by default).
    """
    import torch

    tries = ["legacy", "dynamo"] if exporter == "auto" else [exporter]
    errors = []
    for kind in tries:
        try:
            with torch.no_grad():
                if kind == "legacy":
                    torch.onnx.export(
                        wrapper,
                        dummy,
                        str(path),
                        dynamo=False,
                        input_names=names,
                        output_names=[output],
                        dynamic_axes={
                            **{n: {axis: label for axis, (label, _) in dynamic[n].items()} for n in names},
                            output: output_axes or {0: "batch"},
                        },
                        opset_version=opset,
                        do_constant_folding=True,
                    )
                else:
                    dims: dict[str, torch.export.Dim] = {}
                    for axes in dynamic.values():
                        for label, top in axes.values():
                            dims.setdefault(label, torch.export.Dim(label, min=1, max=top))
                    torch.onnx.export(
                        wrapper,
                        dummy,
                        str(path),
                        dynamo=True,
                        external_data=False,
                        input_names=names,
                        output_names=[output],
                        dynamic_shapes={
                            n: {axis: dims[label] for axis, (label, _) in dynamic[n].items()} for n in names
                        },
                        opset_version=opset,
                    )
            return kind
        except Exception as exc:  # noqa: BLE001 - report and try the next exporter
            errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            print(f"  exporter {kind} failed: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
    raise SystemExit(f"ONNX export of {path.name} failed:\n  " + "\n  ".join(errors))
