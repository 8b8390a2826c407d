"""A development certificate authority and the certificates of the mesh's mTLS.

    python -m mivaa_cli.localmesh.certs --out .mivaa/certs [--services extractor,search,embedder,ocr] [--days 825] [--force]

Writes into --out:

    ca.pem, ca-key.pem              the development CA every party trusts
    <svc>.pem, <svc>-key.pem        one per service: server AND client certificate (it serves, and it
                                    calls its peers with it); CN <svc>; SANs DNS <svc>, localhost,
                                    <svc>.mivaa.svc.cluster.local, IP 127.0.0.1
    gateway.pem, gateway-key.pem    Envoy: client certificate of its upstream connections, usable as
                                    the public listener's server certificate too (localhost, 127.0.0.1)
    ops.pem, ops-key.pem            client-only (CN "ops"): grpcurl against a service directly

Idempotent: a file set that is still valid (parses, key matches, signed by the current CA, the
expected names and usages, not about to expire) is kept, so re-running it never invalidates a
running mesh; --force replaces everything. A new CA reissues every certificate. Every file is
0600 and --out 0700: they are the mesh user's alone.
Keys are ECDSA P-256. tools/make_certs.py is the same command from a source checkout.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import pathlib
import sys
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mivaa_cli.localmesh.files import write_atomic

DEFAULT_SERVICES = ("extractor", "search", "embedder", "ocr", "answer")
DEFAULT_DAYS = 825
CA_DAYS = 3650
CA_NAME = "mivaa development CA"
LOCALHOST = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class Spec:
    """What one leaf certificate must be."""

    name: str  # file stem and CN
    dns: tuple[str, ...]
    ips: tuple[str, ...]
    server: bool
    client: bool

    @property
    def usages(self) -> tuple[x509.ObjectIdentifier, ...]:
        return tuple(
            oid
            for oid, wanted in (
                (ExtendedKeyUsageOID.SERVER_AUTH, self.server),
                (ExtendedKeyUsageOID.CLIENT_AUTH, self.client),
            )
            if wanted
        )


def service_spec(service: str) -> Spec:
    return Spec(service, (service, "localhost", f"{service}.mivaa.svc.cluster.local"), ("127.0.0.1",), True, True)


def specs(services: tuple[str, ...]) -> list[Spec]:
    return [
        *(service_spec(s) for s in services),
        Spec("gateway", ("gateway", "localhost", "gateway.mivaa.svc.cluster.local"), ("127.0.0.1",), True, True),
        Spec("ops", (), (), False, True),
    ]


# -- files ---------------------------------------------------------------------------------------


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load(cert_path: pathlib.Path, key_path: pathlib.Path):
    """(certificate, key) or None when either is missing, unreadable or they do not belong together."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        return None
    return cert, key


def _fresh(cert: x509.Certificate, days: int, now: datetime.datetime) -> bool:
    """In its validity period, and not about to leave it (a week, or half the lifetime asked for)."""
    margin = datetime.timedelta(days=min(7, days / 2))
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc - now > margin


def _ext(cert: x509.Certificate, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


# -- the CA --------------------------------------------------------------------------------------


def _valid_ca(loaded, now: datetime.datetime) -> bool:
    if loaded is None:
        return False
    cert, _ = loaded
    constraints = _ext(cert, x509.BasicConstraints)
    return constraints is not None and constraints.ca and _fresh(cert, CA_DAYS, now)


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """ECDSA signatures only; a CA's key also signs certificates and revocation lists."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _new_ca(now: datetime.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mivaa"), x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(signs_certificates=True),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


# -- leaves --------------------------------------------------------------------------------------


def _valid_leaf(loaded, spec: Spec, ca: x509.Certificate, days: int, now: datetime.datetime) -> bool:
    if loaded is None:
        return False
    cert, _ = loaded
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):  # another CA's, or not a signature it can check
        return False
    san = _ext(cert, x509.SubjectAlternativeName)
    eku = _ext(cert, x509.ExtendedKeyUsage)
    names = set(san.get_values_for_type(x509.DNSName)) if san else set()
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} if san else set()
    cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return (
        _fresh(cert, days, now)
        and cn == [spec.name]
        and names == set(spec.dns)
        and ips == set(spec.ips)
        and eku is not None
        and set(eku) == set(spec.usages)
    )


def _public_der(public_key) -> bytes:
    """A public key's bytes, to tell whether a certificate and a key belong together."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _new_leaf(spec: Spec, ca_cert: x509.Certificate, ca_key, days: int, now: datetime.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mivaa"),
                    x509.NameAttribute(NameOID.COMMON_NAME, spec.name),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(signs_certificates=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(spec.usages)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    alt = [x509.DNSName(n) for n in spec.dns] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in spec.ips]
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


# -- the whole set -------------------------------------------------------------------------------


def make_certs(
    out: pathlib.Path | str,
    services: tuple[str, ...] = DEFAULT_SERVICES,
    *,
    days: int = DEFAULT_DAYS,
    force: bool = False,
) -> dict[str, str]:
    """Creates what is missing or no longer valid in `out`; returns {name: "created" | "kept"}."""
    if days < 1:
        raise ValueError("days must be at least 1")
    names = [s.name for s in specs(services)]
    if len(set(names)) != len(names) or "ca" in names:
        raise ValueError(f"service names must be unique and not 'ca', 'gateway' or 'ops': {', '.join(services)}")
    out = pathlib.Path(out)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.chmod(0o700)
    now = datetime.datetime.now(datetime.UTC)
    report: dict[str, str] = {}

    ca_paths = (out / "ca.pem", out / "ca-key.pem")
    loaded = None if force else _load(*ca_paths)
    if _valid_ca(loaded, now):
        assert loaded is not None  # _valid_ca said so
        ca_cert, ca_key = loaded
        report["ca"] = "kept"
    else:
        ca_cert, ca_key = _new_ca(now)
        write_atomic(ca_paths[1], _key_pem(ca_key), 0o600)
        write_atomic(ca_paths[0], ca_cert.public_bytes(serialization.Encoding.PEM), 0o600)
        report["ca"] = "created"

    for spec in specs(services):
        cert_path, key_path = out / f"{spec.name}.pem", out / f"{spec.name}-key.pem"
        loaded = None if force else _load(cert_path, key_path)
        if _valid_leaf(loaded, spec, ca_cert, days, now):
            report[spec.name] = "kept"
        else:
            cert, key = _new_leaf(spec, ca_cert, ca_key, days, now)
            # Key first: a reader that finds the new certificate also finds its key.
            write_atomic(key_path, _key_pem(key), 0o600)
            write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o600)
            report[spec.name] = "created"
    for stem in ("ca", *names):  # kept files are tightened too
        for path in (out / f"{stem}-key.pem", out / f"{stem}.pem"):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=pathlib.Path, help="directory for the PEM files")
    parser.add_argument(
        "--services", default=",".join(DEFAULT_SERVICES), help="comma-separated service names (default: %(default)s)"
    )
    parser.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help="validity of the leaf certificates (default: %(default)s)"
    )
    parser.add_argument("--force", action="store_true", help="replace every file, the CA included")
    args = parser.parse_args(argv)
    services = tuple(s.strip() for s in args.services.split(",") if s.strip())
    if not services:
        parser.error("--services names no service")
    try:
        report = make_certs(args.out, services, days=args.days, force=args.force)
    except ValueError as error:
        parser.error(str(error))
    for name, outcome in report.items():
        print(f"{outcome:8} {args.out / (name + '.pem')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
