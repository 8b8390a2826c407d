"""Mutual TLS between the gateway, the services and their peers, configured by environment only.

Each service reads three variables with its own prefix (EXTRACTOR, SEARCH, EMBEDDER, OCR):

    <PREFIX>_TLS_CERT       its certificate (PEM), served to callers AND presented to its peers
    <PREFIX>_TLS_KEY        that certificate's private key (PEM)
    <PREFIX>_TLS_CLIENT_CA  the CA (PEM) that signs every party: callers must present a certificate
                            it signed, and the peers a service calls must too

All three unset: plaintext, as before. All three set: the server accepts only TLS connections
from clients with a certificate from that CA, and the service's channels to its peers use TLS
with the same certificate. Anything in between stops start-up with a ConfigError.
Files are read once, at start-up: replacing certificates means restarting the service.

`mivaa_cli.localmesh.certs` makes a development CA and every certificate; `client_credentials(cert_dir)`
gives a launcher or a tool channel credentials from that directory (the `ops` certificate).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc

from mivaa_platform.config import ConfigError, ServerSettings, settings_env

_SUFFIXES = ("TLS_CERT", "TLS_KEY", "TLS_CLIENT_CA")


def _read_pem(path: str | os.PathLike, variable: str) -> bytes:
    try:
        data = pathlib.Path(path).read_bytes()
    except OSError as error:
        raise ConfigError(f"{variable}: cannot read {path}: {error.strerror or error}") from None
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{variable}: {path} is not a PEM file")
    return data


def _files(prefix: str, cert: str, key: str, ca: str) -> tuple[bytes, bytes, bytes] | None:
    """The three files' contents; None when none is configured; ConfigError when only some are."""
    given = {f"{prefix}_{suffix}" if prefix else suffix: value for suffix, value in zip(_SUFFIXES, (cert, key, ca))}
    if not any(given.values()):
        return None
    missing = [variable for variable, value in given.items() if not value]
    if missing:
        raise ConfigError(
            f"{(prefix or 'tls').lower()} configuration is invalid:\n  TLS needs {', '.join(given)} together; "
            f"missing: {', '.join(missing)}"
        )
    return tuple(_read_pem(value, variable) for variable, value in given.items())  # type: ignore[return-value]


def server_credentials(settings: ServerSettings, prefix: str = "") -> grpc.ServerCredentials | None:
    """mTLS server credentials from the settings (None: plaintext). Client certificates are required."""
    files = _files(prefix, settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    if files is None:
        return None
    cert, key, ca = files
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)


@dataclass(frozen=True)
class ClientTls:
    """What a channel needs to reach an mTLS peer: the CA to verify it, and our own certificate.

    `server_name` overrides the name the peer's certificate is checked against (and the SNI);
    not needed when the address's host is in the certificate (service name, localhost, 127.0.0.1).
    """

    root_certificates: bytes = field(repr=False)
    certificate_chain: bytes | None = field(default=None, repr=False)
    private_key: bytes | None = field(default=None, repr=False)
    server_name: str = ""

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )

    def channel_options(self) -> list[tuple[str, str]]:
        return [("grpc.ssl_target_name_override", self.server_name)] if self.server_name else []

    @classmethod
    def from_files(
        cls,
        ca: str | os.PathLike,
        cert: str | os.PathLike | None = None,
        key: str | os.PathLike | None = None,
        *,
        server_name: str = "",
    ) -> ClientTls:
        if (cert is None) != (key is None):
            raise ConfigError("a client certificate needs its key, and a key its certificate")
        return cls(
            _read_pem(ca, "CA"),
            _read_pem(cert, "certificate") if cert is not None else None,
            _read_pem(key, "key") if key is not None else None,
            server_name,
        )

    @classmethod
    def from_env(cls, prefix: str, environ: Mapping[str, str] | None = None) -> ClientTls | None:
        """From <PREFIX>_TLS_CERT, <PREFIX>_TLS_KEY, <PREFIX>_TLS_CLIENT_CA; None when none is set."""
        environ = os.environ if environ is None else environ
        cert, key, ca = (environ.get(f"{prefix}_{suffix}", "") for suffix in _SUFFIXES)
        files = _files(prefix, cert, key, ca)
        if files is None:
            return None
        cert_pem, key_pem, ca_pem = files
        return cls(ca_pem, cert_pem, key_pem)

    @classmethod
    def from_cert_dir(cls, cert_dir: str | os.PathLike, name: str = "ops", *, server_name: str = "") -> ClientTls:
        """From a mivaa_cli.localmesh.certs directory: ca.pem, <name>.pem, <name>-key.pem."""
        directory = pathlib.Path(cert_dir)
        return cls.from_files(
            directory / "ca.pem", directory / f"{name}.pem", directory / f"{name}-key.pem", server_name=server_name
        )


def client_credentials(cert_dir: str | os.PathLike, name: str = "ops") -> grpc.ChannelCredentials:
    """Channel credentials from a mivaa_cli.localmesh.certs directory, for launchers and tools:

    with grpc.secure_channel("127.0.0.1:50051", client_credentials(".mivaa/certs")) as channel: ...
    """
    return ClientTls.from_cert_dir(cert_dir, name).channel_credentials()


def service_env(prefix: str, cert_dir: str | os.PathLike, name: str) -> dict[str, str]:
    """The environment that turns mTLS on for one service, from a mivaa_cli.localmesh.certs directory:
    service_env("SEARCH", ".mivaa/certs", "search") -> {"SEARCH_TLS_CERT": ".../search.pem", ...}."""
    directory = pathlib.Path(cert_dir).resolve()
    return settings_env(
        ServerSettings,
        prefix,
        tls_cert=str(directory / f"{name}.pem"),
        tls_key=str(directory / f"{name}-key.pem"),
        tls_client_ca=str(directory / "ca.pem"),
    )
