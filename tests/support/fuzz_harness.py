"""The fuzzing harness: the extractor service's own code on one input, checked against its contract.

`ServiceHarness` drives the extractor service's own code with an upload:
`UploadValidator.validate` (the Ingestor's entry: `validate_pdf` in a
supervised worker process with a time limit), then the service's
`PageExtractor.iter_pages` over all pages, and classifies the outcome against
the contract: every input is either rejected with a MivaaError whose reason is
UPPER_SNAKE_CASE, or extracted into pages 1..N in order, each with no error or
an error whose reason is one of `PAGE_ERROR_REASONS`. Anything else (another
exception, a hang past the limits, wrong page numbers, an unknown reason) is a
violation. Outcomes the service survives but that point at a weakness (the
validator process crashed or timed out, which the service maps to
PDF_UNREADABLE; extraction failing with EXTRACTION_FAILED, which the extractor
itself calls a bug) are "notable".

Must be used from one event loop (the PageExtractor's pool belongs to the loop
it is first used on): create, use and close the harness inside that loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pathlib
import re
import time
import traceback
from dataclasses import dataclass, field

from tests.support.pdf_seeds import known_good_pdf

# ---- contract ------------------------------------------------------------------------

PAGE_ERROR_REASONS = frozenset(
    {"PAGE_EXTRACTION_FAILED", "PAGE_TIMEOUT", "PAGE_MEMORY_LIMIT", "PAGE_WORKER_CRASHED", "DOCUMENT_TIME_LIMIT"}
)
REASON_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")

# The service's defaults (mivaa_extractor.main.ExtractorSettings).
SERVICE_MAX_BYTES = 200 * 1024 * 1024
SERVICE_MAX_PAGES = 10_000


def is_reason(value: object) -> bool:
    return isinstance(value, str) and bool(REASON_PATTERN.match(value))


# ---- harness -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one input did. `violation` is None when the contract held."""

    status: str  # "extracted" or "rejected"
    reason: str = ""  # the MivaaError reason when rejected
    stage: str = ""  # "validation" or "extraction" when rejected
    page_count: int = 0
    page_errors: dict[str, int] = field(default_factory=dict)
    text_chars: int = 0
    seconds: float = 0.0
    violation: str | None = None  # what broke the contract
    notable: str | None = None  # kept the contract, but worth a look
    detail: str = ""  # a traceback or description for violations and notables


def _validation_outcome(failure: BaseException) -> tuple:
    """What a rejection by the service's UploadValidator was, told apart by its cause."""
    from mivaa_platform.errors import MivaaError
    from mivaa_pool import ItemTimeout, MemoryLimitExceeded, WorkerCrashed, WorkerError

    cause = failure.__cause__
    if isinstance(cause, ItemTimeout):
        return ("timeout",)
    if isinstance(cause, WorkerCrashed | MemoryLimitExceeded):
        return ("crashed",)
    if isinstance(failure, MivaaError) and cause is not None and not isinstance(cause, MivaaError):
        # validate_pdf raised something it should have turned into a domain error itself.
        name = cause.type_name if isinstance(cause, WorkerError) else type(cause).__name__
        return ("raised", name, str(cause), "".join(traceback.format_exception(cause)))
    if isinstance(failure, MivaaError):
        return ("rejected", failure.reason, type(failure).__name__, failure.message)
    return ("raised", type(failure).__name__, str(failure), "".join(traceback.format_exception(failure)))


