"""An ACR-compatible front service for the test bed (aiohttp, TLS).

It is the endpoint clients talk to (like ``myregistry.azurecr.io``):

* ``/v2/*``      streamed reverse proxy to the real registry (distribution), which enforces
                 the bearer tokens itself; this service adds ACR's changeableAttributes checks
                 and records push timestamps.
* ``/oauth2/exchange``  AAD access token -> ACR refresh token (the test bed is its own AAD).
* ``/oauth2/token``     refresh token / admin user / anonymous -> access token (RS256 JWT with
                 the libtrust ``kid`` the registry trusts).
* ``/acr/v1/*``  ACR metadata API, backed by the registry's filesystem storage.
* ``/_testbed/*`` test-only controls (admin basic auth).

The origin it writes into token realms, ``Location`` and ``Link`` headers is the one the
client used (its ``Host`` header), so a client may reach it through a proxy
(``tests/faults``); the token ``service`` (audience) never changes.

Test modes (``POST /_testbed/config``, all off by default):

* ``blob_redirect``  blob GETs the registry authorizes are answered ``307`` to a signed URL
                 on the fake blob storage origin (``blob_storage.py``), like ACR.
* ``tamper``     ``"blobs"`` / ``"manifests"``: one byte of every such GET body is changed
                 on the way out (headers untouched), to exercise digest validation.

``referrers_api`` (on by default): the OCI 1.1 referrers API ``GET /v2/<name>/referrers/
<digest>`` is answered here from the registry's storage, and a manifest PUT with a ``subject``
gets ``OCI-Subject``; off, both go to distribution as they are (it has neither: 404).

Blob upload sessions are observed (``UploadTracker``) so tests can assert push concurrency.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import json
import re
import ssl
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
import jwt
from aiohttp import web

from . import pki
from .blob_storage import DEFAULT_SAS_TTL, SasSigner, signed_blob_url
from .storage import Storage
from .tamper import TAMPER_MODES, ByteFlipper, tamper_manifest

ACCEPTED_AAD_AUDIENCES = (
    "https://containerregistry.azure.net",
    "https://management.azure.com",
    "https://management.core.windows.net",
    "https://management.chinacloudapi.cn",
    "https://management.core.chinacloudapi.cn",
    "https://management.usgovcloudapi.net",
    "https://management.core.usgovcloudapi.net",
)
ANONYMOUS_ACTIONS = {"pull", "metadata_read"}
REFRESH_TOKEN_TTL = 3 * 3600
ACCESS_TOKEN_TTL = 3600
AUTH_MESSAGE = (
    "authentication required, visit https://aka.ms/acr/authorization for more information."
)
DISALLOWED_MESSAGE = "The operation is disallowed on this registry, repository or image."
DISALLOWED_STATUS = 405
DEFAULT_PAGE = 100
CHUNK = 256 * 1024
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "expect",  # aiohttp answers 100-continue itself; never forward it upstream
}
JSON_CT = "application/json; charset=utf-8"
MANIFEST_PATH = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")
BLOB_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
REFERRERS_PATH = re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)$")
UPLOAD_START_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/?$")
UPLOAD_SESSION_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<id>[^/]+)$")
# distribution's repository name grammar (reference.NameRegexp, without a domain)
NAME_RE = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$"
)
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
OCI_INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit
HOST_RE = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
ATTRS = ("deleteEnabled", "writeEnabled", "readEnabled", "listEnabled")


def acr_time(ts: float) -> str:
    """ISO 8601 with 7 fractional digits and Z, like ACR."""
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}{int(ts * 1e7) % 10}Z"


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """``repository:a/b:pull,push`` -> ("repository", "a/b", ["pull", "push"])."""
    typ, sep, rest = scope.partition(":")
    if not sep:
        return None
    name, sep, actions = rest.rpartition(":")
    if not sep or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


def valid_digest(value: str) -> bool:
    """Digest syntax (OCI image spec), and the exact hex length for the known algorithms."""
    if not DIGEST_RE.match(value):
        return False
    algo, _, encoded = value.partition(":")
    length = DIGEST_HEX_LENGTHS.get(algo)
    return length is None or (
        len(encoded) == length and all(c in "0123456789abcdef" for c in encoded)
    )


def split_scopes(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(s for s in v.split(" ") if s)
    return out


class UploadTracker:
    """Blob upload sessions as seen at the service: open from the ``POST .../blobs/uploads/``
    answered 202 (id: the Location's last path segment) until its ``PUT`` gets 201, a
    ``DELETE`` of it, or any 4xx/5xx on it. Also counts PATCH/PUT requests on sessions in
    flight. Maxima are since the last :meth:`clear`, which also forgets the open sessions
    (one abandoned by an earlier test must not count for the next)."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.in_flight = 0
        self.clear()

    def clear(self) -> None:
        self.open.clear()
        self.max_open_sessions = 0
        self.max_requests_in_flight = self.in_flight
        self.sessions_opened = 0
        self.sessions_completed = 0

    def opened(self, session_id: str) -> None:
        self.open.add(session_id)
        self.sessions_opened += 1
        self.max_open_sessions = max(self.max_open_sessions, len(self.open))

    def closed(self, session_id: str, *, completed: bool) -> None:
        if session_id in self.open:
            self.open.discard(session_id)
            if completed:
                self.sessions_completed += 1

    def request_started(self) -> None:
        self.in_flight += 1
        self.max_requests_in_flight = max(self.max_requests_in_flight, self.in_flight)

    def request_done(self) -> None:
        self.in_flight -= 1

    def stats(self) -> dict[str, int]:
        return {
            "max_open_sessions": self.max_open_sessions,
            "max_requests_in_flight": self.max_requests_in_flight,
            "sessions_opened": self.sessions_opened,
            "sessions_completed": self.sessions_completed,
            "open_sessions": len(self.open),
            "requests_in_flight": self.in_flight,
        }


@dataclass
class Meta:
    created: float
    updated: float
    attrs: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(ATTRS, True))


