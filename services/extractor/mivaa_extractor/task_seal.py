"""Secrets in work items, sealed for the extraction workers (and webhook secrets at rest).

A work item sits on the bus (and on NATS's disk) until a worker acks it, and
anyone allowed to read the work stream can read it; so a PDF password never
travels in plain text. The extractor API seals it with AES-256-GCM under a
key it shares with the workers (EXTRACTOR_TASK_KEY_FILE), and the associated
data binds the ciphertext to its task: moved into another work item (another
job, document, tenant or file), it no longer opens. The workers open it in
memory only.

The key file holds 32 random bytes, base64 encoded (see mivaa_platform.keyfile).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mivaa.jobs.v1 import job_pb2
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.keyfile import KEY_BYTES, load_key

NONCE_BYTES = 12
# First byte of a sealed value: the format, so a later key rotation can tell old from new.
_FORMAT_V1 = b"\x01"


def _associated_data(task: job_pb2.ExtractTask) -> bytes:
    # Every field that says which work this is; '\n' cannot occur in any of them.
    return f"mivaa-task-v1\n{task.job}\n{task.document}\n{task.tenant}\n{task.sha256}".encode()


class TaskSealer:
    def __init__(self, key: bytes):
        if len(key) != KEY_BYTES:
            raise ValueError(f"a task key has {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> TaskSealer:
        return cls(load_key(path))

    def seal(self, secret: str, associated: bytes) -> bytes:
        """`secret` sealed so that it opens only with this key and the same `associated` data."""
        nonce = os.urandom(NONCE_BYTES)
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, secret.encode("utf-8"), associated)

    def open(self, sealed: bytes, associated: bytes) -> str | None:
        """What `seal` sealed with `associated`; None when it does not open (another key, another
        owner, damaged or of an unknown format)."""
        if sealed[:1] != _FORMAT_V1 or len(sealed) < 1 + NONCE_BYTES + 16:
            return None
        nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, associated).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            return None

    def seal_password(self, password: str, task: job_pb2.ExtractTask) -> bytes:
        """The password sealed for `task` (whose job, document, tenant and sha256 must be set); b"" for none."""
        return self.seal(password, _associated_data(task)) if password else b""

    def open_password(self, task: job_pb2.ExtractTask) -> str | None:
        """The task's password, or None when it has none; TASK_REJECTED when the seal does not open."""
        sealed = task.sealed_password
        if not sealed:
            return None
        if sealed[:1] != _FORMAT_V1 or len(sealed) < 1 + NONCE_BYTES + 16:
            raise _rejected("the sealed password has an unknown format")
        password = self.open(sealed, _associated_data(task))
        if password is None:
            raise _rejected("the sealed password does not belong to this task")
        return password


def _rejected(why: str) -> InvalidArgument:
    return InvalidArgument("TASK_REJECTED", f"The work item was rejected: {why}.", domain="extractor.mivaa")
