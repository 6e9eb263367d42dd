"""Key services: make and wrap a fresh data key per object, and unwrap it to listen.

The storing side (the edge) only ever *wraps*: with the local key service it holds the
public half of a key pair; with KMS it needs ``kms:GenerateDataKey`` and no decrypt
permission. Only the console side can *unwrap*. Every wrapped key is bound to an
encryption context naming its object, so a key copied onto another object is refused.

Each wrapping key has a short *fingerprint*, written into every object's envelope, so the
edge can prove after an upload that the object was sealed for the key the console holds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ivr.crypto.envelope import FINGERPRINT_SIZE
from ivr.platform.outages import Service, ServiceDown

PUBLIC_KEY_FILE = "recordings-public.pem"
PRIVATE_KEY_FILE = "recordings-private.pem"
# Private keys ``ivr keys rotate`` replaced, kept to open what was sealed for them.
RETIRED_DIR = "retired"


class KeyServiceError(Exception):
    """The key service refused, or could not be reached."""


class KeyServiceDown(KeyServiceError, ServiceDown):
    """KMS could not be reached, timed out, throttled or failed inside: wait for it."""

    service = Service.KEYS


# KMS's own errors that say the key or the ciphertext is wrong: those belong to the job.
# Anything else it answers (throttling, internal errors, refused permissions, a disabled
# key) is the same for every job, so they all wait for it.
_KMS_ANSWERS_ABOUT_THE_DATA = frozenset(
    {"InvalidCiphertextException", "IncorrectKeyException", "InvalidKeyUsageException"}
)


def _kms_failed(call: str, error: Exception) -> KeyServiceError:
    """The domain error for a failed KMS call: down, unless KMS faulted the data itself."""
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in _KMS_ANSWERS_ABOUT_THE_DATA:
            return KeyServiceError(f"KMS {call} failed: {error}")
    return KeyServiceDown(f"KMS {call} failed: {error}")


@dataclass(frozen=True)
class DataKey:
    plaintext: bytes  # used once, in memory only
    wrapped: bytes  # stored beside the object's name
    key_ref: str  # which wrapping key, for rotation
    fingerprint: bytes  # of the wrapping key, sealed into the object's envelope


class KeyWrapper(Protocol):
    def generate(self, context: Mapping[str, str]) -> DataKey:
        """Return a fresh 256-bit data key and its wrapped form, bound to ``context``."""

    def fingerprint(self) -> bytes:
        """Return the fingerprint of the configured wrapping key."""


class KeyUnwrapper(Protocol):
    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        """Return the data key wrapped in ``wrapped``, if ``context`` matches."""


def object_context(object_name: str, report_id: str, part: str) -> dict[str, str]:
    """Return what a data key is bound to: its object, the report it belongs to, and part.

    A wrapped key moved onto another object, report or part does not unwrap, so a
    database writer cannot swap one caller's contact recording into another's report.
    """
    return {"purpose": "ivr-recording", "object": object_name, "report": report_id, "part": part}


def _label(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


_OAEP_HASH = hashes.SHA256()


def fingerprint_of(key_identity: bytes) -> bytes:
    """Return the short fingerprint of a wrapping key, from its public identity."""
    return hashlib.sha256(key_identity).digest()[:FINGERPRINT_SIZE]


def _public_der(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """Read the recordings public key, refusing anything that holds a private key."""
    if b"PRIVATE KEY" in pem:
        raise KeyServiceError(
            "this is a private key: the storing side must be given the public half only"
        )
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise KeyServiceError("the recordings public key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyServiceError("the recordings public key must be an RSA key")
    return key


class LocalKeyWrapper:
    """Wrap with the public half of a local key pair (the embedded default)."""

    def __init__(self, public_key_pem: bytes) -> None:
        self._key = load_public_key(public_key_pem)
        self._fingerprint = fingerprint_of(_public_der(self._key))
        self.key_ref = "local:" + self._fingerprint.hex()

    def generate(self, context: Mapping[str, str]) -> DataKey:
        plaintext = os.urandom(32)
        wrapped = self._key.encrypt(
            plaintext,
            padding.OAEP(mgf=padding.MGF1(_OAEP_HASH), algorithm=_OAEP_HASH, label=_label(context)),
        )
        return DataKey(plaintext, wrapped, self.key_ref, self._fingerprint)

    def fingerprint(self) -> bytes:
        return self._fingerprint


class LocalKeyUnwrapper:
    """Unwrap with the private half (console side only), or with a retired one.

    After ``ivr keys rotate`` the console holds a ring: the current private key, and each
    one it replaced (``retired/`` under the keys folder), so recordings sealed for an old
    key play until retention destroys them. A wrong key fails OAEP at once, so trying each
    costs a few milliseconds at most.
    """

    def __init__(self, private_key_pem: bytes, *retired_pems: bytes) -> None:
        self._ring = [_rsa_private(pem) for pem in (private_key_pem, *retired_pems)]
        self._key = self._ring[0]
        self.fingerprint = fingerprint_of(_public_der(self._key.public_key()))
        self.retired = [fingerprint_of(_public_der(key.public_key())) for key in self._ring[1:]]

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        oaep = padding.OAEP(
            mgf=padding.MGF1(_OAEP_HASH), algorithm=_OAEP_HASH, label=_label(context)
        )
        for key in self._ring:
            try:
                return key.decrypt(wrapped, oaep)
            except ValueError:
                continue
        raise KeyServiceError("the data key does not unwrap for this object")


def _rsa_private(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyServiceError("the recordings private key must be an RSA key")
    return key


def retired_private_keys(folder: Path) -> list[bytes]:
    """The private keys ``ivr keys rotate`` retired under ``folder``, newest first."""
    retired = folder / RETIRED_DIR
    if not retired.is_dir():
        return []
    found = sorted(
        retired.glob("*-private.pem"), key=lambda path: path.stat().st_mtime, reverse=True
    )
    return [path.read_bytes() for path in found]


def rotate_local_key_pair(folder: Path) -> tuple[bytes, bytes]:
    """Retire the current key pair and make a new one; return (old, new) fingerprints.

    The old private half is kept (0600, under ``retired/``, named by its fingerprint)
    before anything is replaced: recordings sealed for it must stay playable. Each file
    is written whole, then renamed into place.
    """
    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    if not private_path.exists():
        raise KeyPairIncomplete(f"no key pair in {folder} to rotate: run `ivr keys init` first")
    old_pem = private_path.read_bytes()
    old = fingerprint_of(_public_der(_rsa_private(old_pem).public_key()))
    retired = folder / RETIRED_DIR
    retired.mkdir(mode=0o700, exist_ok=True)
    kept = retired / f"{old.hex()}-private.pem"
    if not kept.exists():
        _write_private(kept, old_pem)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    fresh = private_path.with_name(PRIVATE_KEY_FILE + ".new")
    fresh.unlink(missing_ok=True)
    _write_private(fresh, _private_pem(key))
    os.replace(fresh, private_path)
    public_path.write_bytes(public_pem(key))
    return old, fingerprint_of(_public_der(key.public_key()))


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, pem: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


class KeyPairIncomplete(KeyServiceError):
    """One half of the local key pair is missing, and making a new pair would lose data."""


def ensure_local_key_pair(folder: Path) -> bool:
    """Create the local key pair if there is none; return True if one was made.

    Never replaces a half that exists: a new pair would leave every recording stored for
    the old public key unreadable. A missing public half is derived from the private one.
    """
    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    if private_path.exists():
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyServiceError(f"{private_path} is not an RSA private key")
        derived = public_pem(key)
        if not public_path.exists():
            public_path.write_bytes(derived)
        elif load_public_key(public_path.read_bytes()).public_numbers() != (
            key.public_key().public_numbers()
        ):
            raise KeyPairIncomplete(
                f"{public_path} is not the public half of {private_path}: recordings "
                "stored for it could not be played. Restore the matching pair."
            )
        return False
    if public_path.exists():
        raise KeyPairIncomplete(
            f"{public_path} exists without its private half: making a new pair would leave "
            "every recording stored for it unreadable. Restore recordings-private.pem from "
            "your backup, or move the public key away deliberately to start afresh."
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    public_path.write_bytes(public_pem(key))
    return True


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    """Return the PEM of a private key's public half: what the edge is given."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class KmsKeyWrapper:
    """Ask AWS KMS for data keys (``GenerateDataKey``); needs no decrypt permission."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id
        self._fingerprint: bytes | None = None

    def generate(self, context: Mapping[str, str]) -> DataKey:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        except (BotoCoreError, ClientError) as error:
            raise _kms_failed("GenerateDataKey", error) from None
        arn: str = answer["KeyId"]  # always the key's ARN, whatever alias was configured
        return DataKey(
            answer["Plaintext"],
            answer["CiphertextBlob"],
            f"kms:{arn}",
            fingerprint_of(arn.encode()),
        )

    def fingerprint(self) -> bytes:
        """Fingerprint the configured key by its ARN (``kms:DescribeKey``), once."""
        if self._fingerprint is None:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                arn = self._client.describe_key(KeyId=self._key_id)["KeyMetadata"]["Arn"]
            except (BotoCoreError, ClientError) as error:
                raise _kms_failed("DescribeKey", error) from None
            self._fingerprint = fingerprint_of(str(arn).encode())
        return self._fingerprint


class KmsKeyUnwrapper:
    """Unwrap with KMS ``Decrypt`` (console side only)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.decrypt(CiphertextBlob=wrapped, EncryptionContext=dict(context))
        except (BotoCoreError, ClientError) as error:
            raise _kms_failed("Decrypt", error) from None
        plaintext: bytes = answer["Plaintext"]
        return plaintext