class ServiceHarness:
    """validate_pdf (in a spawned process, like the service) then PageExtractor.iter_pages; see the module docstring."""

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        *,
        workers: int = 2,
        page_time_limit: float = 3.0,
        document_time_limit: float = 15.0,
        validate_timeout: float = 15.0,
        validators: int = 1,
        max_bytes: int = SERVICE_MAX_BYTES,
        max_pages: int = SERVICE_MAX_PAGES,
    ):
        from mivaa_extractor.api.upload_validation import UploadValidator
        from mivaa_extractor.extraction.text_extraction import PageExtractor

        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.page_time_limit = page_time_limit
        self.document_time_limit = document_time_limit
        self.validate_timeout = validate_timeout
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        # Beyond this, iter_pages ignored its own limits: a hang.
        self.hang_limit = document_time_limit + 4 * page_time_limit + 30.0
        self.extractor = PageExtractor(workers=workers, page_time_limit=page_time_limit)
        # The service's own validation entry (what the Ingestor calls), one worker per concurrent case.
        self.validator = UploadValidator(
            max_bytes=max_bytes, max_pages=max_pages, timeout=validate_timeout, workers=validators
        )
        self._counter = 0
        self.validator_restarts = 0
        self.pids_seen: set[int] = set()

    async def start(self) -> None:
        await asyncio.gather(self.extractor.warm_up(), self.validator.warm_up())
        self.pids_seen.update(self.extractor.worker_pids())

    async def close(self) -> None:
        await self.extractor.aclose()
        await self.validator.aclose()

    def worker_restarts(self) -> int:
        """Extraction workers seen since start that are gone now (crashed, killed or recycled; replaced on demand)."""
        live = set(self.extractor.worker_pids())
        self.pids_seen.update(live)
        return len(self.pids_seen - live)

    async def validate(self, data: bytes, password: str | None) -> tuple:
        """UploadValidator.validate, its outcome as plain data ("ok", "rejected", "timeout", "crashed", "raised")."""
        try:
            info = await self.validator.validate(data, password)
        except Exception as failure:  # noqa: BLE001 - sorted by _validation_outcome; the contract decides
            checked = _validation_outcome(failure)
            if checked[0] in ("timeout", "crashed"):
                self.validator_restarts += 1  # its worker was killed or died, and is replaced on demand
            return checked
        return ("ok", info.page_count, info.encrypted, info.repaired)

    async def run(self, data: bytes, password: str | None = None) -> Outcome:
        started = time.monotonic()
        outcome = await self._run(data, password)
        outcome.seconds = time.monotonic() - started
        self.pids_seen.update(self.extractor.worker_pids())
        return outcome

    async def _run(self, data: bytes, password: str | None) -> Outcome:
        from mivaa_platform.errors import MivaaError

        checked = await self.validate(data, password)
        if checked[0] in ("timeout", "crashed"):
            # The service maps both to PDF_UNREADABLE (ingest.py); within the contract, but worth a look.
            return Outcome(
                "rejected",
                "PDF_UNREADABLE",
                "validation",
                notable=f"VALIDATOR_{checked[0].upper()}",
                detail=f"validate_pdf {f'took longer than {self.validate_timeout:g}s' if checked[0] == 'timeout' else 'crashed its process'}",
            )
        if checked[0] == "raised":
            _, type_name, message, remote = checked
            return Outcome("rejected", "", "validation", violation=f"VALIDATION_RAISED_{type_name}", detail=remote)
        if checked[0] == "rejected":
            _, reason, kind, message = checked
            outcome = Outcome("rejected", reason, "validation")
            if not is_reason(reason) or not message:
                outcome.violation = "BAD_REASON"
                outcome.detail = f"{kind}({reason!r}, {message!r})"
            return outcome
        page_count = checked[1]

        self._counter += 1
        path = self.workdir / f"case-{os.getpid()}-{self._counter}.pdf"
        path.write_bytes(data)
        pages = []
        try:
            async with asyncio.timeout(self.hang_limit):
                async for batch in self.extractor.iter_pages(
                    path, password, page_count, time_limit=self.document_time_limit
                ):
                    if not isinstance(batch, list):
                        return Outcome("extracted", violation="BAD_BATCH", detail=repr(type(batch)))
                    pages.extend(batch)
        except MivaaError as error:
            outcome = Outcome("rejected", error.reason, "extraction", page_count=page_count)
            if not is_reason(error.reason):
                outcome.violation = "BAD_REASON"
            else:
                # Validation accepted the file, yet the whole document failed: worth a look.
                outcome.notable = f"EXTRACTION_{error.reason}"
            outcome.detail = repr(error)
            return outcome
        except TimeoutError:
            return Outcome(
                "extracted",
                page_count=page_count,
                violation="HANG",
                detail=f"iter_pages still running after {self.hang_limit:g}s ({len(pages)} of {page_count} pages)",
            )
        except Exception as error:  # noqa: BLE001 - the contract forbids any other exception
            return Outcome(
                "extracted",
                page_count=page_count,
                violation=f"EXTRACTION_RAISED_{type(error).__name__}",
                detail="".join(traceback.format_exception(error)),
            )
        finally:
            path.unlink(missing_ok=True)
        return check_pages(pages, page_count)

    async def known_good_ok(self) -> str | None:
        """None when the extractor still extracts the known-good PDF correctly, else what went wrong."""
        outcome = await self.run(known_good_pdf())
        if outcome.violation or outcome.status != "extracted":
            return f"known-good PDF: {outcome}"
        if outcome.page_errors or outcome.page_count != 2 or outcome.text_chars == 0:
            return f"known-good PDF extracted wrongly: {outcome}"
        return None


def check_pages(pages: list, page_count: int) -> Outcome:
    """The contract on an extracted document: pages 1..N in order, errors only with known reasons."""
    outcome = Outcome("extracted", page_count=page_count)
    numbers = [getattr(page, "number", None) for page in pages]
    if numbers != list(range(1, page_count + 1)):
        outcome.violation = "PAGE_NUMBERS"
        outcome.detail = (
            f"expected 1..{page_count}, got {numbers[:20]}{'...' if len(numbers) > 20 else ''} ({len(numbers)} pages)"
        )
        return outcome
    errors: dict[str, int] = {}
    for page in pages:
        if page.error is None:
            outcome.text_chars += len(page.text)
            continue
        reason = page.error.reason
        errors[reason] = errors.get(reason, 0) + 1
        if reason not in PAGE_ERROR_REASONS or not page.error.message:
            outcome.violation = "UNKNOWN_PAGE_ERROR"
            outcome.detail = f"page {page.number}: {page.error!r}"
        elif page.blocks:
            outcome.violation = "ERROR_PAGE_WITH_BLOCKS"
            outcome.detail = f"page {page.number}: {page.error!r} but {len(page.blocks)} blocks"
    outcome.page_errors = errors
    return outcome


def save_input(folder: str | os.PathLike[str], data: bytes, outcome: Outcome, case: dict | None = None) -> pathlib.Path:
    """Writes the input (named by its sha256) and a JSON note beside it; returns the PDF's path."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    label = outcome.violation or outcome.notable or "case"
    path = folder / f"{label.lower()}-{hashlib.sha256(data).hexdigest()[:16]}.pdf"
    path.write_bytes(data)
    note = {
        "violation": outcome.violation,
        "notable": outcome.notable,
        "status": outcome.status,
        "reason": outcome.reason,
        "stage": outcome.stage,
        "page_count": outcome.page_count,
        "page_errors": outcome.page_errors,
        "detail": outcome.detail,
        "case": case,
    }
    path.with_suffix(".json").write_text(json.dumps(note, indent=2))
    return path
