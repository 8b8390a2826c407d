"""A NATS failure as the domain error of its cause (the way mivaa_search.store maps database errors).

Losing the bus is UNAVAILABLE ("retry later"), a publish over the server's
max_payload is the caller's INVALID_ARGUMENT, and anything else reaches the
error-mapping interceptor as an unexpected (INTERNAL) error. Without this a
NATS timeout surfaced as DEADLINE_EXCEEDED (it subclasses TimeoutError) and a
lost connection as INTERNAL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from nats import errors as nats_errors
from nats.js import errors as js_errors

from mivaa_platform.errors import InvalidArgument, MivaaError, Unavailable

_BUS_DOWN = (
    js_errors.ServiceUnavailableError,
    nats_errors.TimeoutError,
    nats_errors.NoRespondersError,
    nats_errors.NoServersError,
    nats_errors.ConnectionClosedError,
    nats_errors.ConnectionReconnectingError,
    nats_errors.ConnectionDrainingError,
    nats_errors.StaleConnectionError,
    nats_errors.OutboundBufferLimitError,
)


@contextlib.contextmanager
def bus_errors(*, domain: str = "mivaa") -> Iterator[None]:
    try:
        yield
    except MivaaError:
        raise
    except nats_errors.MaxPayloadError as exc:
        raise InvalidArgument(
            "JOB_RECORD_TOO_LARGE", "A record is larger than the message bus accepts.", domain=domain
        ) from exc
    except _BUS_DOWN as exc:
        raise Unavailable("NATS_UNAVAILABLE", "The message bus is unavailable; retry later.", domain=domain) from exc