class ServiceState:
    def __init__(
        self,
        *,
        state_dir: str,
        storage_root: str,
        origin: str,
        service: str,
        issuer: str,
        registry_url: str,
        admin_username: str,
        admin_password: str,
        anonymous_pull: bool = False,
        storage_origin: str | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.storage = Storage(storage_root)
        self.origin = origin
        self.service = service
        self.issuer = issuer
        self.registry_url = registry_url.rstrip("/")
        self.admin_username = admin_username
        self.admin_password = admin_password
        self.anonymous_pull = anonymous_pull
        # Lifetimes of the tokens the service issues; tests shorten them to exercise expiry.
        self.access_token_ttl = ACCESS_TOKEN_TTL
        self.refresh_token_ttl = REFRESH_TOKEN_TTL
        self.token_signer = pki.token_signer(state_dir)
        self.aad_signer = pki.aad_signer(state_dir)
        self.ssl_ctx = ssl.create_default_context(cafile=f"{state_dir}/{pki.CA_CERT}")
        # metadata the registry does not keep
        self.repo_meta: dict[str, Meta] = {}
        self.manifest_meta: dict[tuple[str, str], Meta] = {}
        self.tag_meta: dict[tuple[str, str], Meta] = {}
        self.session: aiohttp.ClientSession | None = None
        # Requests received (see record_traffic); read and cleared via /_testbed/traffic.
        self.traffic: list[dict[str, Any]] = []
        # The fake blob storage origin (blob_storage.py) and the test modes using it.
        self.storage_origin = storage_origin or ""
        self.sas = SasSigner()
        self.blob_redirect = False
        self.redirect_origin_override: str | None = None
        self.sas_ttl = DEFAULT_SAS_TTL
        self.tamper: str | None = None
        self.storage_traffic: list[dict[str, Any]] = []
        # OCI 1.1 referrers API + OCI-Subject (off: behave like plain distribution 2.8)
        self.referrers_api = True
        self.uploads = UploadTracker()

    @property
    def redirect_origin(self) -> str:
        """Origin of the blob URLs handed out (the storage server, or a proxy before it)."""
        return self.redirect_origin_override or self.storage_origin

    # -- tokens --------------------------------------------------------------------------
    def mint_refresh_token(self, subject: str, tenant: str | None = None) -> str:
        now = int(time.time())
        return self.token_signer.sign(
            {
                "jti": str(uuid.uuid4()),
                "sub": subject,
                "nbf": now - 5,
                "exp": now + self.refresh_token_ttl,
                "iat": now,
                "iss": self.issuer,
                "aud": self.service,
                "version": "1.0",
                "rid": uuid.uuid4().hex,
                "grant_type": "refresh_token",
                "tenant": tenant or pki.AAD_TENANT,
                "permissions": {"actions": ["*"], "notActions": []},
                "roles": [],
            }
        )

    def mint_access_token(
        self, subject: str, access: list[dict[str, Any]], ttl: int | None = None
    ) -> str:
        now = int(time.time())
        ttl = self.access_token_ttl if ttl is None else ttl
        return self.token_signer.sign(
            {
                "jti": str(uuid.uuid4()),
                "sub": subject,
                "nbf": now - 5,
                "exp": now + ttl,
                "iat": now,
                "iss": self.issuer,
                "aud": self.service,
                "version": "3.0",
                "rid": uuid.uuid4().hex,
                "access": access,
                "roles": [],
                "grant_type": "access_token",
            }
        )

    def verify_own(self, token: str) -> dict[str, Any]:
        claims = self.token_signer.verify(token, audience=self.service)
        if claims.get("iss") != self.issuer:
            raise jwt.InvalidIssuerError("wrong issuer")
        return claims

    def check_admin(self, username: str | None, password: str | None) -> bool:
        return (
            username is not None
            and password is not None
            and hmac.compare_digest(username, self.admin_username)
            and hmac.compare_digest(password, self.admin_password)
        )

    # -- metadata ------------------------------------------------------------------------
    def _meta(self, table: dict[Any, Meta], key: Any, fallback_ts: float) -> Meta:
        m = table.get(key)
        if m is None:
            m = Meta(fallback_ts, fallback_ts)
            table[key] = m
        return m

    def manifest_meta_for(self, name: str, digest: str) -> Meta:
        key = (name, digest)
        if key in self.manifest_meta:
            return self.manifest_meta[key]
        return self._meta(self.manifest_meta, key, self.storage.manifest_mtime(name, digest))

    def tag_meta_for(self, name: str, tag: str) -> Meta:
        key = (name, tag)
        if key in self.tag_meta:
            return self.tag_meta[key]
        return self._meta(self.tag_meta, key, self.storage.tag_mtime(name, tag))

    def repo_meta_for(self, name: str) -> Meta:
        m = self.repo_meta.get(name)
        if m is None:
            digests = self.storage.manifest_digests(name)
            times = [self.manifest_meta_for(name, d) for d in digests]
            created = min((t.created for t in times), default=time.time())
            m = Meta(created, created)
            self.repo_meta[name] = m
        return m

    def repo_last_update(self, name: str) -> float:
        m = self.repo_meta_for(name)
        times = [
            self.manifest_meta_for(name, d).updated for d in self.storage.manifest_digests(name)
        ]
        times += [self.tag_meta_for(name, t).updated for t in self.storage.tags(name)]
        return max([m.updated, *times])

    def forget_repo(self, name: str) -> None:
        self.repo_meta.pop(name, None)
        for table in (self.manifest_meta, self.tag_meta):
            for key in [k for k in table if k[0] == name]:
                del table[key]

    def record_push(self, name: str, reference: str, digest: str) -> None:
        now = time.time()
        self.repo_meta.setdefault(name, Meta(now, now)).updated = now
        m = self.manifest_meta.get((name, digest))
        if m is None:
            self.manifest_meta[(name, digest)] = Meta(now, now)
        else:
            m.updated = now
        if not DIGEST_RE.match(reference):
            t = self.tag_meta.get((name, reference))
            if t is None:
                self.tag_meta[(name, reference)] = Meta(now, now)
            else:
                t.updated = now


# ----------------------------------------------------------------------------- helpers
class Denied(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def acr_error(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> web.Response:
    err: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        err["detail"] = detail
    return web.Response(
        status=status,
        body=json.dumps({"errors": [err]}).encode(),
        headers={"Content-Type": JSON_CT, **(headers or {})},
    )


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": JSON_CT, **(headers or {})},
    )


def disallowed() -> Denied:
    return Denied(acr_error(DISALLOWED_STATUS, "DENIED", DISALLOWED_MESSAGE))


def name_unknown(name: str) -> web.Response:
    return acr_error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})


