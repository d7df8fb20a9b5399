"""A fake Azure Blob Storage origin for the test bed's ``blob_redirect`` mode.

Real ACR answers ``GET /v2/<name>/blobs/<digest>`` with ``307`` and a ``Location`` on
``https://<account>.blob.core.windows.net/...?<SAS>``; the client must follow it without
the registry's ``Authorization`` header. Here the "storage account" is a second HTTPS
server of the serve process on ``https://localhost:<port>`` (another origin than the
service's ``https://127.0.0.1:<port>``; the test bed's server certificate covers both).
It serves the registry's own blob files:

    GET|HEAD /<container>/docker/registry/v2/blobs/sha256/<xx>/<hex>/data
             ?sv=2020-08-04&se=<expiry>&sr=b&sp=r&sig=<HMAC, base64, percent-encoded>

* ``sig`` is an HMAC of the path and ``se`` (expiry) under a per-process key, base64
  and percent-encoded like Azure's; missing / wrong / expired -> 403 AuthenticationFailed.
* any ``Authorization`` header -> 400 InvalidAuthenticationInfo (Azure refuses a foreign
  bearer token next to a SAS).
* ``Range: bytes=a-b`` / ``a-`` / ``-n`` (or ``x-ms-range``) -> 206 + Content-Range;
  unsatisfiable -> 416; a malformed or multi-range header is ignored (200, whole blob).
* bodies are streamed from disk in chunks; the ``tamper`` mode ("blobs") flips one byte.
* every request is logged to ``ServiceState.storage_traffic`` (see :func:`handle_blob`).
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import hmac
import re
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from .tamper import ByteFlipper

if TYPE_CHECKING:
    from .acr_service import ServiceState

CONTAINER = "testbed-registry"
SAS_VERSION = "2020-08-04"
DEFAULT_SAS_TTL = 600  # seconds; ACR's SAS URLs are short-lived too
CHUNK = 256 * 1024
BLOB_URL_PATH = re.compile(
    r"^/(?P<container>[^/]+)/docker/registry/v2/blobs/sha256/"
    r"(?P<prefix>[0-9a-f]{2})/(?P<hex>[0-9a-f]{64})/data$"
)
XML_CT = "application/xml"


class Unsatisfiable(Exception):
    pass


class SasSigner:
    """Signs and checks the ``se``/``sig`` pair of the blob URLs (HMAC-SHA256)."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)

    def signature(self, path: str, se: str) -> str:
        mac = hmac.new(self.key, f"{path}\n{se}".encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def query(self, path: str, ttl: int) -> str:
        se = _iso(time.time() + ttl)
        sig = self.signature(path, se)
        return f"sv={SAS_VERSION}&se={quote(se, safe='')}&sr=b&sp=r&sig={quote(sig, safe='')}"

    def check(self, path: str, se: str | None, sig: str | None) -> str | None:
        """None when valid, else the reason (Azure's AuthenticationErrorDetail)."""
        if not se or not sig:
            return "Signature fields not well formed."
        if not hmac.compare_digest(self.signature(path, se), sig):
            return (
                "Signature did not match. String to sign used was r\n\n"
                f"{se}\n/blob/{path.split('/', 2)[1]}{path}"
            )
        try:
            expiry = datetime.datetime.strptime(se, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc
            )
        except ValueError:
            return "Signed expiry time is not well formed."
        now = time.time()
        if expiry.timestamp() < now:
            return (
                "Signature not valid in the specified time frame: "
                f"Expiry [{_http_date(expiry.timestamp())}] - Current [{_http_date(now)}]"
            )
        return None


def blob_url_path(digest: str, container: str = CONTAINER) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hexpart):
        raise ValueError(f"unsupported digest {digest!r}")
    return f"/{container}/docker/registry/v2/blobs/sha256/{hexpart[:2]}/{hexpart}/data"


