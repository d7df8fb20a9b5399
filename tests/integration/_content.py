"""Create registry content for client tests straight through the test bed's ``/v2`` API
(plain http.client with a minted token; no azurecr code on this path)."""

from __future__ import annotations

import json
import uuid

from tests.testbed import TestBed
from tests.testbed_tests._helpers import (
    DOCKER_LIST,
    digest_of,
    image_manifest,
    put_manifest,
)


def unique_repository(prefix: str = "facade") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


def _token(bed: TestBed, repository: str) -> str:
    return bed.mint_access_token([f"repository:{repository}:pull,push"])


def push_image(
    bed: TestBed,
    repository: str,
    *tags: str,
    layer: bytes = b"layer",
    arch: str | None = "amd64",
    os_: str | None = "linux",
) -> tuple[str, int]:
    """Push one image (config + layer + manifest) under every tag; return (digest, size)."""
    token = _token(bed, repository)
    ctx = bed.ssl_context()
    manifest, media_type = image_manifest(
        bed.endpoint, repository, ctx=ctx, token=token, arch=arch, os_=os_, layer=layer
    )
    for tag in tags or (digest_of(manifest),):
        r = put_manifest(bed.endpoint, repository, tag, manifest, media_type, ctx=ctx, token=token)
        assert r.status == 201, (r.status, r.body)
    return digest_of(manifest), len(manifest)


def push_index(
    bed: TestBed, repository: str, tag: str, platforms: list[tuple[str, int, str, str]]
) -> str:
    """Push a Docker manifest list over (digest, size, architecture, os) entries."""
    token = _token(bed, repository)
    refs = [
        {
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "digest": digest,
            "size": size,
            "platform": {"architecture": arch, "os": os_},
        }
        for digest, size, arch, os_ in platforms
    ]
    body = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": refs}).encode()
    r = put_manifest(
        bed.endpoint, repository, tag, body, DOCKER_LIST, ctx=bed.ssl_context(), token=token
    )
    assert r.status == 201, (r.status, r.body)
    return digest_of(body)
