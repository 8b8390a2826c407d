"""ImportDocument's use case: a URL's bytes become an upload, through the upload's own path.

The fetch runs in the API process while the call waits, like an upload's bytes arriving: a
refusal (a forbidden address, HTML served as a PDF, a body over the cap) reaches the caller as
the call's error with nothing stored, exactly as a refused upload does, and a worker never holds
a half-fetched file. What bounds a slow or hostile server is the fetch's own deadlines
(url_fetch.FetchPolicy: connect, each read, the whole fetch) and how many imports may run at
once: per tenant and in all, refused at once (RESOURCE_EXHAUSTED IMPORT_LIMIT_REACHED) rather
than queued, so neither the API's memory (at most `total` bodies of the upload cap) nor one
tenant's slow URLs can crowd out the rest.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass

from mivaa_extractor.api.ingest import UploadRequest, new_upload_request
from mivaa_extractor.api.url_fetch import FetchPolicy, fetch_chunks, filename_from, parse_url
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform import limits as field_limits
from mivaa_platform.errors import InvalidArgument, ResourceExhausted

DEFAULT_FILENAME = "download.pdf"


@dataclass(frozen=True)
class ImportLimits:
    """EXTRACTOR_IMPORT_PER_TENANT and EXTRACTOR_IMPORT_CONCURRENT: imports running at once."""

    per_tenant: int = 2
    total: int = 8


class ImportSlots:
    """Counts running imports; one over a limit is refused at once, never queued."""

    def __init__(self, limits: ImportLimits):
        self._limits = limits
        self._running: dict[str, int] = {}

    @contextlib.contextmanager
    def hold(self, tenant: str) -> Iterator[None]:
        total = sum(self._running.values())
        mine = self._running.get(tenant, 0)
        if mine >= self._limits.per_tenant or total >= self._limits.total:
            raise ResourceExhausted(
                "IMPORT_LIMIT_REACHED",
                "Too many imports are running; wait for one to finish and try again.",
                domain=DOMAIN,
                metadata={"per_tenant": str(self._limits.per_tenant)},
            )
        self._running[tenant] = mine + 1
        try:
            yield
        finally:
            left = self._running[tenant] - 1
            if left:
                self._running[tenant] = left
            else:
                del self._running[tenant]


class UrlImports:
    def __init__(self, policy: FetchPolicy, limits: ImportLimits):
        self.policy = policy
        self.slots = ImportSlots(limits)

    def chunks(self, uri: str) -> AsyncGenerator[bytes, None]:
        """The document's bytes as an upload's chunk stream (url_fetch checks them on the way)."""
        return fetch_chunks(uri, self.policy)


def new_import_request(
    *, uri: str, filename: str, title: str, labels: Sequence[str], password: str, tenant: str
) -> UploadRequest:
    """The caller's fields checked as an upload's are, the URL's syntax and scheme too, before any fetch.

    Without a filename the URL path's last segment names the document, if it is a valid file name.
    """
    url = parse_url(uri)
    if not filename.strip():
        derived = filename_from(url)
        try:
            filename = field_limits.check_filename(derived, domain=DOMAIN, field="filename") or DEFAULT_FILENAME
        except InvalidArgument:
            filename = DEFAULT_FILENAME
    return new_upload_request(
        filename=filename, title=title, labels=labels, password=password, tenant=tenant, fields=""
    )
