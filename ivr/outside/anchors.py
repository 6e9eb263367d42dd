"""Where the audit chain's head is written down outside the database, never to be changed.

An anchor names a position in the chain, the keyed hash sealed there, and the minute
it was written: nothing about a report or a call. Someone who can rewrite the database
cannot reach these, so removing the newest events shows: an anchor names a later one.

| log            | embedded default                          | production                 |
| ``AnchorLog``  | a file the console host appends to (0600) | S3 objects under Object Lock |

Which log a process uses is chosen in ``ivr.services`` by ``IVR_AUDIT_ANCHOR``'s scheme,
with the same S3 client as the object store. Vendor errors become
:class:`AnchorUnavailable` here, so no other module imports botocore.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from ivr.platform.private_files import FILE_MODE, private_folder


class AnchorUnavailable(Exception):
    """The anchor log could not be read or written."""


@dataclass(frozen=True)
class Anchor:
    seq: int  # the position in the chain
    hash: str  # the keyed hash sealed at that position
    at: str  # when it was written, to the minute (UTC): it dates staff's work, never a call

    @classmethod
    def now(cls, seq: int, hash: str) -> Anchor:
        return cls(seq, hash, datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"))

    @property
    def written(self) -> datetime:
        return datetime.strptime(self.at, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)

    def line(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode() + b"\n"

    @classmethod
    def parse(cls, text: str | bytes) -> Anchor:
        try:
            fields = json.loads(text)
            return cls(int(fields["seq"]), str(fields["hash"]), str(fields["at"]))
        except (ValueError, KeyError, TypeError):
            raise AnchorUnavailable("an anchor is unreadable") from None


class AnchorLog(Protocol):
    def append(self, anchor: Anchor) -> None:
        """Write ``anchor`` down for good (durably, before returning)."""

    def read(self) -> list[Anchor]:
        """Return every anchor ever written, oldest first."""


class FileAnchors:
    """A file on the console host, only ever appended to and fsynced (the embedded default).

    Give it the append-only attribute (``chattr +a``) so that not even its owner can
    rewrite it, and copy it off the host with the backups.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, anchor: Anchor) -> None:
        private_folder(self.path.parent)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        except OSError as error:
            raise AnchorUnavailable(f"cannot open {self.path}: {error.strerror}") from None
        try:
            os.fchmod(fd, FILE_MODE)
            os.write(fd, anchor.line())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[Anchor]:
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise AnchorUnavailable(f"cannot read {self.path}: {error.strerror}") from None
        return sorted((Anchor.parse(line) for line in lines if line.strip()), key=_order)


class S3Anchors:
    """One object per anchor, each under S3 Object Lock: nobody can delete or replace it.

    The bucket must have Object Lock (hence versioning) enabled. Every version is read,
    so an anchor hidden behind a delete marker still counts.
    """

    def __init__(self, client: Any, bucket: str, prefix: str, mode: str, days: int) -> None:
        self._client, self._bucket, self._prefix = client, bucket, prefix
        self._mode, self._days = mode, days
        self._seen: dict[str, Anchor] = {}  # by version id: each version is fetched once

    @classmethod
    def from_url(cls, client: Any, url: str) -> S3Anchors:
        """Open ``s3://bucket/prefix[?mode=…&days=…]`` through ``client``."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        mode = query.get("mode", ["COMPLIANCE"])[0].upper()
        if mode not in {"COMPLIANCE", "GOVERNANCE"}:
            raise ValueError(f"S3 Object Lock mode must be COMPLIANCE or GOVERNANCE, not {mode!r}")
        days = int(query.get("days", ["2557"])[0])
        return cls(client, parts.netloc, parts.path.lstrip("/"), mode, days)

    def append(self, anchor: Anchor) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=f"{self._prefix}{anchor.seq:012d}.json",
                Body=anchor.line(),
                ChecksumAlgorithm="SHA256",
                ObjectLockMode=self._mode,
                ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=self._days),
            )
        except (BotoCoreError, ClientError) as error:
            raise AnchorUnavailable(f"S3 anchor write failed: {type(error).__name__}") from None

    def read(self) -> list[Anchor]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self._client.get_paginator("list_object_versions")
            for page in pages.paginate(Bucket=self._bucket, Prefix=self._prefix):
                for version in page.get("Versions", []):
                    key, version_id = version["Key"], version["VersionId"]
                    if version_id not in self._seen:
                        body = self._client.get_object(
                            Bucket=self._bucket, Key=key, VersionId=version_id
                        )["Body"].read()
                        self._seen[version_id] = Anchor.parse(body)
        except (BotoCoreError, ClientError) as error:
            raise AnchorUnavailable(f"S3 anchor read failed: {type(error).__name__}") from None
        return sorted(self._seen.values(), key=_order)


def _order(anchor: Anchor) -> tuple[int, str]:
    return (anchor.seq, anchor.at)
