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

from azure.core.exceptions import HttpResponseError, ODataV4Format, ResourceNotFoundError

__all__ = ["acr_error_of", "ignore_not_found", "service_errors"]


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