def basic_credentials(request: web.Request) -> tuple[str, str] | None:
    auth = request.headers.get("Authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(auth[6:].strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, pw = raw.partition(":")
    return (user, pw) if sep else None


def state_of(request: web.Request) -> ServiceState:
    return request.app["state"]  # type: ignore[no-any-return]


def origin_of(request: web.Request) -> str:
    """``https://<Host header>``: the origin the client reached us at (maybe via a proxy)."""
    host = request.headers.get("Host", "")
    if host and HOST_RE.match(host):
        return f"https://{host}"
    return state_of(request).origin


# ----------------------------------------------------------------------------- auth
def authorize(request: web.Request, typ: str, name: str, action: str) -> None:
    """Raise Denied with an ACR-style 401 unless the request may do ``action``."""
    st = state_of(request)
    scope = f"{typ}:{name}:{action}"
    detail = [{"Type": typ, "Name": name, "Action": action}]
    auth = request.headers.get("Authorization", "")
    error: str | None = None
    if auth.lower().startswith("bearer "):
        try:
            claims = st.verify_own(auth[7:].strip())
        except jwt.InvalidTokenError:
            error = "invalid_token"
        else:
            for entry in claims.get("access") or []:
                if (
                    entry.get("type") == typ
                    and entry.get("name") == name
                    and (
                        action in (entry.get("actions") or [])
                        or "*" in (entry.get("actions") or [])
                    )
                ):
                    return
            error = "insufficient_scope"
    elif auth.lower().startswith("basic "):
        creds = basic_credentials(request)
        if creds and st.check_admin(*creds):
            return
        error = "invalid_token"
    realm = f"{origin_of(request)}/oauth2/token"
    challenge = f'Bearer realm="{realm}",service="{st.service}",scope="{scope}"'
    if error:
        challenge += f',error="{error}"'
    raise Denied(
        acr_error(
            401, "UNAUTHORIZED", AUTH_MESSAGE, detail, headers={"WWW-Authenticate": challenge}
        )
    )


# ----------------------------------------------------------------------------- oauth2
async def _form(request: web.Request) -> Any:
    if request.method == "GET":
        return request.query
    return await request.post()


async def handle_exchange(request: web.Request) -> web.Response:
    st = state_of(request)
    form = await _form(request)
    grant_type = form.get("grant_type", "")
    service = form.get("service", "")
    if service != st.service:
        return acr_error(
            400, "BAD_REQUEST", f"invalid service {service!r}; expected {st.service!r}"
        )
    subject = None
    tenant = form.get("tenant") or None
    if grant_type in ("access_token", "access_token_refresh_token"):
        token = form.get("access_token", "")
        try:
            claims = st.aad_signer.verify(token)
        except jwt.InvalidTokenError as e:
            return acr_error(401, "UNAUTHORIZED", f"invalid AAD access token: {e}")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(str(a).rstrip("/") in ACCEPTED_AAD_AUDIENCES for a in auds):
            return acr_error(
                401, "UNAUTHORIZED", f"AAD access token has an unaccepted audience {aud!r}"
            )
        subject = claims.get("oid") or claims.get("sub") or "aad-user"
        tenant = tenant or claims.get("tid")
    elif grant_type == "refresh_token":
        try:
            claims = st.verify_own(form.get("refresh_token", ""))
        except jwt.InvalidTokenError as e:
            return acr_error(401, "UNAUTHORIZED", f"invalid refresh token: {e}")
        if claims.get("grant_type") != "refresh_token":
            return acr_error(401, "UNAUTHORIZED", "not a refresh token")
        subject = claims.get("sub")
    else:
        return acr_error(400, "UNSUPPORTED", f"unsupported grant_type {grant_type!r}")
    return json_response({"refresh_token": st.mint_refresh_token(str(subject), tenant)})


def _grant(
    requested: list[str], allowed: set[str] | None, *, anonymous: bool
) -> list[dict[str, Any]]:
    """Access entries for the requested scopes; ``allowed`` None = everything asked for."""
    out: list[dict[str, Any]] = []
    for s in requested:
        parsed = parse_scope(s)
        if parsed is None:
            continue
        typ, name, actions = parsed
        if anonymous:
            if typ == "repository":
                actions = [a for a in actions if a in ANONYMOUS_ACTIONS]
            elif not (typ == "registry" and name == "catalog"):
                actions = []
        elif allowed is not None:
            actions = [a for a in actions if a in allowed]
        # merge duplicates
        for e in out:
            if e["type"] == typ and e["name"] == name:
                e["actions"] = sorted(set(e["actions"]) | set(actions))
                break
        else:
            out.append({"type": typ, "name": name, "actions": actions})
    return out


async def handle_token(request: web.Request) -> web.Response:
    st = state_of(request)
    form = await _form(request)
    service = form.get("service", "")
    if service != st.service:
        return acr_error(
            400, "BAD_REQUEST", f"invalid service {service!r}; expected {st.service!r}"
        )
    scopes = split_scopes(form.getall("scope", []))
    grant_type = form.get("grant_type", "password" if request.method == "GET" else "")
    body: dict[str, str] = {}
    basic = basic_credentials(request)
    username = form.get("username") if request.method == "POST" else None
    password = form.get("password") if request.method == "POST" else None
    if basic and username is None:
        username, password = basic

    refresh_token: str | None = None
    if grant_type == "refresh_token":
        refresh_token = form.get("refresh_token", "")
    elif username == "00000000-0000-0000-0000-000000000000" and password:
        refresh_token = password  # docker's identity-token login (ACR's AAD flow)

    if refresh_token is not None:
        try:
            claims = st.verify_own(refresh_token)
        except jwt.InvalidTokenError as e:
            return acr_error(401, "UNAUTHORIZED", f"invalid refresh token: {e}")
        if claims.get("grant_type") != "refresh_token":
            return acr_error(401, "UNAUTHORIZED", "not a refresh token")
        access = _grant(scopes, None, anonymous=False)
        subject = str(claims.get("sub"))
    elif grant_type == "password":
        if username or password:
            if not st.check_admin(username, password):
                return acr_error(401, "UNAUTHORIZED", "invalid username or password")
            access = _grant(scopes, None, anonymous=False)
            subject = username or ""
            if form.get("access_type") == "offline":
                body["refresh_token"] = st.mint_refresh_token(subject)
        else:
            if not st.anonymous_pull:
                return acr_error(
                    401,
                    "UNAUTHORIZED",
                    "anonymous pull is not enabled on this registry; " + AUTH_MESSAGE,
                )
            access = _grant(scopes, None, anonymous=True)
            subject = "anonymous"
    else:
        return acr_error(400, "UNSUPPORTED", f"unsupported grant_type {grant_type!r}")
    body["access_token"] = st.mint_access_token(subject, access)
    return json_response(body)


# ----------------------------------------------------------------------------- /acr/v1
def _page(items: list[Any], key: Any, last: str | None, n: int | None) -> tuple[list[Any], bool]:
    if last:
        keys = [key(i) for i in items]
        if last in keys:
            items = items[keys.index(last) + 1 :]
        else:
            items = [i for i in items if key(i) > last]
    size = n if n and n > 0 else DEFAULT_PAGE
    return items[:size], len(items) > size


def _link(path: str, last: str, n: int, orderby: str) -> str:
    return (
        f'<{path}?last={quote(last, safe="")}&n={n}&orderby={quote(orderby, safe="")}>; rel="next"'
    )


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except ValueError:
        return None


def tag_props(st: ServiceState, name: str, tag: str, digest: str) -> dict[str, Any]:
    m = st.tag_meta_for(name, tag)
    return {
        "name": tag,
        "digest": digest,
        "createdTime": acr_time(m.created),
        "lastUpdateTime": acr_time(m.updated),
        "signed": False,
        "changeableAttributes": dict(m.attrs),
    }


def manifest_props(
    st: ServiceState, name: str, digest: str, tags: dict[str, str]
) -> dict[str, Any]:
    m = st.manifest_meta_for(name, digest)
    info = st.storage.manifest_info(name, digest)
    out: dict[str, Any] = {
        "digest": digest,
        "imageSize": info.image_size,
        "createdTime": acr_time(m.created),
        "lastUpdateTime": acr_time(m.updated),
    }
    if info.architecture is not None:
        out["architecture"] = info.architecture
    if info.os is not None:
        out["os"] = info.os
    out["mediaType"] = info.media_type
    if info.config_media_type:
        out["configMediaType"] = info.config_media_type
    mtags = sorted(t for t, d in tags.items() if d == digest)
    if mtags:
        out["tags"] = mtags
    out["changeableAttributes"] = dict(m.attrs)
    if info.is_index:
        out["references"] = info.references
    return out


def repo_props(st: ServiceState, name: str) -> dict[str, Any]:
    m = st.repo_meta_for(name)
    return {
        "registry": st.service,
        "imageName": name,
        "createdTime": acr_time(m.created),
        "lastUpdateTime": acr_time(st.repo_last_update(name)),
        "manifestCount": len(st.storage.manifest_digests(name)),
        "tagCount": len(st.storage.tags(name)),
        "changeableAttributes": {**m.attrs, "teleportEnabled": False},
    }


async def _patch_body(request: web.Request) -> dict[str, bool]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise Denied(acr_error(400, "BAD_REQUEST", "invalid JSON body")) from None
    if not isinstance(body, dict):
        raise Denied(acr_error(400, "BAD_REQUEST", "invalid JSON body"))
    return {k: bool(v) for k, v in body.items() if k in ATTRS and v is not None}


def _resolve_manifest(st: ServiceState, name: str, ref: str) -> str | None:
    if DIGEST_RE.match(ref):
        return ref if st.storage.has_manifest(name, ref) else None
    return st.storage.tags(name).get(ref)


async def handle_acr(request: web.Request) -> web.StreamResponse:
    try:
        return await _handle_acr(request)
    except Denied as d:
        return d.response


async def _handle_acr(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    raw = request.rel_url.raw_path
    rest = raw[len("/acr/v1/") :]
    segs = rest.split("/")
    method = request.method
    q = request.query
    n = _int(q.get("n"))
    last = q.get("last") or None
    orderby = q.get("orderby", "")

    if segs == ["_catalog"]:
        if method != "GET":
            return acr_error(405, "UNSUPPORTED", "method not allowed")
        authorize(request, "registry", "catalog", "*")
        repos = [
            r for r in st.storage.list_repositories() if st.repo_meta_for(r).attrs["listEnabled"]
        ]
        page, more = _page(repos, lambda r: r, last, n)
        headers = {}
        if more and page:
            headers["Link"] = _link("/acr/v1/_catalog", page[-1], n or DEFAULT_PAGE, orderby)
        return json_response({"repositories": page}, headers=headers)

    idx = next((i for i, s in enumerate(segs) if s in ("_tags", "_manifests")), None)
    if idx is None:
        name, sub, ref = unquote("/".join(segs)), None, None
    else:
        name = unquote("/".join(segs[:idx]))
        sub = segs[idx]
        ref = unquote("/".join(segs[idx + 1 :])) or None
    if not name:
        return acr_error(404, "NAME_INVALID", "invalid repository name")
    action = {
        "GET": "metadata_read",
        "HEAD": "metadata_read",
        "PATCH": "metadata_write",
        "DELETE": "delete",
    }.get(method)
    if action is None:
        return acr_error(405, "UNSUPPORTED", "method not allowed")
    authorize(request, "repository", name, action)
    if not st.storage.repository_exists(name):
        return name_unknown(name)
    repo_attrs = st.repo_meta_for(name).attrs

    if sub is None:
        if method == "GET":
            return json_response(repo_props(st, name))
        if method == "PATCH":
            st.repo_meta_for(name).attrs.update(await _patch_body(request))
            return json_response(repo_props(st, name))
        # DELETE repository
        if not repo_attrs["deleteEnabled"]:
            raise disallowed()
        for t in st.storage.tags(name):
            if not st.tag_meta_for(name, t).attrs["deleteEnabled"]:
                raise disallowed()
        for d in st.storage.manifest_digests(name):
            if not st.manifest_meta_for(name, d).attrs["deleteEnabled"]:
                raise disallowed()
        manifests, tags = st.storage.delete_repository(name)
        st.forget_repo(name)
        return json_response({"manifestsDeleted": manifests, "tagsDeleted": tags}, status=202)

    tags = st.storage.tags(name)
    if sub == "_tags":
        if ref is None:
            if method != "GET":
                return acr_error(405, "UNSUPPORTED", "method not allowed")
            digest_filter = q.get("digest")
            items = [
                tag_props(st, name, t, d)
                for t, d in tags.items()
                if (not digest_filter or d == digest_filter)
            ]
            items = [i for i in items if i["changeableAttributes"]["listEnabled"]]
            items = _order(items, orderby, "name")
            page, more = _page(items, lambda i: i["name"], last, n)
            headers = {}
            if more and page:
                headers["Link"] = _link(
                    f"/acr/v1/{quote(name, safe='')}/_tags",
                    page[-1]["name"],
                    n or DEFAULT_PAGE,
                    orderby,
                )
            return json_response(
                {"registry": st.service, "imageName": name, "tags": page}, headers=headers
            )
        if ref not in tags:
            return acr_error(
                404, "TAG_UNKNOWN", "the specified tag does not exist", {"name": name, "tag": ref}
            )
        if method == "GET":
            return json_response(
                {
                    "registry": st.service,
                    "imageName": name,
                    "tag": tag_props(st, name, ref, tags[ref]),
                }
            )
        if method == "PATCH":
            st.tag_meta_for(name, ref).attrs.update(await _patch_body(request))
            return json_response(
                {
                    "registry": st.service,
                    "imageName": name,
                    "tag": tag_props(st, name, ref, tags[ref]),
                }
            )
        if not (repo_attrs["deleteEnabled"] and st.tag_meta_for(name, ref).attrs["deleteEnabled"]):
            raise disallowed()
        st.storage.delete_tag(name, ref)
        st.tag_meta.pop((name, ref), None)
        return web.Response(status=202)

    # _manifests
    if ref is None:
        if method != "GET":
            return acr_error(405, "UNSUPPORTED", "method not allowed")
        items = [manifest_props(st, name, d, tags) for d in st.storage.manifest_digests(name)]
        items = [i for i in items if i["changeableAttributes"]["listEnabled"]]
        items = _order(items, orderby, "digest")
        page, more = _page(items, lambda i: i["digest"], last, n)
        headers = {}
        if more and page:
            headers["Link"] = _link(
                f"/acr/v1/{quote(name, safe='')}/_manifests",
                page[-1]["digest"],
                n or DEFAULT_PAGE,
                orderby,
            )
        return json_response(
            {"registry": st.service, "imageName": name, "manifests": page}, headers=headers
        )
    digest = _resolve_manifest(st, name, ref)
    if digest is None:
        return acr_error(
            404, "MANIFEST_UNKNOWN", "manifest unknown", {"name": name, "reference": ref}
        )
    if method == "GET":
        return json_response(
            {
                "registry": st.service,
                "imageName": name,
                "manifest": manifest_props(st, name, digest, tags),
            }
        )
    if method == "PATCH":
        st.manifest_meta_for(name, digest).attrs.update(await _patch_body(request))
        return json_response(
            {
                "registry": st.service,
                "imageName": name,
                "manifest": manifest_props(st, name, digest, tags),
            }
        )
    check_manifest_delete(st, name, digest)
    removed = st.storage.delete_manifest(name, digest)
    st.manifest_meta.pop((name, digest), None)
    for t in removed:
        st.tag_meta.pop((name, t), None)
    return web.Response(status=202)


def _order(items: list[dict[str, Any]], orderby: str, default_key: str) -> list[dict[str, Any]]:
    if orderby == "timedesc":
        return sorted(items, key=lambda i: (i["lastUpdateTime"], i[default_key]), reverse=True)
    if orderby == "timeasc":
        return sorted(items, key=lambda i: (i["lastUpdateTime"], i[default_key]))
    return sorted(items, key=lambda i: i[default_key])


def check_manifest_delete(st: ServiceState, name: str, digest: str) -> None:
    if not st.repo_meta_for(name).attrs["deleteEnabled"]:
        raise disallowed()
    if not st.manifest_meta_for(name, digest).attrs["deleteEnabled"]:
        raise disallowed()
    for t, d in st.storage.tags(name).items():
        if d == digest and not st.tag_meta_for(name, t).attrs["deleteEnabled"]:
            raise disallowed()


def check_manifest_write(st: ServiceState, name: str, ref: str) -> None:
    if not st.storage.repository_exists(name):
        return
    if not st.repo_meta_for(name).attrs["writeEnabled"]:
        raise disallowed()
    digest = _resolve_manifest(st, name, ref)
    if digest is None:
        return
    if not DIGEST_RE.match(ref) and not st.tag_meta_for(name, ref).attrs["writeEnabled"]:
        raise disallowed()
    if not st.manifest_meta_for(name, digest).attrs["writeEnabled"]:
        raise disallowed()


def check_manifest_read(st: ServiceState, name: str, ref: str) -> None:
    if not st.storage.repository_exists(name):
        return
    if not st.repo_meta_for(name).attrs["readEnabled"]:
        raise disallowed()
    digest = _resolve_manifest(st, name, ref)
    if digest is None:
        return
    if not DIGEST_RE.match(ref) and not st.tag_meta_for(name, ref).attrs["readEnabled"]:
        raise disallowed()
    if not st.manifest_meta_for(name, digest).attrs["readEnabled"]:
        raise disallowed()


# ----------------------------------------------------------------------------- /v2 proxy
def _rewrite(st: ServiceState, value: str, origin: str) -> str:
    """Registry URL and our own origin (the registry's configured realm) -> ``origin``."""
    for old in (st.registry_url, st.origin):
        if old != origin:
            value = re.sub(re.escape(old) + r"(?![0-9])", origin, value)
    return value


async def _blob_redirect(
    request: web.Request, st: ServiceState, digest: str
) -> web.Response | None:
    """ACR's blob GET: authorize against the registry (HEAD with the client's headers),
    then 307 to a signed storage URL. None when the registry said no: the caller relays
    the registry's own answer to the GET (401 challenge, 404, ...) unchanged."""
    assert st.session is not None
    # only the credentials: a Range or If-None-Match would turn the check into a 206/304
    headers = [(k, v) for k, v in request.headers.items() if k.lower() == "authorization"]
    async with st.session.head(
        st.registry_url + request.rel_url.raw_path,
        headers=headers,
        allow_redirects=False,
        ssl=st.ssl_ctx,
        skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
    ) as up:
        if up.status != 200:
            return None
        api_version = up.headers.get("Docker-Distribution-Api-Version", "registry/2.0")
    location = signed_blob_url(st, digest)
    body = f'<a href="{location.replace("&", "&amp;")}">Temporary Redirect</a>.\n\n'
    return web.Response(
        status=307,
        body=body.encode(),
        headers={
            "Location": location,
            "Content-Type": "text/html; charset=utf-8",
            "Docker-Distribution-Api-Version": api_version,
        },
    )


def handle_referrers(request: web.Request, name: str, digest: str) -> web.Response:
    """OCI 1.1 ``GET /v2/<name>/referrers/<digest>[?artifactType=..][&n=..&last=..]``: an
    image index of the manifests in ``name`` whose ``subject`` is ``digest``; never 404
    (no referrers, or no such repository: an empty index); 400 for a bad name or digest;
    authorized like the other /v2 reads (``repository:<name>:pull``)."""
    st = state_of(request)
    if request.method not in ("GET", "HEAD"):
        return acr_error(
            405, "UNSUPPORTED", "The operation is unsupported.", headers={"Allow": "GET, HEAD"}
        )
    if len(name) > 255 or not NAME_RE.match(name):
        return acr_error(400, "NAME_INVALID", "invalid repository name", {"name": name[:300]})
    try:
        authorize(request, "repository", name, "pull")
    except Denied as d:
        return d.response
    if not valid_digest(digest):
        return acr_error(400, "DIGEST_INVALID", "provided digest is invalid", {"digest": digest})
    items = st.storage.referrers(name, digest)
    headers = {"Content-Type": OCI_INDEX_TYPE}
    artifact_type = request.query.get("artifactType")
    if artifact_type:
        items = [i for i in items if i.get("artifactType") == artifact_type]
        headers["OCI-Filters-Applied"] = "artifactType"
    n = _int(request.query.get("n"))
    if n is not None and n > 0:  # paging only when asked for
        last = request.query.get("last")
        if last:
            items = [i for i in items if i["digest"] > last]
        if len(items) > n:
            items = items[:n]
            query = f"n={n}&last={quote(items[-1]['digest'], safe='')}"
            if artifact_type:
                query += f"&artifactType={quote(artifact_type, safe='')}"
            headers["Link"] = f'<{request.rel_url.raw_path}?{query}>; rel="next"'
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX_TYPE, "manifests": items}
    return web.Response(status=200, body=json.dumps(index).encode(), headers=headers)


def _subject_digest(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    subject = doc.get("subject") if isinstance(doc, dict) else None
    digest = subject.get("digest") if isinstance(subject, dict) else None
    return digest if isinstance(digest, str) and digest else None


async def handle_v2(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    raw_path = request.rel_url.raw_path
    referrers = REFERRERS_PATH.match(raw_path)
    if referrers and st.referrers_api:
        return handle_referrers(
            request, unquote(referrers.group("name")), unquote(referrers.group("digest"))
        )
    session = UPLOAD_SESSION_PATH.match(raw_path)
    counted = session is not None and request.method in ("PATCH", "PUT")
    if counted:
        st.uploads.request_started()
    try:
        return await _handle_v2(request, st, raw_path, session)
    finally:
        if counted:
            st.uploads.request_done()


def _track_upload(
    request: web.Request,
    st: ServiceState,
    raw_path: str,
    session: re.Match[str] | None,
    status: int,
    location: str | None,
) -> None:
    """Upload session bookkeeping, done once the registry answered (before we relay it)."""
    if session is not None:
        sid = unquote(session.group("id"))
        if request.method == "PUT" and status == 201:
            st.uploads.closed(sid, completed=True)
        elif request.method == "DELETE" or status >= 400:
            st.uploads.closed(sid, completed=False)
    elif request.method == "POST" and status == 202 and UPLOAD_START_PATH.match(raw_path):
        sid = (location or "").split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if sid:
            st.uploads.opened(unquote(sid))


async def _handle_v2(
    request: web.Request,
    st: ServiceState,
    raw_path: str,
    session: re.Match[str] | None,
) -> web.StreamResponse:
    m = MANIFEST_PATH.match(raw_path)
    name = unquote(m.group("name")) if m else None
    ref = unquote(m.group("ref")) if m else None
    if m and "Authorization" in request.headers:
        try:
            if request.method == "PUT":
                check_manifest_write(st, name, ref)  # type: ignore[arg-type]
            elif request.method == "DELETE":
                digest = _resolve_manifest(st, name, ref)  # type: ignore[arg-type]
                if digest is not None:
                    check_manifest_delete(st, name, digest)  # type: ignore[arg-type]
            elif request.method in ("GET", "HEAD"):
                check_manifest_read(st, name, ref)  # type: ignore[arg-type]
        except Denied as d:
            return d.response
    blob = BLOB_PATH.match(raw_path)
    if blob and request.method == "GET" and st.blob_redirect:
        redirect = await _blob_redirect(request, st, blob.group("digest"))
        if redirect is not None:
            return redirect

    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    data: Any = None
    if request.body_exists:
        # a manifest PUT's body is kept (it is small) to see its subject
        data = _counted_body(request, keep=bool(m and request.method == "PUT"))
        if request.content_length is not None:
            headers.append(("Content-Length", str(request.content_length)))
    elif request.method in ("PUT", "POST", "PATCH"):
        headers.append(("Content-Length", "0"))
    assert st.session is not None
    url = st.registry_url + request.rel_url.raw_path_qs
    async with st.session.request(
        request.method,
        url,
        headers=headers,
        data=data,
        allow_redirects=False,
        ssl=st.ssl_ctx,
        skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
    ) as up:
        resp = web.StreamResponse(status=up.status, reason=up.reason)
        origin = origin_of(request)
        for k, v in up.headers.items():
            lk = k.lower()
            if lk in HOP_BY_HOP or lk in ("date", "server"):
                continue
            if lk in ("location", "www-authenticate", "link"):
                v = _rewrite(st, v, origin)
            resp.headers.add(k, v)
        _track_upload(request, st, raw_path, session, up.status, up.headers.get("Location"))
        if m and request.method == "PUT" and up.status == 201 and st.referrers_api:
            subject = _subject_digest(b"".join(request.get("body_chunks") or []))
            if subject is not None:
                resp.headers["OCI-Subject"] = subject
        has_length = up.content_length is not None and "Content-Length" in up.headers
        if has_length:
            resp.content_length = up.content_length
        ok_get = request.method == "GET" and up.status in (200, 206)
        if ok_get and m and st.tamper == "manifests":
            # manifests are small: buffer, change one hex digit, keep the length
            body = await up.read()
            await resp.prepare(request)
            await resp.write(tamper_manifest(body))
            await resp.write_eof()
            return resp
        flipper = (
            ByteFlipper(up.content_length if has_length else None)
            if ok_get and blob and st.tamper == "blobs"
            else None
        )
        await resp.prepare(request)
        if request.method != "HEAD":
            async for chunk in up.content.iter_chunked(CHUNK):
                await resp.write(flipper.apply(chunk) if flipper is not None else chunk)
        await resp.write_eof()
        if m and request.method == "PUT" and up.status == 201:
            digest = up.headers.get("Docker-Content-Digest")
            if digest:
                st.record_push(name, ref, digest)  # type: ignore[arg-type]
        return resp


async def _counted_body(request: web.Request, *, keep: bool = False) -> Any:
    """Stream the request body through, counting its bytes for the traffic log; ``keep``:
    also keep the chunks (up to distribution's manifest size limit) in
    ``request["body_chunks"]``."""
    request["body_bytes"] = 0
    kept: list[bytes] = []
    if keep:
        request["body_chunks"] = kept
    async for chunk in request.content.iter_chunked(CHUNK):
        request["body_bytes"] += len(chunk)
        if keep and request["body_bytes"] <= MAX_MANIFEST_BYTES:
            kept.append(chunk)
        yield chunk


@web.middleware
async def record_traffic(request: web.Request, handler: Any) -> web.StreamResponse:
    """Log every request the service receives (method, path, status, body bytes): what a
    test asserts as "requests observed at the service"."""
    response: web.StreamResponse = await handler(request)
    if not request.path.startswith("/_testbed"):
        state_of(request).traffic.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.rel_url.raw_query_string,
                "status": response.status,
                "body_bytes": request.get("body_bytes", request.content_length or 0),
                "authorization": request.headers.get("Authorization", "").split(" ", 1)[0],
            }
        )
    return response


async def handle_testbed_traffic(request: web.Request) -> web.Response:
    st = state_of(request)
    creds = basic_credentials(request)
    if not creds or not st.check_admin(*creds):
        return acr_error(401, "UNAUTHORIZED", "admin credentials required")
    log, storage_log = list(st.traffic), list(st.storage_traffic)
    upload_stats = st.uploads.stats()
    if request.method == "POST":
        # {"clear": "traffic" | "storage" | "all"}; an empty body clears both
        body = await request.json() if request.can_read_body else {}
        which = (body or {}).get("clear", "all")
        if which in ("traffic", "all"):
            st.traffic.clear()
        if which in ("storage", "all"):
            st.storage_traffic.clear()
        if which in ("uploads", "all"):
            st.uploads.clear()
    return json_response(
        {"traffic": log, "storage_traffic": storage_log, "upload_stats": upload_stats}
    )


# ----------------------------------------------------------------------------- test controls
async def handle_testbed_config(request: web.Request) -> web.Response:
    st = state_of(request)
    creds = basic_credentials(request)
    if not creds or not st.check_admin(*creds):
        return acr_error(401, "UNAUTHORIZED", "admin credentials required")
    if request.method == "POST":
        body = await request.json()
        if "anonymous_pull" in body:
            st.anonymous_pull = bool(body["anonymous_pull"])
        if "access_token_ttl" in body:
            st.access_token_ttl = int(body["access_token_ttl"])
        if "refresh_token_ttl" in body:
            st.refresh_token_ttl = int(body["refresh_token_ttl"])
        if "blob_redirect" in body:
            st.blob_redirect = bool(body["blob_redirect"])
            if not st.blob_redirect:  # off = back to the defaults
                st.redirect_origin_override = None
                st.sas_ttl = DEFAULT_SAS_TTL
        if "redirect_origin" in body:
            st.redirect_origin_override = body["redirect_origin"] or None
        if "sas_ttl" in body:
            st.sas_ttl = DEFAULT_SAS_TTL if body["sas_ttl"] is None else int(body["sas_ttl"])
        if "tamper" in body:
            tamper = body["tamper"] or None
            if tamper is not None and tamper not in TAMPER_MODES:
                return acr_error(400, "BAD_REQUEST", f"tamper must be one of {TAMPER_MODES}")
            st.tamper = tamper
        if "referrers_api" in body:
            st.referrers_api = bool(body["referrers_api"])
    return json_response(
        {
            "anonymous_pull": st.anonymous_pull,
            "access_token_ttl": st.access_token_ttl,
            "refresh_token_ttl": st.refresh_token_ttl,
            "blob_redirect": st.blob_redirect,
            "redirect_origin": st.redirect_origin,
            "sas_ttl": st.sas_ttl,
            "tamper": st.tamper,
            "referrers_api": st.referrers_api,
        }
    )


async def handle_health(request: web.Request) -> web.Response:
    return json_response({"ok": True})


async def _on_startup(app: web.Application) -> None:
    st: ServiceState = app["state"]
    st.session = aiohttp.ClientSession(
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        connector=aiohttp.TCPConnector(ssl=st.ssl_ctx, limit=64),
    )


async def _on_cleanup(app: web.Application) -> None:
    st: ServiceState = app["state"]
    if st.session is not None:
        await st.session.close()
        st.session = None


def make_app(state: ServiceState) -> web.Application:
    app = web.Application(client_max_size=1024**4, middlewares=[record_traffic])
    app["state"] = state
    app.router.add_route("*", "/v2/{tail:.*}", handle_v2)
    app.router.add_route("*", "/v2", handle_v2)
    app.router.add_route("POST", "/oauth2/exchange", handle_exchange)
    app.router.add_route("POST", "/oauth2/token", handle_token)
    app.router.add_route("GET", "/oauth2/token", handle_token)
    app.router.add_route("*", "/acr/v1/{tail:.*}", handle_acr)
    app.router.add_route("*", "/_testbed/config", handle_testbed_config)
    app.router.add_route("GET", "/_testbed/health", handle_health)
    app.router.add_route("*", "/_testbed/traffic", handle_testbed_traffic)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app


def server_ssl_context(state_dir: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(f"{state_dir}/{pki.SERVER_CERT}", f"{state_dir}/{pki.SERVER_KEY}")
    return ctx


__all__ = ["ServiceState", "make_app", "server_ssl_context", "acr_time", "parse_scope"]
