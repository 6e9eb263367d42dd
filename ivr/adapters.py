"""Build the outside services a process needs, each chosen by config: real or local.

| service      | local (embedded default)          | production              |
| object store | a folder (``recordings/``)        | S3 (``s3://bucket/p``)  |
| key service  | a key pair under ``var/keys/``    | AWS KMS                 |
| Twilio REST  | the loopback emulator             | api.twilio.com          |

The storing side gets a key *wrapper* only; the *unwrapper* is for the console.
"""

from __future__ import annotations

from typing import Any

from ivr.config import Config
from ivr.crypto.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    KeyUnwrapper,
    KeyWrapper,
    KmsKeyUnwrapper,
    KmsKeyWrapper,
    LocalKeyUnwrapper,
    LocalKeyWrapper,
    ensure_local_key_pair,
)
from ivr.storage import ObjectStore, store_from_url
from ivr.twilio_api import TwilioApi, TwilioRest


def _aws_client(config: Config, service: str, endpoint_url: str) -> Any:
    import boto3

    return boto3.client(service, region_name=config.aws_region, endpoint_url=endpoint_url or None)


def object_store(config: Config) -> ObjectStore:
    s3 = None
    if config.storage_url.startswith("s3://"):
        s3 = _aws_client(config, "s3", config.s3_endpoint_url)
    kms_key = config.kms_key_id if config.key_service == "kms" else None
    return store_from_url(config.storage_url, s3_client=s3, kms_key_id=kms_key)


def key_wrapper(config: Config) -> KeyWrapper:
    if config.key_service == "kms":
        return KmsKeyWrapper(_aws_client(config, "kms", config.kms_endpoint_url), config.kms_key_id)
    ensure_local_key_pair(config.keys_dir)
    return LocalKeyWrapper((config.keys_dir / PUBLIC_KEY_FILE).read_bytes())


def key_unwrapper(config: Config) -> KeyUnwrapper:
    if config.key_service == "kms":
        return KmsKeyUnwrapper(_aws_client(config, "kms", config.kms_endpoint_url))
    return LocalKeyUnwrapper((config.keys_dir / PRIVATE_KEY_FILE).read_bytes())


def twilio_api(config: Config) -> TwilioApi:
    return TwilioRest(config.twilio_api_url, config.twilio_account_sid, config.twilio_auth_token)
