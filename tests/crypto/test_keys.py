"""Data keys: fresh per object, bound to it, and opened only on the console side."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ivr.crypto import envelope
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
    ensure_local_key_pair,
    object_context,
)
from tests.conftest import assert_implements


@pytest.fixture
def key_pair(tmp_path: Path) -> Path:
    ensure_local_key_pair(tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def kms(aws_endpoint: str) -> Iterator[tuple[object, str]]:
    client = boto3.client("kms", endpoint_url=aws_endpoint, region_name="eu-west-2")
    yield client, client.create_key(Description="ivr recordings")["KeyMetadata"]["KeyId"]


def test_the_private_half_is_readable_by_its_owner_only(key_pair: Path) -> None:
    assert stat.S_IMODE((key_pair / PRIVATE_KEY_FILE).stat().st_mode) == 0o600


def test_a_local_data_key_opens_its_object_and_no_other(key_pair: Path) -> None:
    wrapper = LocalKeyWrapper((key_pair / PUBLIC_KEY_FILE).read_bytes())
    unwrapper = LocalKeyUnwrapper((key_pair / PRIVATE_KEY_FILE).read_bytes())
    first, second = (
        wrapper.generate(object_context("aa11", "report-1", "report")),
        wrapper.generate(object_context("aa11", "report-1", "report")),
    )
    assert first.plaintext != second.plaintext and len(first.plaintext) == 32
    assert (
        unwrapper.unwrap(first.wrapped, object_context("aa11", "report-1", "report"))
        == first.plaintext
    )
    with pytest.raises(KeyServiceError):
        unwrapper.unwrap(
            first.wrapped, object_context("bb22", "report-1", "report")
        )  # moved onto another object
    with pytest.raises(KeyServiceError):
        unwrapper.unwrap(
            first.wrapped, object_context("aa11", "report-2", "report")
        )  # another report
    with pytest.raises(KeyServiceError):
        unwrapper.unwrap(
            first.wrapped, object_context("aa11", "report-1", "contact")
        )  # another part


def test_the_storing_sides_key_material_alone_cannot_decrypt(key_pair: Path) -> None:
    # Given everything the storing side holds: the public key, a stored object, its wrapped key
    public_pem = (key_pair / PUBLIC_KEY_FILE).read_bytes()
    data_key = LocalKeyWrapper(public_pem).generate(object_context("cc33", "report-1", "report"))
    blob = b"".join(
        envelope.encrypt(
            data_key.plaintext, [b"the caller's words" * 100], fingerprint=data_key.fingerprint
        )
    )
    # Then it cannot serve as an unwrapping key...
    with pytest.raises(ValueError):
        LocalKeyUnwrapper(public_pem)
    # ...the wrapped key is not the data key...
    with pytest.raises(envelope.TamperedCiphertext):
        b"".join(envelope.decrypt(data_key.wrapped[:32], [blob]))
    # ...and nothing in the object or its metadata opens it but the private half.
    private = LocalKeyUnwrapper((key_pair / PRIVATE_KEY_FILE).read_bytes())
    opened = b"".join(
        envelope.decrypt(
            private.unwrap(data_key.wrapped, object_context("cc33", "report-1", "report")), [blob]
        )
    )
    assert opened.startswith(b"the caller's words")


def test_kms_data_keys_are_bound_to_their_object(kms: tuple[object, str]) -> None:
    client, key_id = kms
    data_key = KmsKeyWrapper(client, key_id).generate(object_context("dd44", "report-1", "report"))
    assert data_key.key_ref.startswith("kms:")
    assert (
        KmsKeyUnwrapper(client).unwrap(
            data_key.wrapped, object_context("dd44", "report-1", "report")
        )
        == data_key.plaintext
    )
    with pytest.raises(KeyServiceError):
        KmsKeyUnwrapper(client).unwrap(
            data_key.wrapped, object_context("ee55", "report-1", "report")
        )


def test_an_unreachable_kms_is_a_key_service_error() -> None:
    client = boto3.client(
        "kms",
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-2",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with pytest.raises(KeyServiceError):
        KmsKeyWrapper(client, "alias/none").generate(object_context("ff66", "report-1", "report"))


@pytest.mark.parametrize(
    ("protocol", "implementations"),
    [
        (KeyWrapper, [LocalKeyWrapper, KmsKeyWrapper]),
        (KeyUnwrapper, [LocalKeyUnwrapper, KmsKeyUnwrapper]),
    ],
)
def test_each_key_service_implements_its_interface(
    protocol: type, implementations: list[type]
) -> None:
    for implementation in implementations:
        assert_implements(protocol, implementation)
