"""Where the static fallback's documents are published: a public bucket, or a local folder.

The set is public by design (it carries no secret and nothing about a caller), so
publishing is plain writes of small files, each replacing the one before. A bucket
serves each with a short cache life, so a new set is live within a minute.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import requests

TWIML_TYPE = "text/xml; charset=utf-8"
# Twilio and any cache between may keep a document this long: a new set is live by then.
CACHE_CONTROL = "public, max-age=60"


class SiteUnavailable(Exception):
    """The place the fallback is published to, or served from, did not answer."""


class FallbackSite(Protocol):
    def publish(self, documents: Mapping[str, bytes]) -> None:
        """Write every document of the set, replacing what was there."""


class S3Site:
    """A bucket (in another region than the edge's) and a prefix, served over HTTPS."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def publish(self, documents: Mapping[str, bytes]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for name, body in documents.items():
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=self._prefix + name,
                    Body=body,
                    ContentType=TWIML_TYPE,
                    CacheControl=CACHE_CONTROL,
                )
        except (BotoCoreError, ClientError) as error:
            raise SiteUnavailable(f"s3://{self._bucket}/{self._prefix}: {error}") from None


class FolderSite:
    """A folder a web server serves (development, and the tests' stand-in for the bucket)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def publish(self, documents: Mapping[str, bytes]) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        for name, body in documents.items():
            path = self._folder / name
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(body)
            os.replace(partial, path)  # a reader sees the old document or the new one


def fetch(url: str, timeout: float = 10.0) -> bytes:
    """GET one published document as Twilio would; SiteUnavailable if it is not served."""
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as error:
        raise SiteUnavailable(f"{url}: {type(error).__name__}") from None
    if response.status_code != 200:
        raise SiteUnavailable(f"{url} answered HTTP {response.status_code}")
    return response.content
