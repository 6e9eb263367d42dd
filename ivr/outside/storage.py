"""Object stores for encrypted recordings: a local folder, or S3.

Both take only ciphertext, streamed in chunks, under random names, and only as new
objects: neither writes over a stored one. Vendor errors become :class:`StoreUnavailable`
(try again later), :class:`FileNotFoundError` or :class:`FileExistsError` here, so no
other module imports botocore.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ivr.platform.chunks import rechunk
from ivr.platform.outages import Service, ServiceDown
from ivr.platform.private_files import date_to_the_day, fsync_folder, open_private, private_folder

READ_CHUNK = 256 * 1024
S3_PART = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (except the last)


class StoreUnavailable(ServiceDown):
    """The store failed in a way that may pass: the work waits for it."""

    service = Service.STORE


@dataclass(frozen=True)
class StoredObject:
    name: str
    size: int
    sha256: str


class ObjectStore(Protocol):
    def put(self, name: str, chunks: Iterable[bytes]) -> StoredObject:
        """Write ``chunks`` as the new object ``name``; FileExistsError if it exists."""

    def read(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield bytes ``start`` to ``end`` (exclusive) of object ``name``."""

    def size(self, name: str) -> int:
        """Return the size of object ``name``."""

    def delete(self, name: str) -> None:
        """Delete object ``name``, every version of it; a missing object is not an error."""

    def answers(self) -> bool:
        """Whether the store answers at all: the cheap probe made while jobs wait for it."""


def new_object_name() -> str:
    """Return a random object name: never derived from a time, call or recording."""
    return secrets.token_hex(16)


