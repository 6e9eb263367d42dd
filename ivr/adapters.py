"""The registry of outside services: for each, the implementation its config names.

| service      | local (embedded default)          | production                    |
| object store | a folder (``recordings/``)        | S3 (``s3://bucket/p``)        |
| audit anchor | a file the console appends to     | S3 under Object Lock          |
| key service  | a key pair under ``var/keys/``    | AWS KMS                       |
| Twilio REST  | the loopback emulator             | api.twilio.com                |

Stores and anchor logs are chosen by their URL's scheme, in :data:`STORES` and
:data:`ANCHORS`; a new kind of store is one entry there. The AWS clients are made once,
by :class:`AwsClients`, so the store and the anchors share one S3 client. Only
``ivr.services`` (and ``ivr doctor``, which probes each service as configured) build
these.

The storing side gets a key *wrapper* only; the *unwrapper* is for the console. Neither
ever creates a key: the local pair is made by ``ivr keys init`` on the console side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ivr.anchors import AnchorLog, FileAnchors, S3Anchors
from ivr.config import Config, ConfigError, Tier
from ivr.crypto.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    KeyServiceError,
    KeyUnwrapper,
    KeyWrapper,
    KmsKeyUnwrapper,
    KmsKeyWrapper,
    LocalKeyUnwrapper,
    LocalKeyWrapper,
)
from ivr.storage import LocalStore, ObjectStore, S3Store
from ivr.twilio_api import TwilioApi, TwilioRest


class AwsClients:
    """The process's AWS clients, each made on first use (boto3 is loaded only then)."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def _client(self, service: str, endpoint_url: str) -> Any:
        import boto3

        region = self._config.aws_region or None
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url or None)

    @cached_property
    def s3(self) -> Any:
        return self._client("s3", self._config.s3_endpoint_url)

    @cached_property
    def kms(self) -> Any:
        return self._client("kms", self._config.kms_endpoint_url)


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    return Path(parts.path if parts.scheme == "file" else url)


def _s3_store(url: str, config: Config, aws: AwsClients) -> ObjectStore:
    parts = urlsplit(url)
    return S3Store(aws.s3, parts.netloc, parts.path, config.s3_kms_key_id or None)


def _local_store(url: str, config: Config, aws: AwsClients) -> ObjectStore:
    return LocalStore(_local_path(url))


def _s3_anchors(url: str, config: Config, aws: AwsClients) -> AnchorLog:
    try:
        return S3Anchors.from_url(aws.s3, url)
    except ValueError as error:
        raise ConfigError(f"IVR_AUDIT_ANCHOR: {error}") from None


def _file_anchors(url: str, config: Config, aws: AwsClients) -> AnchorLog:
    return FileAnchors(_local_path(url))


_Opener = TypeVar("_Opener")

# By URL scheme; "" is a plain path.
STORES: Mapping[str, Callable[[str, Config, AwsClients], ObjectStore]] = {
    "s3": _s3_store,
    "file": _local_store,
    "": _local_store,
}
ANCHORS: Mapping[str, Callable[[str, Config, AwsClients], AnchorLog]] = {
    "s3": _s3_anchors,
    "file": _file_anchors,
    "": _file_anchors,
}


def _opener(registry: Mapping[str, _Opener], setting: str, url: str) -> _Opener:
    scheme = urlsplit(url).scheme
    found = registry.get(scheme)
    if found is None:
        known = ", ".join(f"{name}://" for name in registry if name)
        raise ConfigError(f"{setting}: unknown URL scheme {scheme!r}: use a path or {known}")
    return found


def object_store(config: Config, aws: AwsClients | None = None) -> ObjectStore:
    """Open the store ``IVR_STORAGE_URL`` names."""
    url = config.storage_url
    return _opener(STORES, "IVR_STORAGE_URL", url)(url, config, aws or AwsClients(config))


def anchor_log(config: Config, aws: AwsClients | None = None) -> AnchorLog | None:
    """Open the audit anchor log ``IVR_AUDIT_ANCHOR`` names (none if it names none)."""
    url = config.audit_anchor
    if not url:
        return None
    return _opener(ANCHORS, "IVR_AUDIT_ANCHOR", url)(url, config, aws or AwsClients(config))


def kms_client(config: Config) -> Any:
    return AwsClients(config).kms


def key_wrapper(config: Config, aws: AwsClients | None = None) -> KeyWrapper:
    """Return what seals data keys for the console; refuse to run without its key."""
    if config.key_service == "kms":
        return KmsKeyWrapper((aws or AwsClients(config)).kms, config.kms_key_id)
    private_path = config.keys_dir / PRIVATE_KEY_FILE
    if config.tier is Tier.EDGE and private_path.exists():
        raise ConfigError(
            f"a recordings private key is at {private_path}: the edge must never hold it. "
            "Remove it from this host; only the console keeps it"
        )
    try:
        return LocalKeyWrapper(_public_key_pem(config))
    except KeyServiceError as error:
        raise ConfigError(f"the recordings public key is unusable: {error}") from None


def _public_key_pem(config: Config) -> bytes:
    if config.recordings_public_key:
        return config.recordings_public_key.encode()
    public_path = config.keys_dir / PUBLIC_KEY_FILE
    if not public_path.exists():
        raise ConfigError(
            f"no recordings public key at {public_path}: run `ivr keys init` on the console "
            "side and give this host its public half (that file, or IVR_RECORDINGS_PUBLIC_KEY)"
        )
    return public_path.read_bytes()


def key_unwrapper(config: Config, aws: AwsClients | None = None) -> KeyUnwrapper:
    """Return what opens data keys: the console's alone."""
    if not config.serves_console:
        raise ConfigError("only the console tier may unwrap recording keys")
    if config.key_service == "kms":
        return KmsKeyUnwrapper((aws or AwsClients(config)).kms)
    private_path = config.keys_dir / PRIVATE_KEY_FILE
    if not private_path.exists():
        raise ConfigError(f"no recordings private key at {private_path}: run `ivr keys init`")
    return LocalKeyUnwrapper(private_path.read_bytes())


def twilio_api(config: Config) -> TwilioApi:
    return TwilioRest(config.twilio_api_url, config.twilio_account_sid, config.twilio_auth_token)
