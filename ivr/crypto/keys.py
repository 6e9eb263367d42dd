"""Key services: make and wrap a fresh data key per object, and unwrap it to listen.

The storing side (web and worker) only ever *wraps*: with the local key service it
holds the public half of a key pair; with KMS it needs ``kms:GenerateDataKey`` and no
decrypt permission. Only the console side can *unwrap*. Every wrapped key is bound to an
encryption context naming its object, so a key copied onto another object is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PUBLIC_KEY_FILE = "recordings-public.pem"
PRIVATE_KEY_FILE = "recordings-private.pem"


class KeyServiceError(Exception):
    """The key service refused or could not be reached."""


@dataclass(frozen=True)
class DataKey:
    plaintext: bytes  # used once, in memory only
    wrapped: bytes  # stored beside the object's name
    key_ref: str  # which wrapping key, for rotation


class KeyWrapper(Protocol):
    def generate(self, context: Mapping[str, str]) -> DataKey:
        """Return a fresh 256-bit data key and its wrapped form, bound to ``context``."""


class KeyUnwrapper(Protocol):
    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        """Return the data key wrapped in ``wrapped``, if ``context`` matches."""


def object_context(object_name: str) -> dict[str, str]:
    return {"purpose": "ivr-recording", "object": object_name}


def _label(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


_OAEP_HASH = hashes.SHA256()


class LocalKeyWrapper:
    """Wrap with the public half of a local key pair (the embedded default)."""

    def __init__(self, public_key_pem: bytes) -> None:
        key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(key, rsa.RSAPublicKey):
            raise KeyServiceError("the recordings public key must be an RSA key")
        self._key = key
        self.key_ref = (
            "local:"
            + key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ).hex()[-16:]
        )

    def generate(self, context: Mapping[str, str]) -> DataKey:
        plaintext = os.urandom(32)
        wrapped = self._key.encrypt(
            plaintext,
            padding.OAEP(mgf=padding.MGF1(_OAEP_HASH), algorithm=_OAEP_HASH, label=_label(context)),
        )
        return DataKey(plaintext, wrapped, self.key_ref)


class LocalKeyUnwrapper:
    """Unwrap with the private half (console side only)."""

    def __init__(self, private_key_pem: bytes) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyServiceError("the recordings private key must be an RSA key")
        self._key = key

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        try:
            return self._key.decrypt(
                wrapped,
                padding.OAEP(
                    mgf=padding.MGF1(_OAEP_HASH), algorithm=_OAEP_HASH, label=_label(context)
                ),
            )
        except ValueError:
            raise KeyServiceError("the data key does not unwrap for this object") from None


def ensure_local_key_pair(folder: Path) -> None:
    """Create the local key pair on first use; the private half is readable by us only."""
    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    if private_path.exists() and public_path.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


class KmsKeyWrapper:
    """Ask AWS KMS for data keys (``GenerateDataKey``); needs no decrypt permission."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def generate(self, context: Mapping[str, str]) -> DataKey:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        except (BotoCoreError, ClientError) as error:
            raise KeyServiceError(f"KMS GenerateDataKey failed: {error}") from None
        return DataKey(answer["Plaintext"], answer["CiphertextBlob"], f"kms:{answer['KeyId']}")


class KmsKeyUnwrapper:
    """Unwrap with KMS ``Decrypt`` (console side only)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.decrypt(CiphertextBlob=wrapped, EncryptionContext=dict(context))
        except (BotoCoreError, ClientError) as error:
            raise KeyServiceError(f"KMS Decrypt failed: {error}") from None
        plaintext: bytes = answer["Plaintext"]
        return plaintext