def signed_blob_url(st: ServiceState, digest: str) -> str:
    """The ``Location`` the service redirects a blob GET to."""
    path = blob_url_path(digest)
    return f"{st.redirect_origin}{path}?{st.sas.query(path, st.sas_ttl)}"


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end) of a single ``bytes=`` range; None = serve the whole blob."""
    if not value:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if m is None:
        return None  # malformed or several ranges: ignored, like Azure
    first, last = m.group(1), m.group(2)
    if not first:
        if not last:
            return None
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, min(end, size - 1)


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def _base_headers() -> dict[str, str]:
    return {
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-version": SAS_VERSION,
        "Server": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
        "Date": _http_date(time.time()),
    }


def storage_error(
    status: int, code: str, message: str, detail: str | None = None, **headers: str
) -> web.Response:
    request_id = str(uuid.uuid4())
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}\nRequestId:{request_id}\nTime:{now}"
        "</Message>"
        + (f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail>" if detail else "")
        + "</Error>"
    )
    h = {**_base_headers(), "x-ms-request-id": request_id, "x-ms-error-code": code}
    h.update(headers)
    return web.Response(status=status, body=body.encode(), content_type=XML_CT, headers=h)


async def handle_blob(request: web.Request) -> web.StreamResponse:
    """Serve one blob URL. Logs ``{"method", "path", "query", "host", "range" (header or
    None), "authorization" (bool: header present), "status", "bytes_sent" (blob bytes
    written; 0 for errors and HEAD), "complete" (the whole body went out)}`` to the storage
    traffic."""
    st: ServiceState = request.app["state"]
    record: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": request.rel_url.raw_query_string,
        "host": request.headers.get("Host", ""),
        "range": request.headers.get("x-ms-range") or request.headers.get("Range"),
        "authorization": "Authorization" in request.headers,
        "status": 0,
        "bytes_sent": 0,
        "complete": False,
    }
    try:
        resp = await _serve(request, st, record)
        record["status"] = resp.status
        if isinstance(resp, web.Response):  # an error document, not blob bytes
            record["complete"] = True
        return resp
    finally:
        st.storage_traffic.append(record)


async def _serve(
    request: web.Request, st: ServiceState, record: dict[str, Any]
) -> web.StreamResponse:
    if "Authorization" in request.headers:
        return storage_error(
            400,
            "InvalidAuthenticationInfo",
            "Authentication information is not given in the correct format. "
            "Check the value of Authorization header.",
        )
    # Only blob paths are ever signed, so the signature check also guards the path.
    reason = st.sas.check(request.path, request.query.get("se"), request.query.get("sig"))
    if reason is not None:
        return storage_error(403, "AuthenticationFailed", _AUTH_FAILED, reason)
    if request.method not in ("GET", "HEAD"):
        return storage_error(
            403,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
        )
    m = BLOB_URL_PATH.match(request.rel_url.raw_path)
    if m is None or m.group("hex")[:2] != m.group("prefix"):
        return storage_error(404, "BlobNotFound", "The specified blob does not exist.")
    path = st.storage.blob_path("sha256:" + m.group("hex"))
    try:
        f = open(path, "rb")  # noqa: SIM115, ASYNC230 - small local reads, closed below
    except OSError:
        return storage_error(404, "BlobNotFound", "The specified blob does not exist.")
    with f:
        stat = path.stat()
        size = stat.st_size
        try:
            rng = parse_range(record["range"], size)
        except Unsatisfiable:
            return storage_error(
                416,
                "InvalidRange",
                "The range specified is invalid for the current size of the resource.",
                **{"Content-Range": f"bytes */{size}"},
            )
        start, end = rng if rng is not None else (0, size - 1)
        length = max(0, end - start + 1)
        resp = web.StreamResponse(status=206 if rng is not None else 200)
        resp.headers.update(_base_headers())
        resp.headers.update(
            {
                "Content-Type": "application/octet-stream",
                "Accept-Ranges": "bytes",
                "ETag": f'"0x{int(stat.st_mtime_ns):X}"',
                "Last-Modified": _http_date(stat.st_mtime),
                "x-ms-blob-type": "BlockBlob",
                "x-ms-server-encrypted": "true",
            }
        )
        if rng is not None:
            resp.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        resp.content_length = length
        record["status"] = resp.status
        await resp.prepare(request)
        if request.method == "GET" and length:
            flipper = ByteFlipper(length) if st.tamper == "blobs" else None
            f.seek(start)
            left = length
            while left:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    break  # the file shrank under us: the client sees a short body
                left -= len(chunk)
                if flipper is not None:
                    chunk = flipper.apply(chunk)
                await resp.write(chunk)
                record["bytes_sent"] += len(chunk)
        await resp.write_eof()
        record["complete"] = request.method == "HEAD" or record["bytes_sent"] == length
        return resp


_AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header "
    "is formed correctly including the signature."
)


def make_storage_app(state: ServiceState) -> web.Application:
    app = web.Application()
    app["state"] = state
    app.router.add_route("*", "/{tail:.*}", handle_blob)
    return app


__all__ = [
    "CONTAINER",
    "SasSigner",
    "blob_url_path",
    "signed_blob_url",
    "make_storage_app",
    "parse_range",
]
