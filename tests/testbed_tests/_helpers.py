"""Plain http.client helpers for testing the test bed (no azurecr import on purpose)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from tests.testbed import TestBed

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


@dataclass
class Resp:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def request(
    url: str,
    method: str = "GET",
    *,
    ctx: ssl.SSLContext,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    token: str | None = None,
    basic: tuple[str, str] | None = None,
) -> Resp:
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=ctx, timeout=30)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    if basic:
        h["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    path = parts.path + (("?" + parts.query) if parts.query else "")
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.headers, data)
    finally:
        conn.close()


def parse_challenge(value: str) -> dict[str, str]:
    assert value.startswith("Bearer "), value
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


def form_post(bed: TestBed, path: str, fields: list[tuple[str, str]], **kw: Any) -> Resp:
    return request(
        bed.endpoint + path,
        "POST",
        ctx=bed.ssl_context(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(fields).encode(),
        **kw,
    )


def aad_refresh_token(bed: TestBed) -> str:
    r = form_post(
        bed,
        "/oauth2/exchange",
        [
            ("grant_type", "access_token"),
            ("service", bed.service),
            ("access_token", bed.mint_aad_token()),
        ],
    )
    assert r.status == 200, r.body
    return str(r.json()["refresh_token"])


def access_token(bed: TestBed, *scopes: str, refresh_token: str | None = None) -> str:
    rt = refresh_token or aad_refresh_token(bed)
    fields = [("grant_type", "refresh_token"), ("service", bed.service), ("refresh_token", rt)]
    fields += [("scope", s) for s in scopes]
    r = form_post(bed, "/oauth2/token", fields)
    assert r.status == 200, r.body
    return str(r.json()["access_token"])


def admin_token(bed: TestBed, *scopes: str) -> str:
    fields = [("grant_type", "password"), ("service", bed.service)] + [("scope", s) for s in scopes]
    fields += [("username", bed.admin_username), ("password", bed.admin_password)]
    r = form_post(bed, "/oauth2/token", fields)
    assert r.status == 200, r.body
    return str(r.json()["access_token"])


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(base: str, repo: str, data: bytes, *, ctx: ssl.SSLContext, token: str) -> str:
    """POST + monolithic PUT; returns the digest."""
    dg = digest_of(data)
    r = request(f"{base}/v2/{repo}/blobs/uploads/", "POST", ctx=ctx, token=token, body=b"")
    assert r.status == 202, (r.status, r.body)
    loc = r.header("Location")
    assert loc
    if loc.startswith("/"):
        loc = base + loc
    sep = "&" if "?" in loc else "?"
    r = request(
        f"{loc}{sep}digest={quote(dg)}",
        "PUT",
        ctx=ctx,
        token=token,
        body=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status == 201, (r.status, r.body)
    assert r.header("Docker-Content-Digest") == dg
    return dg


def put_manifest(
    base: str,
    repo: str,
    ref: str,
    manifest: bytes,
    media_type: str,
    *,
    ctx: ssl.SSLContext,
    token: str,
) -> Resp:
    return request(
        f"{base}/v2/{repo}/manifests/{ref}",
        "PUT",
        ctx=ctx,
        token=token,
        body=manifest,
        headers={"Content-Type": media_type},
    )


def image_manifest(
    base: str,
    repo: str,
    *,
    ctx: ssl.SSLContext,
    token: str,
    arch: str | None = "amd64",
    os_: str | None = "linux",
    layer: bytes = b"layer",
    oci: bool = False,
) -> tuple[bytes, str]:
    """Push config + one layer; return (manifest bytes, media type)."""
    cfg: dict[str, Any] = {"rootfs": {"type": "layers", "diff_ids": []}}
    if arch:
        cfg["architecture"] = arch
    if os_:
        cfg["os"] = os_
    cfg_bytes = json.dumps(cfg, sort_keys=True).encode()
    cfg_digest = push_blob(base, repo, cfg_bytes, ctx=ctx, token=token)
    layer_digest = push_blob(base, repo, layer, ctx=ctx, token=token)
    mt = OCI_MANIFEST if oci else DOCKER_MANIFEST
    doc = {
        "schemaVersion": 2,
        "mediaType": mt,
        "config": {
            "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
            "size": len(cfg_bytes),
            "digest": cfg_digest,
        },
        "layers": [{"mediaType": LAYER, "size": len(layer), "digest": layer_digest}],
    }
    return json.dumps(doc, indent=2).encode(), mt


def push_image(
    bed: TestBed, repo: str, tag: str, *, token: str, via_service: bool = True, **kw: Any
) -> str:
    base = bed.endpoint if via_service else bed.registry_url
    ctx = bed.ssl_context()
    manifest, mt = image_manifest(base, repo, ctx=ctx, token=token, **kw)
    r = put_manifest(base, repo, tag, manifest, mt, ctx=ctx, token=token)
    assert r.status == 201, (r.status, r.body)
    dg = digest_of(manifest)
    assert r.header("Docker-Content-Digest") == dg
    return dg


def acr(bed: TestBed, path: str, method: str = "GET", *, token: str, body: Any = None) -> Resp:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    return request(
        bed.endpoint + path, method, ctx=bed.ssl_context(), token=token, body=data, headers=headers
    )


def enc(name: str) -> str:
    return quote(name, safe="")
