"""Configuration from environment variables only, one prefix per service.

A service declares its settings as a frozen dataclass whose fields have
defaults (optional) or not (required); `load_config(Settings, "SEARCH")` reads
`SEARCH_<FIELD>` for each field and stops start-up with one clear message that
names every missing or malformed variable. `settings_env` is the other direction: what a
launcher (the local mesh) sets so that a service reads the values it means.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping


class ConfigError(SystemExit):
    """Raised at start-up; SystemExit so the process ends with the message, not a traceback."""


def _parse(raw: str, kind: type) -> object:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"expected a boolean, got {raw!r}")
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind in (list[str], tuple[str, ...]):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    return raw


def _field_type(field: dataclasses.Field, hints: Mapping[str, object]) -> type:
    kind = hints[field.name]
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):  # Optional[X] -> X
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    return kind  # type: ignore[return-value]


T = typing.TypeVar("T")


def load_config(settings_class: type[T], prefix: str, environ: Mapping[str, str] | None = None) -> T:
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(settings_class)
    values: dict[str, object] = {}
    problems: list[str] = []
    for field in dataclasses.fields(settings_class):  # type: ignore[arg-type]
        variable = f"{prefix}_{field.name.upper()}"
        raw = environ.get(variable)
        if raw is None:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                problems.append(f"{variable} is required but not set")
            continue
        try:
            values[field.name] = _parse(raw, _field_type(field, hints))
        except ValueError as exc:
            problems.append(f"{variable}: {exc}")
    if problems:
        raise ConfigError(f"{prefix.lower()} configuration is invalid:\n  " + "\n  ".join(problems))
    return settings_class(**values)


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def settings_env(settings_class: type, prefix: str, **values: object) -> dict[str, str]:
    """The environment that `load_config(settings_class, prefix)` reads `values` back from.

    settings_env(ServerSettings, "SEARCH", port=50052) -> {"SEARCH_PORT": "50052"}. Launchers
    build a service's environment with it, so a field that is renamed or retyped fails here,
    at once, instead of its variable silently no longer being read. None leaves a field out
    (its default applies).
    """
    fields = {field.name: field for field in dataclasses.fields(settings_class)}
    hints = typing.get_type_hints(settings_class)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise TypeError(f"{settings_class.__name__} has no field {', '.join(unknown)}")
    env: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        raw = _format(value)
        try:
            _parse(raw, _field_type(fields[name], hints))
        except ValueError as exc:
            raise TypeError(f"{settings_class.__name__}.{name}: {exc}") from None
        env[f"{prefix}_{name.upper()}"] = raw
    return env


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Settings every gRPC service shares, read with the service's own prefix."""

    port: int = 0
    host: str = "127.0.0.1"
    metrics_port: int = 0  # 0 disables the Prometheus endpoint
    grace_seconds: float = 5.0
    # Upper bound on how long a unary RPC (one request, one response) may run server-side,
    # whatever the caller asked.
    max_rpc_seconds: float = 120.0
    # The same for RPCs that stream either way (uploads, chunk streams, job watches, exports);
    # the gateway's own ceiling for the longest of them is 3600 s.
    max_stream_seconds: float = 3600.0
    # The root logger's level (DEBUG, INFO, WARNING, ERROR): set by run_service before main.
    log_level: str = "INFO"
    # mTLS (see mivaa_platform.tls): all three PEM paths, or none for plaintext. Callers must
    # present a certificate signed by tls_client_ca; the service's channels to its peers use
    # tls_cert/tls_key as client certificate and tls_client_ca to verify them.
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    # A second, plaintext port serving only grpc.health.v1 (0: none), for callers that cannot
    # present a client certificate: kubelet's gRPC probes. Same statuses as the main port.
    health_port: int = 0
