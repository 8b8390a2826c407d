"""Progress bars for several documents at once, redrawn in place on a terminal, one line per change otherwise."""

from __future__ import annotations

import sys

from mivaa.jobs.v1 import job_pb2
from mivaa_cli.terminal import printable

BAR_WIDTH = 24


class ProgressBoard:
    def __init__(self, names: list[str], stream=sys.stdout):
        self.names = list(dict.fromkeys(names))
        self.lines = {name: "queued" for name in self.names}
        self.stream = stream
        self.tty = stream.isatty()
        self._drawn = 0
        self._last_plain: dict[str, str] = {}
        self._width = max((len(printable(n)) for n in self.names), default=10)
        self._draw()

    def _draw(self) -> None:
        if not self.tty:
            return
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")
        for name in self.names:
            self.stream.write(f"\x1b[2K{printable(name):<{self._width}}  {self.lines[name]}\n")
        self._drawn = len(self.names)
        self.stream.flush()

    def _set(self, name: str, line: str) -> None:
        line = printable(line)  # it may carry server text: file names, error details
        self.lines[name] = line
        if self.tty:
            self._draw()
        elif self._last_plain.get(name) != line:
            self._last_plain[name] = line
            print(f"{printable(name)}: {line}", file=self.stream, flush=True)

    def update(self, name: str, text: str) -> None:
        self._set(name, text)

    def progress(self, name: str, job: job_pb2.Job) -> None:
        total = max(job.pages_total, 1)
        filled = int(BAR_WIDTH * min(job.pages_done, total) / total)
        stage = job_pb2.JobStage.Name(job.stage).removeprefix("JOB_STAGE_").lower()
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"[{bar}] {job.pages_done}/{job.pages_total} pages  {stage}"
        if not self.tty and job.stage == job_pb2.JOB_STAGE_EXTRACTING:
            # Without a terminal, print only every quarter so logs stay readable.
            line = f"{stage} {100 * job.pages_done // total // 25 * 25}%"
        self._set(name, line)

    def finish(self, name: str, text: str, ok: bool) -> None:
        self._set(name, ("done  " if ok else "FAILED  ") + text)

    def close(self) -> None:
        if self.tty:
            self._draw()
