"""``Digest``: validated once, then an ordinary ``str``."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azurecr._digest import SUPPORTED_ALGORITHMS, Digest

HELLO_SHA256 = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EMPTY_SHA512 = (
    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)
_ORACLE = re.compile(r"(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})")


def test_a_valid_digest_is_the_same_string() -> None:
    digest = Digest(HELLO_SHA256)
    assert isinstance(digest, str) and isinstance(digest, Digest)
    assert digest == HELLO_SHA256 and hash(digest) == hash(HELLO_SHA256)
    assert digest.algorithm == "sha256"
    assert digest.encoded == HELLO_SHA256[len("sha256:") :]
    assert {HELLO_SHA256: 1}[digest] == 1
    assert f"/v2/x/blobs/{digest}" == f"/v2/x/blobs/{HELLO_SHA256}"
    assert json.dumps({"digest": digest}) == json.dumps({"digest": HELLO_SHA256})
    assert type(str(digest)) is str
    assert repr(digest) == f"Digest('{HELLO_SHA256}')"


def test_sha512_is_accepted() -> None:
    digest = Digest(EMPTY_SHA512)
    assert digest.algorithm == "sha512" and len(digest.encoded) == 128


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("", "expected 'algorithm:hex'"),
        ("sha256", "expected 'algorithm:hex'"),
        ("sha256:", "64 lower-case hex"),
        ("sha256:" + "a" * 63, "64 lower-case hex"),
        ("sha256:" + "a" * 65, "64 lower-case hex"),
        ("sha256:" + "A" * 64, "64 lower-case hex"),
        ("sha256:" + "g" * 64, "64 lower-case hex"),
        ("sha256:" + "a" * 63 + "\n", "64 lower-case hex"),
        ("sha256:" + "٣" * 64, "64 lower-case hex"),  # Arabic-Indic digits are not hex
        ("sha512:" + "0" * 64, "128 lower-case hex"),
        ("SHA256:" + "a" * 64, "unsupported algorithm 'SHA256'"),
        ("md5:" + "a" * 32, "unsupported algorithm 'md5'"),
        ("multihash+base58:QmRZxt2b1", "unsupported algorithm"),
        (":" + "a" * 64, "unsupported algorithm ''"),
        (" sha256:" + "a" * 64, "unsupported algorithm"),
    ],
)
def test_invalid_digests_name_the_value(value: str, needle: str) -> None:
    with pytest.raises(ValueError) as info:
        Digest(value)
    message = str(info.value)
    assert repr(value) in message and needle in message


@pytest.mark.parametrize("value", [None, 1, b"sha256:" + b"a" * 64, ["sha256:" + "a" * 64]])
def test_a_non_str_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="must be a str"):
        Digest(value)  # type: ignore[arg-type]


def test_of_hashes_bytes_like_data() -> None:
    assert Digest.of(b"hello") == HELLO_SHA256
    assert Digest.of(bytearray(b"hello")) == HELLO_SHA256
    assert Digest.of(memoryview(b"xhellox")[1:6]) == HELLO_SHA256
    assert Digest.of(b"") == EMPTY_SHA256
    assert Digest.of(b"", "sha512") == EMPTY_SHA512
    assert type(Digest.of(b"")) is Digest


def test_of_refuses_text_and_unknown_algorithms() -> None:
    with pytest.raises(TypeError, match="bytes"):
        Digest.of("hello")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unsupported digest algorithm 'md5'"):
        Digest.of(b"hello", "md5")


def test_hashers() -> None:
    hasher = Digest.hasher()
    assert hasher.name == "sha256"
    hasher.update(b"hel")
    hasher.update(memoryview(b"lo"))
    assert Digest.from_hasher(hasher) == HELLO_SHA256
    assert Digest.hasher("sha512").name == "sha512"
    with pytest.raises(ValueError, match="unsupported"):
        Digest.hasher("sha1")
    # A digest's own hasher verifies content against it.
    digest = Digest(EMPTY_SHA512)
    fresh = digest.new_hasher()
    assert fresh.name == "sha512"
    assert Digest.from_hasher(fresh) == digest
    # Each call gives a new object.
    assert Digest.hasher() is not Digest.hasher()


def test_from_hasher_takes_hashlib_objects_only_of_supported_algorithms() -> None:
    assert Digest.from_hasher(hashlib.sha512(b"")) == EMPTY_SHA512
    with pytest.raises(ValueError, match="unsupported digest algorithm 'md5'"):
        Digest.from_hasher(hashlib.md5(b""))
    with pytest.raises(TypeError):
        Digest.from_hasher(object())  # type: ignore[arg-type]


def test_supported_algorithms_is_read_only() -> None:
    assert dict(SUPPORTED_ALGORITHMS) == {"sha256": 64, "sha512": 128}
    with pytest.raises(TypeError):
        SUPPORTED_ALGORITHMS["md5"] = 32  # type: ignore[index]


def test_copies_and_pickles_stay_digests() -> None:
    digest = Digest(HELLO_SHA256)
    for clone in (copy.copy(digest), copy.deepcopy(digest), pickle.loads(pickle.dumps(digest))):
        assert type(clone) is Digest and clone == digest
    assert Digest(digest) is digest


def test_a_str_subclass_becomes_a_plain_digest() -> None:
    class Text(str):
        pass

    digest = Digest(Text(HELLO_SHA256))
    assert type(digest) is Digest and digest == HELLO_SHA256


@given(st.binary(max_size=4096), st.sampled_from(sorted(SUPPORTED_ALGORITHMS)))
def test_of_matches_hashlib(data: bytes, algorithm: str) -> None:
    digest = Digest.of(data, algorithm)
    assert digest == f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
    assert Digest(str(digest)) == digest
    assert f"{digest.algorithm}:{digest.encoded}" == digest
    streamed = digest.new_hasher()
    for start in range(0, len(data), 97):
        streamed.update(data[start : start + 97])
    assert Digest.from_hasher(streamed) == digest


@given(
    st.one_of(
        st.text(max_size=140),
        st.builds(
            lambda algorithm, encoded: f"{algorithm}:{encoded}",
            st.sampled_from(["sha256", "sha512", "sha384", "SHA256", ""]),
            st.text(alphabet="0123456789abcdefABCDEF-", min_size=60, max_size=130),
        ),
    )
)
def test_accepts_exactly_the_oci_grammar(text: str) -> None:
    if _ORACLE.fullmatch(text):
        assert Digest(text) == text
    else:
        with pytest.raises(ValueError, match="invalid digest"):
            Digest(text)