def checksum(store: ObjectStore, name: str) -> StoredObject:
    """Read an object back in full and return its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    for chunk in store.read(name):
        digest.update(chunk)
        size += len(chunk)
    return StoredObject(name, size, digest.hexdigest())


class LocalStore:
    """A folder on this machine (the embedded default: ``recordings/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not name.isalnum():
            raise ValueError(f"not an object name: {name!r}")
        return self.root / name[:2] / name

    def put(self, name: str, chunks: Iterable[bytes]) -> StoredObject:
        path = self._path(name)
        private_folder(self.root)
        private_folder(path.parent)
        # Write beside the target, then link it in place: a reader never sees half an
        # object, a crash leaves only a ".partial" file, which the next attempt clears away
        # here, and the link (unlike a rename) fails where the name is taken.
        for stale in path.parent.glob(f".{name}.*.partial"):
            stale.unlink(missing_ok=True)
        if path.exists():
            raise FileExistsError(name)
        partial = path.with_name(f".{name}.{secrets.token_hex(4)}.partial")
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(open_private(partial, exclusive=True), "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(partial, path)
            partial.unlink()  # before the folder is dated: removing it changes the folder
            # The object and its folders would otherwise date the call to the second.
            date_to_the_day(path, path.parent, self.root)
            fsync_folder(path.parent)
        except FileExistsError:
            raise FileExistsError(name) from None
        except OSError as error:
            raise StoreUnavailable(f"could not write to {self.root}: {error.strerror}") from None
        finally:
            partial.unlink(missing_ok=True)  # gone already when the object was linked in
        return StoredObject(name, size, digest.hexdigest())

    def read(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(name)
        if not path.exists():
            raise FileNotFoundError(name)
        with path.open("rb") as handle:
            handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = handle.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            raise FileNotFoundError(name) from None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def answers(self) -> bool:
        # A folder that cannot be made, or is read-only (a lost mount), does not answer.
        try:
            private_folder(self.root)
        except OSError:
            return False
        return os.access(self.root, os.W_OK | os.X_OK)


class S3Store:
    """An S3 bucket and prefix; objects are also encrypted at rest with SSE-KMS."""

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", kms_key_id: str | None = None
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._kms_key_id = kms_key_id

    def _key(self, name: str) -> str:
        if not name.isalnum():
            raise ValueError(f"not an object name: {name!r}")
        return self._prefix + name

    def put(self, name: str, chunks: Iterable[bytes]) -> StoredObject:
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
        if self._kms_key_id:
            extra["SSEKMSKeyId"] = self._kms_key_id
        key = self._key(name)
        digest = hashlib.sha256()
        size = 0
        upload_id = None
        try:
            upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ChecksumAlgorithm="SHA256", **extra
            )["UploadId"]
            parts = []
            for number, part in enumerate(_parts(chunks, S3_PART), start=1):
                digest.update(part)
                size += len(part)
                answer = self._client.upload_part(
                    Bucket=self._bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=part,
                    ChecksumAlgorithm="SHA256",
                )
                parts.append(
                    {
                        "PartNumber": number,
                        "ETag": answer["ETag"],
                        "ChecksumSHA256": answer.get("ChecksumSHA256"),
                    }
                )
            # If-None-Match: S3 completes the upload only where no object has the name, so
            # nothing (a stalled worker, a compromised edge) can write over a stored one.
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{k: v for k, v in p.items() if v} for p in parts]},
                IfNoneMatch="*",
            )
        except (BotoCoreError, ClientError) as error:
            if upload_id is not None:
                self._abort(key, upload_id)
            if isinstance(error, ClientError) and _code(error) in {"PreconditionFailed", "412"}:
                raise FileExistsError(name) from None
            raise StoreUnavailable(f"S3 upload failed: {_describe(error)}") from None
        return StoredObject(name, size, digest.hexdigest())

    def _abort(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        # If even the abort fails, the bucket's lifecycle rule removes the abandoned parts.
        with contextlib.suppress(BotoCoreError, ClientError):
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)

    def read(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=self._key(name), **extra)[
                "Body"
            ]
            yield from body.iter_chunks(READ_CHUNK)
        except ClientError as error:
            if _code(error) in {"NoSuchKey", "404"}:
                raise FileNotFoundError(name) from None
            raise StoreUnavailable(f"S3 read failed: {_describe(error)}") from None
        except BotoCoreError as error:
            raise StoreUnavailable(f"S3 read failed: {_describe(error)}") from None

    def size(self, name: str) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return int(
                self._client.head_object(Bucket=self._bucket, Key=self._key(name))["ContentLength"]
            )
        except ClientError as error:
            if _code(error) in {"NoSuchKey", "404"}:
                raise FileNotFoundError(name) from None
            raise StoreUnavailable(f"S3 head failed: {_describe(error)}") from None
        except BotoCoreError as error:
            raise StoreUnavailable(f"S3 head failed: {_describe(error)}") from None

    def answers(self) -> bool:
        """Ask for an object that cannot exist: any answer but a 5xx or throttling is S3's.

        The edge may not list the bucket, so S3 answers 403 rather than 404 for it: that
        still shows S3 is back.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.head_object(Bucket=self._bucket, Key=self._key(new_object_name()))
        except ClientError as error:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            return 0 < status < 500 and status != 429
        except BotoCoreError:
            return False
        return True

    def delete(self, name: str) -> None:
        """Delete every version of the object, and any delete marker, by its VersionId.

        A plain delete in a versioned bucket only hides the object behind a delete
        marker: the audio would stay readable to anyone who asks for its old version.
        Needs ``s3:ListBucketVersions`` and ``s3:DeleteObjectVersion``.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._key(name)
        try:
            # Look again after deleting: a write racing the delete leaves one more version.
            for _ in range(5):
                versions = self._versions(key)
                if not versions:
                    return
                for start in range(0, len(versions), 1000):  # DeleteObjects takes 1000
                    answer = self._client.delete_objects(
                        Bucket=self._bucket,
                        Delete={"Objects": versions[start : start + 1000], "Quiet": True},
                    )
                    if answer.get("Errors"):
                        codes = sorted({str(e.get("Code", "")) for e in answer["Errors"]})
                        raise StoreUnavailable(f"S3 delete failed: {', '.join(codes)}")
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"S3 delete failed: {_describe(error)}") from None
        raise StoreUnavailable("S3 delete failed: versions of the object remain")

    def _versions(self, key: str) -> list[dict[str, str]]:
        """Every version and delete marker of exactly ``key`` (an unversioned one: "null")."""
        found: list[dict[str, str]] = []
        pages = self._client.get_paginator("list_object_versions")
        for page in pages.paginate(Bucket=self._bucket, Prefix=key):
            for entry in (*page.get("Versions", ()), *page.get("DeleteMarkers", ())):
                if entry["Key"] == key:
                    found.append({"Key": key, "VersionId": entry["VersionId"]})
        return found


def _parts(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """S3 parts: full-size ones, then the rest (an empty rest only if it is all there is)."""
    for number, part in enumerate(rechunk(chunks, size)):
        if part or number == 0:
            yield part


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _describe(error: Exception) -> str:
    return type(error).__name__ + (f" {_code(error)}" if hasattr(error, "response") else "")
