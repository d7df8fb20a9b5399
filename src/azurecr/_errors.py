"""Service errors: keep the ACR / OCI error code and message on azure-core exceptions.

The generated layer already maps 401 to ``ClientAuthenticationError`` and 404 to
``ResourceNotFoundError``, but azure-core only reads OData-shaped bodies, while ACR and
OCI registries answer ``{"errors": [{"code": ..., "message": ..., "detail": ...}]}``
(OCI distribution spec, "Error Codes"). ``service_errors()`` fills in ``error`` (an
``ODataV4Format`` with ``code`` and ``message``) and the exception message from that body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ODataV4Format,
    ResourceNotFoundError,
)

__all__ = [
    "BlobUploadError",
    "DigestValidationError",
    "ManifestTooLargeError",
    "acr_error_of",
    "acr_error_code",
    "ignore_not_found",
    "service_errors",
]


class DigestValidationError(ValueError):
    """Content from (or accepted by) the registry does not match the digest that names it.

    Raised before the content is returned or persisted: a download that fails the check
    leaves no file behind.

    :param str message: what was being checked.
    :keyword str expected: the digest the content should have had.
    :keyword str actual: the digest (or size) it had.
    """

    def __init__(
        self, message: str, *, expected: Optional[str] = None, actual: Optional[str] = None
    ) -> None:
        self.message = message
        self.expected = expected
        self.actual = actual
        super().__init__(message)


class ManifestTooLargeError(ValueError):
    """A manifest is larger than the limit (4 MiB, as in the OCI distribution spec and ACR).

    Raised without reading past the limit.
    """


class BlobUploadError(AzureError):
    """An upload was interrupted and could not be resumed or restarted.

    The registry's upload session was abandoned (and cancelled where it still existed); no
    blob was created under the data's digest. ``offset`` is how many bytes the registry had
    confirmed when the upload stopped.

    :param str message: why the upload stopped.
    :keyword int offset: bytes confirmed by the registry.
    :keyword error: the underlying exception.
    """

    def __init__(self, message: str, *, offset: int = 0, error: Optional[BaseException] = None):
        super().__init__(message, error=error)
        self.offset = offset


def acr_error_of(body: Any) -> Optional[ODataV4Format]:
    """The first error of an ACR/OCI error body (parsed JSON), or None."""
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None
    first = errors[0]
    code, message = first.get("code"), first.get("message")
    if not (isinstance(code, str) or isinstance(message, str)):
        return None
    return ODataV4Format({"code": code, "message": message, "innererror": first})


def _annotate(exc: HttpResponseError) -> None:
    if exc.error is not None or exc.response is None:
        return
    try:
        body = json.loads(exc.response.text())
    except Exception:  # noqa: BLE001 - an unreadable body keeps azure-core's generic message
        return
    error = acr_error_of(body)
    if error is None:
        return
    exc.error = error
    exc.message = f"({error.code}) {error.message}"
    exc.args = (exc.message,)


def acr_error_code(exc: BaseException) -> Optional[str]:
    """The ACR/OCI error code of a service error (``BLOB_UPLOAD_UNKNOWN``...), or None."""
    if not isinstance(exc, HttpResponseError):
        return None
    _annotate(exc)
    code = getattr(exc.error, "code", None) if exc.error is not None else None
    return code if isinstance(code, str) else None


@contextmanager
def service_errors() -> Iterator[None]:
    """Re-raise service errors with the ACR/OCI error code and message attached."""
    try:
        yield
    except HttpResponseError as exc:
        _annotate(exc)
        raise


@contextmanager
def ignore_not_found() -> Iterator[None]:
    """Deletes succeed when the target is already gone (parity with azure-containerregistry)."""
    try:
        with service_errors():
            yield
    except ResourceNotFoundError:
        pass
