"""The OCI grammar for names, tags and digests."""

from __future__ import annotations

import pytest

from azurecr._reference import (
    is_digest,
    validate_digest,
    validate_repository,
    validate_tag,
    validate_tag_or_digest,
)

SHA256 = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "name", ["hello", "library/hello-world", "a/b/c", "a.b_c__d---e", "x0/y1", "a" * 255]
)
def test_valid_repository_names(name: str) -> None:
    assert validate_repository(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "Hello", "/a", "a/", "a//b", "-a", "a-", "a___b", "a..b", "a b", "a:b", "a" * 256, "é"],
)
def test_invalid_repository_names(name: str) -> None:
    with pytest.raises(ValueError, match="repository"):
        validate_repository(name)


@pytest.mark.parametrize("tag", ["latest", "v1.0-rc_1", "_x", "A" * 128])
def test_valid_tags(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", ".a", "-a", "a/b", "a:b", "A" * 129, "a b"])
def test_invalid_tags(tag: str) -> None:
    with pytest.raises(ValueError, match="tag"):
        validate_tag(tag)


@pytest.mark.parametrize("digest", [SHA256, "sha512:" + "0" * 128, "multihash+base58:QmRZxt2b1"])
def test_valid_digests(digest: str) -> None:
    assert validate_digest(digest) == digest


@pytest.mark.parametrize(
    "digest",
    ["sha256", "sha256:" + "a" * 63, "sha256:" + "A" * 64, "sha512:" + "0" * 64, ":abc", "sha256:"],
)
def test_invalid_digests(digest: str) -> None:
    with pytest.raises(ValueError, match="digest"):
        validate_digest(digest)


def test_tag_or_digest() -> None:
    assert is_digest(SHA256) and not is_digest("latest")
    assert validate_tag_or_digest("latest") == "latest"
    assert validate_tag_or_digest(SHA256) == SHA256
    with pytest.raises(ValueError):
        validate_tag_or_digest("sha256:short")
