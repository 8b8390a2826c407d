"""Upload validation in a supervised worker process: the one entry the Ingestor and the fuzz harness use.

Opening an untrusted PDF or picture can take long or crash MuPDF or Pillow, so `validate_upload` runs
in a worker process (mivaa_pool), never on the event loop or in the API
process. A validation that runs past its time limit is killed with its
worker, and one that crashes its worker or exhausts its memory is reported;
both reach the uploader as PDF_UNREADABLE with the raw failure as the error's
``__cause__`` (for logs and the fuzz harness; a domain error raised by
validate_pdf itself has none), and the next upload gets a fresh worker.
"""

from __future__ import annotations

import logging

from mivaa_extractor.extraction.pictures import PictureLimits
from mivaa_extractor.extraction.validation import DOMAIN, PdfInfo, validate_upload
from mivaa_platform.errors import InvalidArgument, MivaaError, Unavailable
from mivaa_pool import ItemTimeout, MemoryLimitExceeded, PoolClosed, SupervisedPool, WorkerCrashed, WorkerStartFailed

log = logging.getLogger("mivaa.extractor.validation")


class UploadValidator:
    """`validate_upload` in ``workers`` supervised processes, each call within ``timeout`` seconds."""

    def __init__(
        self,
        *,
        max_bytes: int,
        max_pages: int,
        timeout: float,
        workers: int = 1,
        picture_limits: PictureLimits | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.picture_limits = picture_limits or PictureLimits()
        self.timeout = timeout
        self._pool = SupervisedPool(workers, item_timeout=timeout)
        # What runs in the worker; a top-level function with validate_pdf_in_worker's
        # signature (tests inject faults here).
        self.validate_function = validate_pdf_in_worker

    async def warm_up(self) -> None:
        """Starts the validator processes now (importing PyMuPDF is the work), so the first upload does not pay."""
        await self._pool.warm_up()

    async def validate(self, data: bytes, password: str | None) -> PdfInfo:
        """PdfInfo, or the MivaaError the uploader gets; see the module docstring."""
        try:
            return await self._pool.call(
                self.validate_function,
                data,
                password,
                self.max_bytes,
                self.max_pages,
                self.picture_limits,
                timeout=self.timeout,
            )
        except MivaaError as error:
            # The uploader's answer from validate_pdf itself: no cause, unlike the failures mapped below.
            raise error from None
        except ItemTimeout as exc:
            raise InvalidArgument("PDF_UNREADABLE", "The file could not be opened in time.", domain=DOMAIN) from exc
        except (WorkerCrashed, MemoryLimitExceeded) as exc:
            raise InvalidArgument("PDF_UNREADABLE", "The file crashed the parser.", domain=DOMAIN) from exc
        except PoolClosed as exc:
            raise Unavailable("EXTRACTOR_CLOSED", "The upload service is shutting down.", domain=DOMAIN) from exc
        except WorkerStartFailed as exc:
            log.error("a validation process could not start: %s", exc)
            raise Unavailable(
                "EXTRACTION_WORKER_UNAVAILABLE", "No validation process could be started.", domain=DOMAIN
            ) from exc
        except Exception as exc:  # an unknown parser failure is still "unreadable"
            log.warning("validation raised %s", type(exc).__name__)
            raise InvalidArgument("PDF_UNREADABLE", "The file could not be read as a PDF.", domain=DOMAIN) from exc

    def close(self) -> None:
        self._pool.close()

    async def aclose(self) -> None:
        await self._pool.aclose()

    def worker_pids(self) -> list[int]:
        return self._pool.worker_pids()


def validate_pdf_in_worker(
    data: bytes, password: str | None, max_bytes: int, max_pages: int, picture_limits: PictureLimits | None = None
) -> PdfInfo:
    """Runs in the validator process (a top-level function, so the worker imports it by name)."""
    return validate_upload(
        data,
        password=password,
        max_bytes=max_bytes,
        max_pages=max_pages,
        picture_limits=picture_limits or PictureLimits(),
    )
