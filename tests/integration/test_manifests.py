"""Manifests through the clients against the real test bed: every media type by tag and by
digest, typed models and raw bytes, verification and the 4 MiB limit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import azurecr
from azurecr import (
    DigestValidationError,
    DockerManifest,
    DockerManifestList,
    KnownManifestMediaType,
    ManifestTooLargeError,
    OciAnnotations,
    OciDescriptor,
    OciImageIndex,
    OciImageManifest,
    OciPlatform,
)
from azurecr.aio import ContainerRegistryClient as AsyncClient
from tests.testbed import TestBed

from ._clients import AsyncTestbedCredential, TestbedCredential
from ._content import unique_repository
from ._sources import sha256

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


@pytest.fixture
def client(testbed: TestBed) -> Iterator[azurecr.ContainerRegistryClient]:
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


@pytest.fixture
async def aclient(testbed: TestBed) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        testbed.endpoint, AsyncTestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


def _blob(client: azurecr.ContainerRegistryClient, repo: str, data: bytes, media: str) -> Any:
    digest, size = client.upload_blob(repo, data)
    return OciDescriptor(media_type=media, digest=digest, size=size)


def _image(client: azurecr.ContainerRegistryClient, repo: str, arch: str = "amd64") -> Any:
    config = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers"}})
    return OciImageManifest(
        config=_blob(client, repo, config.encode(), OCI_CONFIG),
        layers=[_blob(client, repo, f"layer of {arch}".encode(), OCI_LAYER)],
        annotations=OciAnnotations(title=f"image {arch}", additional_properties={"x.y": "z"}),
    )


def _docker(client: azurecr.ContainerRegistryClient, repo: str) -> Any:
    return DockerManifest(
        config=_blob(client, repo, b'{"architecture":"arm64","os":"linux"}', DOCKER_CONFIG),
        layers=[_blob(client, repo, b"docker layer", DOCKER_LAYER)],
    )


def _check_round_trip(
    client: azurecr.ContainerRegistryClient, repo: str, model: Any, media_type: str
) -> str:
    digest = client.set_manifest(repo, model, tag="v1")
    for ref in ("v1", digest):
        got = client.get_manifest(repo, ref)
        assert got.digest == digest == sha256(got.content)
        assert got.media_type == media_type
        assert type(got.model) is type(model)
        assert got.model.to_json() == model.to_json()
        assert got.manifest == json.loads(got.content)
    assert client.manifest_exists(repo, "v1") and client.manifest_exists(repo, digest)
    return digest


def test_oci_image_manifest(client: azurecr.ContainerRegistryClient) -> None:
    repo = unique_repository("mimage")
    _check_round_trip(client, repo, _image(client, repo), KnownManifestMediaType.OCI_IMAGE_MANIFEST)


def test_docker_manifest(client: azurecr.ContainerRegistryClient) -> None:
    repo = unique_repository("mdocker")
    _check_round_trip(client, repo, _docker(client, repo), KnownManifestMediaType.DOCKER_MANIFEST)


def test_oci_index_with_children_pushed_first(client: azurecr.ContainerRegistryClient) -> None:
    repo = unique_repository("mindex")
    entries = []
    for arch in ("amd64", "arm64"):
        child = _image(client, repo, arch)
        content = client.get_manifest(repo, client.set_manifest(repo, child)).content
        entries.append(
            OciDescriptor(
                media_type=KnownManifestMediaType.OCI_IMAGE_MANIFEST,
                digest=sha256(content),
                size=len(content),
                platform=OciPlatform(architecture=arch, os="linux"),
            )
        )
    index = OciImageIndex(media_type=KnownManifestMediaType.OCI_IMAGE_INDEX, manifests=entries)
    digest = _check_round_trip(client, repo, index, KnownManifestMediaType.OCI_IMAGE_INDEX)
    # the index's children resolve by the digests it lists
    for entry in client.get_manifest(repo, digest).model.manifests:
        assert client.get_manifest(repo, entry.digest).model.layers


def test_docker_manifest_list(client: azurecr.ContainerRegistryClient) -> None:
    repo = unique_repository("mlist")
    child = _docker(client, repo)
    child_digest = client.set_manifest(repo, child)
    size = len(client.get_manifest(repo, child_digest).content)
    listing = DockerManifestList(
        manifests=[
            OciDescriptor(
                media_type=KnownManifestMediaType.DOCKER_MANIFEST,
                digest=child_digest,
                size=size,
                platform=OciPlatform(architecture="arm64", os="linux", variant="v8"),
            )
        ]
    )
    _check_round_trip(client, repo, listing, KnownManifestMediaType.DOCKER_MANIFEST_LIST)


def test_oci_artifact_with_subject(client: azurecr.ContainerRegistryClient) -> None:
    repo = unique_repository("martifact")
    image = _image(client, repo)
    image_digest = client.set_manifest(repo, image, tag="img")
    image_size = len(client.get_manifest(repo, "img").content)
    empty = _blob(client, repo, b"{}", "application/vnd.oci.empty.v1+json")
    signature = OciImageManifest(
        media_type=KnownManifestMediaType.OCI_IMAGE_MANIFEST,
        artifact_type="application/vnd.example.signature.v1",
        config=empty,
        layers=[_blob(client, repo, b"signature bytes", "application/octet-stream")],
        subject=OciDescriptor(
            media_type=KnownManifestMediaType.OCI_IMAGE_MANIFEST,
            digest=image_digest,
            size=image_size,
        ),
    )
    digest = client.set_manifest(repo, signature)
    got = client.get_manifest(repo, digest)
    assert got.model.artifact_type == "application/vnd.example.signature.v1"
    assert got.model.subject.digest == image_digest


def test_raw_bytes_are_sent_verbatim(client: azurecr.ContainerRegistryClient) -> None:
    repo = unique_repository("mraw")
    document = _image(client, repo).to_json()
    pretty = json.dumps(document, indent=3, sort_keys=True).encode() + b"\n"
    digest = client.set_manifest(
        repo, pretty, tag="pretty", media_type=KnownManifestMediaType.OCI_IMAGE_MANIFEST
    )
    assert digest == sha256(pretty)
    assert client.get_manifest(repo, "pretty").content == pretty
    # a dict is sent as compact JSON; its media type is inferred from its shape
    compact = client.set_manifest(repo, document)
    assert client.get_manifest(repo, compact).manifest == document


def test_tampered_manifest_is_refused(
    client: azurecr.ContainerRegistryClient, tamper: Callable[[str | None], None]
) -> None:
    repo = unique_repository("mtamper")
    digest = client.set_manifest(repo, _image(client, repo), tag="v1")
    tamper("manifests")
    for ref in ("v1", digest):
        with pytest.raises(DigestValidationError) as exc:
            client.get_manifest(repo, ref)
        assert exc.value.expected == digest


def test_manifest_over_4_mib_is_refused_before_sending(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("mbig")
    big = _image(client, repo).to_json()
    big["annotations"] = {"padding": "x" * (4 * 1024 * 1024)}
    testbed.traffic(clear=True)
    with pytest.raises(ManifestTooLargeError):
        client.set_manifest(repo, big)
    with pytest.raises(ManifestTooLargeError):
        client.set_manifest(repo, json.dumps(big).encode(), media_type=OCI_CONFIG)
    assert testbed.traffic(clear=True) == []


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.set_manifest("Bad", {}), ValueError),
        (lambda c: c.set_manifest("ok", {"schemaVersion": 2}), ValueError),  # no media type
        (lambda c: c.set_manifest("ok", b"not json"), ValueError),
        (lambda c: c.set_manifest("ok", 42), TypeError),
        (lambda c: c.set_manifest("ok", {"mediaType": "x"}, tag="-bad"), ValueError),
        (lambda c: c.get_manifest("ok", "sha256:123"), ValueError),
        (lambda c: c.get_manifest("ok", ""), ValueError),
        (lambda c: c.manifest_exists("a/../b", "v1"), ValueError),
    ],
)
def test_bad_input_fails_before_any_request(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, call: Callable, error: type
) -> None:
    testbed.traffic(clear=True)
    with pytest.raises(error):
        call(client)
    assert testbed.traffic(clear=True) == []


async def test_async_round_trip_and_tamper(
    client: azurecr.ContainerRegistryClient,
    aclient: AsyncClient,
    tamper: Callable[[str | None], None],
) -> None:
    repo = unique_repository("amanifest")
    image = _image(client, repo)
    digest = await aclient.set_manifest(repo, image, tag="v1")
    got = await aclient.get_manifest(repo, "v1")
    assert got.digest == digest and got.model.to_json() == image.to_json()
    assert await aclient.manifest_exists(repo, digest)
    assert not await aclient.manifest_exists(repo, "missing")
    tamper("manifests")
    with pytest.raises(DigestValidationError):
        await aclient.get_manifest(repo, digest)


def _oversized_manifest_server(bed: TestBed, announce_length: bool) -> Any:
    from aiohttp import web

    from ._scripted import ScriptedRegistry

    body = json.dumps({"schemaVersion": 2, "pad": "x" * (5 * 1024 * 1024)}).encode()
    sent = {"bytes": 0}

    async def manifest(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": KnownManifestMediaType.OCI_IMAGE_MANIFEST,
                "Docker-Content-Digest": sha256(body),
            }
        )
        if announce_length:
            response.content_length = len(body)
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(0, len(body), 64 * 1024):
            await response.write(body[i : i + 64 * 1024])
            sent["bytes"] += 64 * 1024
        await response.write_eof()
        return response

    return ScriptedRegistry(bed, {("GET", "/v2/huge/manifests/v1"): manifest}), sent


@pytest.mark.parametrize("announce_length", [True, False])
def test_manifest_over_4_mib_from_a_registry_is_refused(
    testbed: TestBed, announce_length: bool
) -> None:
    # distribution refuses to store or serve manifests over 4 MiB (its own limit), so a
    # scripted registry plays one that does not
    server, _ = _oversized_manifest_server(testbed, announce_length)
    with server as registry:
        with azurecr.ContainerRegistryClient(
            registry.endpoint, None, connection_verify=testbed.ca_path
        ) as anonymous:
            with pytest.raises(ManifestTooLargeError):
                anonymous.get_manifest("huge", "v1")
    assert registry.requests == [("GET", "/v2/huge/manifests/v1")]
