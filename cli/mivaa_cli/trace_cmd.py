"""`mivaa trace jobs/ID`: a job's trace, from upload to indexing, as a tree of spans with durations.

A local operator command: it reads the spans the local mesh's receiver (localmesh/traces.py) wrote
under the state folder, which only the mesh's user can read, so it sees every tenant's jobs, as
that user can read the mesh's logs. It asks the gateway nothing and is no tenant's view.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections import defaultdict

from mivaa_cli.localmesh.traces import read_spans
from mivaa_cli.terminal import printable


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("trace", help="a job's trace from the local mesh (upload to indexing)")
    parser.add_argument("job", help="jobs/ID")
    parser.add_argument("--state-dir", type=pathlib.Path, help="the mesh's state folder (default: as the CLI finds it)")


def job_traces(spans: list[dict], job: str) -> list[str]:
    """The ids of the traces with a span naming `job` (a retried job may have several), oldest first."""
    starts: dict[str, int] = {}
    for span in spans:
        if span["attributes"].get("mivaa.job") == job:
            starts[span["trace"]] = min(starts.get(span["trace"], span["start"]), span["start"])
    return sorted(starts, key=starts.__getitem__)


def render_tree(spans: list[dict]) -> list[str]:
    """One line per span, indented under its parent; a span whose parent was not stored is a root."""
    ids = {span["span"] for span in spans}
    children: dict[str, list[dict]] = defaultdict(list)
    for span in spans:
        children[span["parent"] if span["parent"] in ids else ""].append(span)
    origin = min(span["start"] for span in spans)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s["start"]):
            duration_ms = (span["end"] - span["start"]) / 1e6
            offset_ms = (span["start"] - origin) / 1e6
            error = "  ERROR" if span["status"] == 2 else ""
            lines.append(
                f"{'  ' * depth}{span['name']}  [{span['service']}]  {duration_ms:.1f} ms  (+{offset_ms:.0f} ms){error}"
            )
            walk(span["span"], depth + 1)

    walk("", 0)
    return lines


def run(args, state_dir: pathlib.Path) -> int:
    if not args.job.startswith("jobs/"):
        print("mivaa trace needs a job name: jobs/ID", file=sys.stderr)
        return 2
    spans = read_spans(state_dir)
    traces = job_traces(spans, args.job)
    if not traces:
        print(f"no trace of {printable(args.job)} under {state_dir} (is it a job of this local mesh?)", file=sys.stderr)
        return 1
    for trace_id in traces:
        print(f"trace {trace_id}")
        for line in render_tree([span for span in spans if span["trace"] == trace_id]):
            print(printable(line))
    return 0
