"""The OCI grammar for names, tags and digests."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azurecr._digest import Digest
from azurecr._reference import (
    Reference,
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


@pytest.mark.parametrize("digest", [SHA256, "sha512:" + "0" * 128])
def test_valid_digests(digest: str) -> None:
    validated = validate_digest(digest)
    assert validated == digest
    assert isinstance(validated, Digest)


@pytest.mark.parametrize(
    "digest",
    [
        "sha256",
        "sha256:" + "a" * 63,
        "sha256:" + "A" * 64,
        "sha512:" + "0" * 64,
        ":abc",
        "sha256:",
        # Only the registered algorithms: a registry cannot verify any other.
        "multihash+base58:QmRZxt2b1",
        "sha384:" + "a" * 96,
        "md5:" + "a" * 32,
    ],
)
def test_invalid_digests(digest: str) -> None:
    with pytest.raises(ValueError, match="digest"):
        validate_digest(digest)


@pytest.mark.parametrize("value", [None, 1, b"latest", ["latest"], 1.5])
def test_non_str_arguments_are_type_errors(value: object) -> None:
    for validate in (validate_repository, validate_tag, validate_digest, validate_tag_or_digest):
        with pytest.raises(TypeError, match="must be a str"):
            validate(value)  # type: ignore[arg-type]


def test_tag_or_digest() -> None:
    assert is_digest(SHA256) and not is_digest("latest")
    assert validate_tag_or_digest("latest") == "latest"
    assert validate_tag_or_digest(SHA256) == SHA256
    with pytest.raises(ValueError):
        validate_tag_or_digest("sha256:short")
    with pytest.raises(ValueError, match="digest"):
        validate_tag_or_digest("md5:" + "a" * 32)
    assert isinstance(validate_tag_or_digest(SHA256), Digest)


SHA512 = "sha512:" + "0" * 128


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("hello", None, "hello", None, None),
        ("library/hello-world", None, "library/hello-world", None, None),
        ("hello:v1.0", None, "hello", "v1.0", None),
        (f"hello@{SHA256}", None, "hello", None, SHA256),
        (f"a/b:latest@{SHA512}", None, "a/b", "latest", SHA512),
        ("myreg.azurecr.io/team/app:1", "myreg.azurecr.io", "team/app", "1", None),
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("localhost/app:x", "localhost", "app", "x", None),
        ("127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000", "a/b/c", "t", None),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None),
        (f"Reg.Example.COM/app@{SHA256}", "Reg.Example.COM", "app", None, SHA256),
        # No '.', ':' or "localhost" in the first component: it is part of the repository.
        ("team/app:1", None, "team/app", "1", None),
        # A lone "host:port" is a repository and a tag, as docker reads it.
        ("registry:5000", None, "registry", "5000", None),
    ],
)
def test_parse_reference(
    text: str, registry: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    reference = Reference.parse(text)
    assert (reference.registry, reference.repository, reference.tag, reference.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert digest is None or isinstance(reference.digest, Digest)
    assert str(reference) == text
    assert Reference.parse(str(reference)) == reference


@pytest.mark.parametrize(
    "text",
    [
        "",
        ":",
        "@",
        "hello:",
        "hello@",
        "Hello",
        "hello:.bad",
        "hello:a:b",
        f"hello@{SHA256}@{SHA256}",
        "hello@sha256:abc",
        "hello@md5:" + "a" * 32,
        "myreg.azurecr.io/",
        "myreg.azurecr.io//app",
        "myreg.azurecr.io:/app",
        "host:port/app",
        "-bad.io/app",
        "myreg.azurecr.io/app:v1/x",
        "https://myreg.azurecr.io/app",
        "a b",
        "hello:" + "x" * 129,
    ],
)
def test_parse_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="invalid reference"):
        Reference.parse(text)


def test_parse_refuses_non_str() -> None:
    with pytest.raises(TypeError):
        Reference.parse(b"hello")  # type: ignore[arg-type]


def test_reference_is_a_frozen_validated_value() -> None:
    reference = Reference("app", registry="myreg.azurecr.io", tag="v1", digest=SHA256)
    assert str(reference) == f"myreg.azurecr.io/app:v1@{SHA256}"
    assert isinstance(reference.digest, Digest)
    assert reference == Reference.parse(str(reference))
    assert hash(reference) == hash(Reference.parse(str(reference)))
    assert reference.tag_or_digest == SHA256
    assert Reference("app", tag="v1").tag_or_digest == "v1"
    assert Reference("app").tag_or_digest is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        reference.tag = "v2"  # type: ignore[misc]
    assert dataclasses.replace(reference, tag="v2").tag == "v2"
    with pytest.raises(ValueError, match="tag"):
        dataclasses.replace(reference, tag="-v2")
    with pytest.raises(ValueError, match="registry"):
        Reference("app", registry="bad host")
    with pytest.raises(ValueError, match="repository"):
        Reference("App")
    with pytest.raises(ValueError, match="digest"):
        Reference("app", digest="sha256:1")
    with pytest.raises(TypeError):
        Reference("app", registry=5)  # type: ignore[arg-type]


def test_a_repository_that_would_read_as_a_registry_needs_one() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        Reference("my.org/app")
    with pytest.raises(ValueError, match="ambiguous"):
        Reference("localhost/app")
    with_registry = Reference("my.org/app", registry="myreg.azurecr.io")
    assert str(with_registry) == "myreg.azurecr.io/my.org/app"
    assert Reference.parse(str(with_registry)) == with_registry
    # A single component cannot be a registry: no ambiguity.
    assert str(Reference("my.org")) == "my.org"


_component = st.from_regex(r"[a-z0-9]{1,5}(?:[._-][a-z0-9]{1,5}){0,2}", fullmatch=True)
_registries = st.one_of(
    st.none(),
    st.just("localhost"),
    st.builds(
        lambda host, port: host + port,
        st.from_regex(r"[a-z0-9]{1,8}(?:\.[a-z0-9]{1,8}){1,3}", fullmatch=True),
        st.sampled_from(["", ":5000", ":443"]),
    ),
)


@given(
    registry=_registries,
    path=st.lists(_component, min_size=1, max_size=4),
    tag=st.one_of(st.none(), st.from_regex(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}", fullmatch=True)),
    digest=st.one_of(
        st.none(),
        st.binary(max_size=16).map(lambda data: str(Digest.of(data))),
    ),
)
def test_references_round_trip(
    registry: str | None, path: list[str], tag: str | None, digest: str | None
) -> None:
    repository = "/".join(path)
    first = path[0]
    if registry is None and len(path) > 1 and ("." in first or first == "localhost"):
        # Written out, the first component would read as a registry: refused as ambiguous.
        with pytest.raises(ValueError, match="ambiguous"):
            Reference(repository, registry=registry, tag=tag, digest=digest)
        return
    reference = Reference(repository, registry=registry, tag=tag, digest=digest)
    parsed = Reference.parse(str(reference))
    assert parsed == reference
    assert str(parsed) == str(reference)
