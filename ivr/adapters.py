"""Build the outside services a process needs, each chosen by config: real or local.

| service      | local (embedded default)          | production              |
| object store | a folder (``recordings/``)        | S3 (``s3://bucket/p``)  |
| key service  | a key pair under ``var/keys/``    | AWS KMS                 |
| Twilio REST  | the loopback emulator             | api.twilio.com          |

The storing side gets a key *wrapper* only; the *unwrapper* is for the console. Neither
ever creates a key: the local pair is made by ``ivr keys init`` on the console side.
"""

from __future__ import annotations

from typing import Any

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
from ivr.storage import ObjectStore, store_from_url
from ivr.twilio_api import TwilioApi, TwilioRest


def _aws_client(config: Config, service: str, endpoint_url: str) -> Any:
    import boto3

    return boto3.client(service, region_name=config.aws_region, endpoint_url=endpoint_url or None)


def object_store(config: Config) -> ObjectStore:
    s3 = None
    if config.storage_url.startswith("s3://"):
        s3 = _aws_client(config, "s3", config.s3_endpoint_url)
    return store_from_url(config.storage_url, s3_client=s3, kms_key_id=config.s3_kms_key_id or None)


def kms_client(config: Config) -> Any:
    return _aws_client(config, "kms", config.kms_endpoint_url)


def key_wrapper(config: Config) -> KeyWrapper:
    """Return what seals data keys for the console; refuse to run without its key."""
    if config.key_service == "kms":
        return KmsKeyWrapper(kms_client(config), config.kms_key_id)
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


def key_unwrapper(config: Config) -> KeyUnwrapper:
    """Return what opens data keys: the console's alone."""
    if not config.serves_console:
        raise ConfigError("only the console tier may unwrap recording keys")
    if config.key_service == "kms":
        return KmsKeyUnwrapper(kms_client(config))
    private_path = config.keys_dir / PRIVATE_KEY_FILE
    if not private_path.exists():
        raise ConfigError(f"no recordings private key at {private_path}: run `ivr keys init`")
    return LocalKeyUnwrapper(private_path.read_bytes())


def twilio_api(config: Config) -> TwilioApi:
    return TwilioRest(config.twilio_api_url, config.twilio_account_sid, config.twilio_auth_token)
