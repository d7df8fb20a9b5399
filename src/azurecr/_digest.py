"""A validated OCI content digest (pure, no I/O).

A digest is parsed and checked once, when it is made; afterwards it is a plain ``str`` that
carries its algorithm and encoded part, so it can go anywhere a ``str`` goes (URLs, headers,
JSON) without being checked again. Grammar: OCI image spec, "Descriptors" / "Digests"; only
the two registered algorithms are accepted, because a registry can verify no other.
"""

from __future__ import annotations

import hashlib
import re
from types import MappingProxyType
from typing import Callable, Protocol, Union

from typing_extensions import Self

__all__ = ["SUPPORTED_ALGORITHMS", "Digest", "Hasher"]

SUPPORTED_ALGORITHMS: MappingProxyType[str, int] = MappingProxyType({"sha256": 64, "sha512": 128})
"""The accepted digest algorithms, each with the length of its hex-encoded part."""

_CONSTRUCTORS: dict[str, Callable[[], Hasher]] = {
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
# ASCII only: ``\d`` or ``str.isdigit`` would let other Unicode digits through.
_LOWER_HEX = re.compile(r"[0-9a-f]+")

_Buffer = Union[bytes, bytearray, memoryview]


class Hasher(Protocol):
    """What :class:`Digest` needs of a hash object; every ``hashlib`` object fits."""

    @property
    def name(self) -> str:
        """The algorithm's name, for example ``sha256``."""

    def update(self, data: _Buffer, /) -> None:
        """Feed more bytes."""

    def digest(self) -> bytes:
        """The hash of the bytes fed so far."""

    def hexdigest(self) -> str:
        """The hash of the bytes fed so far, as lower-case hex."""

    def copy(self) -> Hasher:
        """An independent copy of the current state."""


def _supported(algorithm: object) -> str:
    if not isinstance(algorithm, str):
        raise TypeError(f"digest algorithm must be a str, not {type(algorithm).__name__}")
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(
            f"unsupported digest algorithm {algorithm!r}: expected one of "
            f"{', '.join(SUPPORTED_ALGORITHMS)}"
        )
    return algorithm


class Digest(str):
    """A validated OCI digest such as ``sha256:<64 lower-case hex characters>``.

    ``Digest`` is a ``str``: it compares, hashes and serialises as its text, so
    ``Digest(text) == text``. Only ``sha256`` (64 hex characters) and ``sha512`` (128 hex
    characters) are accepted, in lower case, as the OCI image spec registers them.

    :param str value: the digest text, ``algorithm:encoded``.
    :raises TypeError: if ``value`` is not a ``str``.
    :raises ValueError: if ``value`` is not a valid sha256 or sha512 digest.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if type(value) is cls:
            return value
        if not isinstance(value, str):
            raise TypeError(f"a digest must be a str, not {type(value).__name__}")
        algorithm, colon, encoded = value.partition(":")
        if not colon:
            raise ValueError(
                f"invalid digest {value!r}: expected 'algorithm:hex', such as 'sha256:' "
                "followed by 64 lower-case hex characters"
            )
        size = SUPPORTED_ALGORITHMS.get(algorithm)
        if size is None:
            raise ValueError(
                f"invalid digest {value!r}: unsupported algorithm {algorithm!r} "
                f"(expected one of {', '.join(SUPPORTED_ALGORITHMS)})"
            )
        if len(encoded) != size or not _LOWER_HEX.fullmatch(encoded):
            raise ValueError(
                f"invalid digest {value!r}: {algorithm} needs exactly {size} lower-case hex "
                f"characters after '{algorithm}:'"
            )
        # str(value): a str subclass (an enum member, say) must not leak its own type.
        return super().__new__(cls, str.__str__(value))

    def __repr__(self) -> str:
        return f"Digest({str.__repr__(self)})"

    @property
    def algorithm(self) -> str:
        """The algorithm, ``sha256`` or ``sha512``.

        :rtype: str
        """
        return self.partition(":")[0]

    @property
    def encoded(self) -> str:
        """The hex-encoded hash after the ``:``.

        :rtype: str
        """
        return self.partition(":")[2]

    @classmethod
    def of(cls, data: _Buffer, algorithm: str = "sha256") -> Self:
        """The digest of ``data``.

        :param data: the bytes to hash.
        :type data: bytes or bytearray or memoryview
        :param str algorithm: ``sha256`` (the default) or ``sha512``.
        :return: the digest of ``data``.
        :rtype: ~azurecr.Digest
        :raises TypeError: if ``data`` is not bytes-like (a ``str`` is refused: encode it).
        :raises ValueError: if ``algorithm`` is not supported.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"data must be bytes, bytearray or memoryview, not {type(data).__name__}"
            )
        hasher = cls.hasher(algorithm)
        hasher.update(data)
        return cls(f"{algorithm}:{hasher.hexdigest()}")

    @staticmethod
    def hasher(algorithm: str = "sha256") -> Hasher:
        """A new ``hashlib`` object for ``algorithm``, to hash a stream piece by piece.

        :param str algorithm: ``sha256`` (the default) or ``sha512``.
        :return: a fresh hash object.
        :rtype: ~azurecr.Hasher
        :raises ValueError: if ``algorithm`` is not supported.
        """
        return _CONSTRUCTORS[_supported(algorithm)]()

    def new_hasher(self) -> Hasher:
        """A new ``hashlib`` object for this digest's algorithm, to verify content against it.

        :return: a fresh hash object.
        :rtype: ~azurecr.Hasher
        """
        return _CONSTRUCTORS[self.algorithm]()

    @classmethod
    def from_hasher(cls, hasher: Hasher) -> Self:
        """The digest of what a (finished) hash object has been fed.

        :param hasher: a ``hashlib`` object of a supported algorithm.
        :type hasher: ~azurecr.Hasher
        :return: ``<hasher.name>:<hasher.hexdigest()>``.
        :rtype: ~azurecr.Digest
        :raises ValueError: if the hash object's algorithm is not supported.
        """
        name = getattr(hasher, "name", None)
        if not isinstance(name, str):
            raise TypeError(f"expected a hashlib object, not {type(hasher).__name__}")
        algorithm = _supported(name.lower())
        return cls(f"{algorithm}:{hasher.hexdigest()}")
