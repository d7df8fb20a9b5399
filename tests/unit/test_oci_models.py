"""Typed OCI / Docker manifest models: exact round trips, typed fields, garbage refused."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azurecr._digest import Digest
from azurecr._oci_models import (
    MANIFEST_ACCEPT,
    DockerManifest,
    DockerManifestList,
    KnownManifestMediaType,
    OciAnnotations,
    OciDescriptor,
    OciImageIndex,
    OciImageManifest,
    OciPlatform,
    manifest_bytes,
    media_type_of,
    parse_manifest,
)


def _d(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

# An OCI image manifest with annotations at every level and fields no model knows.
IMAGE_MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": OCI_MANIFEST,
    "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": _d("config"),
        "size": 7023,
        "x-config-extra": True,
    },
    "layers": [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": _d("layer0"),
            "size": 32654,
            "annotations": {"org.opencontainers.image.title": "base.tar.gz"},
        },
        {
            "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "digest": "sha512:" + hashlib.sha512(b"foreign").hexdigest(),
            "size": 73109,
            "urls": ["https://mcr.microsoft.com/v2/windows/blobs/foreign"],
        },
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
            "digest": _d("layer2"),
            "size": 0,
            "x-layer-extra": {"nested": [1, 2.5, None, {"deep": "yes"}]},
        },
    ],
    "annotations": {
        "org.opencontainers.image.created": "2023-03-01T12:34:56.789Z",
        "org.opencontainers.image.authors": "Jane <jane@example.com>",
        "org.opencontainers.image.url": "https://example.com/app",
        "org.opencontainers.image.documentation": "https://example.com/app/docs",
        "org.opencontainers.image.source": "https://github.com/example/app",
        "org.opencontainers.image.version": "1.2.3",
        "org.opencontainers.image.revision": "0123abcd",
        "org.opencontainers.image.vendor": "Example",
        "org.opencontainers.image.licenses": "MIT OR Apache-2.0",
        "org.opencontainers.image.ref.name": "1.2.3",
        "org.opencontainers.image.title": "App",
        "org.opencontainers.image.description": "An app ✓",
        "org.opencontainers.image.base.digest": _d("base"),
        "com.example.build": "42",
    },
    "x-vendor-field": {"list": [], "obj": {}, "n": -1},
}

# A multi-platform OCI index as docker buildx pushes it (with an attestation entry).
IMAGE_INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": OCI_INDEX,
    "manifests": [
        {
            "mediaType": OCI_MANIFEST,
            "digest": _d("amd64"),
            "size": 1051,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": _d("arm64"),
            "size": 1051,
            "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": _d("windows"),
            "size": 2304,
            "platform": {
                "architecture": "amd64",
                "os": "windows",
                "os.version": "10.0.17763.5122",
                "os.features": ["win32k"],
                "x-platform-extra": "kept",
            },
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": _d("attestation"),
            "size": 566,
            "annotations": {
                "vnd.docker.reference.digest": _d("amd64"),
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        },
    ],
    "annotations": {"org.opencontainers.image.ref.name": "latest"},
}

# Docker image manifest v2 schema 2 as `docker push` writes it.
DOCKER_MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": DOCKER_V2,
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 1469,
        "digest": _d("docker-config"),
    },
    "layers": [
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 2479,
            "digest": _d("docker-layer"),
        },
        {
            "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "size": 1000,
            "digest": _d("foreign"),
            "urls": ["https://example.com/foreign.tgz"],
        },
    ],
}

DOCKER_MANIFEST_LIST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": DOCKER_LIST,
    "manifests": [
        {
            "mediaType": DOCKER_V2,
            "size": 525,
            "digest": _d("list-amd64"),
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        {
            "mediaType": DOCKER_V2,
            "size": 525,
            "digest": _d("list-arm"),
            "platform": {
                "architecture": "arm",
                "os": "linux",
                "variant": "v7",
                "features": ["sse4"],
            },
        },
    ],
}

# An OCI 1.1 artifact (a signature) referring to an image through ``subject``.
ARTIFACT_MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": OCI_MANIFEST,
    "artifactType": "application/vnd.cncf.notary.signature",
    "config": {
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2,
        "data": "e30=",
    },
    "layers": [
        {
            "mediaType": "application/jose+json",
            "digest": _d("signature"),
            "size": 2178,
        }
    ],
    "subject": {
        "mediaType": OCI_MANIFEST,
        "digest": _d("amd64"),
        "size": 1051,
    },
    "annotations": {"io.cncf.notary.x509chain.thumbprint#S256": '["abc"]'},
}

# An OCI 1.1 index of artifacts with its own artifactType and subject, and no mediaType.
ARTIFACT_INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "artifactType": "application/vnd.example.sbom.bundle",
    "manifests": [
        {
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/spdx+json",
            "digest": _d("sbom"),
            "size": 700,
        }
    ],
    "subject": {"mediaType": OCI_INDEX, "digest": _d("index"), "size": 1609},
}

ROUND_TRIPS: list[tuple[type[Any], dict[str, Any]]] = [
    (OciImageManifest, IMAGE_MANIFEST),
    (OciImageIndex, IMAGE_INDEX),
    (DockerManifest, DOCKER_MANIFEST),
    (DockerManifestList, DOCKER_MANIFEST_LIST),
    (OciImageManifest, ARTIFACT_MANIFEST),
    (OciImageIndex, ARTIFACT_INDEX),
]


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("model", "doc"), ROUND_TRIPS)
def test_round_trip_is_exact(model: type[Any], doc: dict[str, Any]) -> None:
    original = copy.deepcopy(doc)
    parsed = model.from_json(doc)
    assert parsed.to_json() == doc
    assert doc == original  # reading does not touch the input
    # The same from JSON text, str or bytes, and from the compact bytes it writes.
    assert model.from_json(json.dumps(doc)) == parsed
    assert model.from_json(json.dumps(doc).encode()) == parsed
    assert model.from_json(manifest_bytes(parsed)).to_json() == doc
    assert json.loads(manifest_bytes(parsed)) == doc


@pytest.mark.parametrize(("model", "doc"), ROUND_TRIPS)
def test_models_share_nothing_with_their_json(model: type[Any], doc: dict[str, Any]) -> None:
    source = copy.deepcopy(doc)
    parsed = model.from_json(source)
    source["x-late"] = 1
    for value in source.values():
        if isinstance(value, dict):
            value["x-late"] = 1
    assert parsed.to_json() == doc
    out = parsed.to_json()
    out["schemaVersion"] = 3
    out.setdefault("annotations", {})["x"] = "y"
    assert parsed.to_json() == doc


def test_image_manifest_fields_are_typed() -> None:
    manifest = OciImageManifest.from_json(IMAGE_MANIFEST)
    assert manifest.schema_version == 2
    assert manifest.media_type == OCI_MANIFEST
    assert manifest.artifact_type is None and manifest.subject is None
    assert isinstance(manifest.config, OciDescriptor)
    assert isinstance(manifest.config.digest, Digest)
    assert manifest.config.size == 7023
    assert manifest.config.additional_properties == {"x-config-extra": True}
    assert [layer.size for layer in manifest.layers] == [32654, 73109, 0]
    assert manifest.layers[1].digest.algorithm == "sha512"
    assert manifest.layers[1].urls == ["https://mcr.microsoft.com/v2/windows/blobs/foreign"]
    layer0_annotations = manifest.layers[0].annotations
    assert layer0_annotations is not None and layer0_annotations.title == "base.tar.gz"
    assert manifest.layers[2].additional_properties == {
        "x-layer-extra": {"nested": [1, 2.5, None, {"deep": "yes"}]}
    }
    annotations = manifest.annotations
    assert annotations is not None
    assert annotations.created == datetime(2023, 3, 1, 12, 34, 56, 789000, timezone.utc)
    assert annotations.authors == "Jane <jane@example.com>"
    assert annotations.url == "https://example.com/app"
    assert annotations.documentation == "https://example.com/app/docs"
    assert annotations.source == "https://github.com/example/app"
    assert annotations.version == "1.2.3"
    assert annotations.revision == "0123abcd"
    assert annotations.vendor == "Example"
    assert annotations.licenses == "MIT OR Apache-2.0"
    assert annotations.name == "1.2.3"
    assert annotations.title == "App"
    assert annotations.description == "An app ✓"
    assert annotations.additional_properties == {
        "org.opencontainers.image.base.digest": _d("base"),
        "com.example.build": "42",
    }
    assert manifest.additional_properties == {"x-vendor-field": {"list": [], "obj": {}, "n": -1}}


def test_index_platforms_are_typed() -> None:
    index = OciImageIndex.from_json(IMAGE_INDEX)
    platforms = [entry.platform for entry in index.manifests]
    assert all(isinstance(p, OciPlatform) for p in platforms)
    amd64, arm64, windows, attestation = platforms
    assert amd64 is not None and (amd64.architecture, amd64.os) == ("amd64", "linux")
    assert amd64.variant is None and amd64.os_version is None
    assert arm64 is not None and arm64.variant == "v8"
    assert windows is not None
    assert windows.os_version == "10.0.17763.5122"
    assert windows.os_features == ["win32k"]
    assert windows.additional_properties == {"x-platform-extra": "kept"}
    assert attestation is not None and attestation.os == "unknown"
    entry_annotations = index.manifests[3].annotations
    assert entry_annotations is not None
    assert entry_annotations.additional_properties["vnd.docker.reference.type"] == (
        "attestation-manifest"
    )
    assert index.annotations is not None and index.annotations.name == "latest"


def test_docker_models() -> None:
    manifest = DockerManifest.from_json(DOCKER_MANIFEST)
    assert manifest.media_type == DOCKER_V2
    assert manifest.config.media_type == "application/vnd.docker.container.image.v1+json"
    assert manifest.layers[1].urls == ["https://example.com/foreign.tgz"]
    listing = DockerManifestList.from_json(DOCKER_MANIFEST_LIST)
    arm = listing.manifests[1].platform
    assert arm is not None and (arm.variant, arm.features) == ("v7", ["sse4"])


def test_oci_1_1_artifact_fields() -> None:
    artifact = OciImageManifest.from_json(ARTIFACT_MANIFEST)
    assert artifact.artifact_type == "application/vnd.cncf.notary.signature"
    assert artifact.config.data == "e30="
    assert artifact.config.digest == Digest.of(b"{}")
    assert artifact.subject is not None and artifact.subject.digest == _d("amd64")
    index = OciImageIndex.from_json(ARTIFACT_INDEX)
    assert index.media_type is None
    assert index.artifact_type == "application/vnd.example.sbom.bundle"
    assert index.manifests[0].artifact_type == "application/spdx+json"
    assert index.subject is not None and index.subject.media_type == OCI_INDEX


# ----------------------------------------------------------------------------- annotations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-01T12:34:56Z", datetime(2023, 3, 1, 12, 34, 56, tzinfo=timezone.utc)),
        ("2023-03-01t12:34:56z", datetime(2023, 3, 1, 12, 34, 56, tzinfo=timezone.utc)),
        ("2023-03-01 12:34:56Z", datetime(2023, 3, 1, 12, 34, 56, tzinfo=timezone.utc)),
        (
            "2023-03-01T12:34:56.123456789+05:30",
            datetime(2023, 3, 1, 12, 34, 56, 123456, timezone(timedelta(hours=5, minutes=30))),
        ),
        ("2023-03-01T12:34:56-08:00", datetime(2023, 3, 1, 20, 34, 56, tzinfo=timezone.utc)),
    ],
)
def test_created_is_an_aware_datetime_and_keeps_its_text(text: str, expected: datetime) -> None:
    annotations = OciAnnotations.from_json({"org.opencontainers.image.created": text})
    assert annotations.created == expected
    assert annotations.created is not None and annotations.created.tzinfo is not None
    assert annotations.to_json() == {"org.opencontainers.image.created": text}


@pytest.mark.parametrize(
    "text", ["yesterday", "2023-02-30T00:00:00Z", "2023-03-01T12:34:56", "2023-03-01", ""]
)
def test_created_that_is_not_rfc3339_is_kept_as_text(text: str) -> None:
    annotations = OciAnnotations.from_json({"org.opencontainers.image.created": text})
    assert annotations.created is None
    assert annotations.to_json() == {"org.opencontainers.image.created": text}
    assert repr(text) in repr(annotations)


def test_setting_created_writes_rfc3339() -> None:
    annotations = OciAnnotations.from_json({"org.opencontainers.image.created": "junk"})
    annotations.created = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert annotations.to_json() == {"org.opencontainers.image.created": "2024-05-06T07:08:09Z"}
    annotations.created = datetime(2024, 5, 6, 7, 8, 9, 500, timezone(timedelta(hours=-2)))
    assert annotations.to_json() == {
        "org.opencontainers.image.created": "2024-05-06T07:08:09.000500-02:00"
    }
    # A naive datetime is taken to be UTC.
    annotations.created = datetime(2024, 5, 6, 7, 8, 9)
    assert annotations.to_json() == {"org.opencontainers.image.created": "2024-05-06T07:08:09Z"}
    annotations.created = None
    assert annotations.to_json() == {}
    with pytest.raises(TypeError):
        annotations.created = "2024-05-06T07:08:09Z"  # type: ignore[assignment]


def test_annotations_constructor_matches_azure_containerregistry_keywords() -> None:
    annotations = OciAnnotations(
        created=datetime(2024, 1, 1, tzinfo=timezone.utc),
        authors="a",
        url="u",
        documentation="d",
        source="s",
        version="v",
        revision="r",
        vendor="ve",
        licenses="l",
        name="n",
        title="t",
        description="de",
        additional_properties={"k": "v"},
    )
    assert annotations.to_json() == {
        "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
        "org.opencontainers.image.authors": "a",
        "org.opencontainers.image.url": "u",
        "org.opencontainers.image.documentation": "d",
        "org.opencontainers.image.source": "s",
        "org.opencontainers.image.version": "v",
        "org.opencontainers.image.revision": "r",
        "org.opencontainers.image.vendor": "ve",
        "org.opencontainers.image.licenses": "l",
        "org.opencontainers.image.ref.name": "n",
        "org.opencontainers.image.title": "t",
        "org.opencontainers.image.description": "de",
        "k": "v",
    }
    with pytest.raises(TypeError):
        OciAnnotations(title=1)  # type: ignore[arg-type]


def test_attribute_names_match_azure_containerregistry_generated_models() -> None:
    """Same attribute names and JSON keys as 1.2.0's Annotations/Descriptor/OCIManifest/Platform."""
    generated = pytest.importorskip("azure.containerregistry._generated.models")
    serialization = pytest.importorskip("azure.containerregistry._generated._serialization")
    classes = {k: v for k, v in vars(generated).items() if isinstance(v, type)}
    deserialize = serialization.Deserializer(classes)

    theirs = deserialize("OCIManifest", IMAGE_MANIFEST)
    ours = OciImageManifest.from_json(IMAGE_MANIFEST)
    assert theirs.schema_version == ours.schema_version
    for their_layer, our_layer in zip(theirs.layers, ours.layers):
        for name in ("media_type", "size", "digest", "urls"):
            assert getattr(their_layer, name) == getattr(our_layer, name), name
    assert ours.annotations is not None
    for name in generated.Annotations._attribute_map:
        if name != "additional_properties":
            assert getattr(theirs.annotations, name) == getattr(ours.annotations, name), name

    windows = IMAGE_INDEX["manifests"][2]["platform"]
    their_platform = deserialize("Platform", windows)
    our_platform = OciPlatform.from_json(windows)
    for name in generated.Platform._attribute_map:
        assert getattr(their_platform, name) == getattr(our_platform, name), name


# ----------------------------------------------------------------------------- construction


def _layer(seed: str = "layer", size: int = 10) -> OciDescriptor:
    return OciDescriptor(
        media_type="application/vnd.oci.image.layer.v1.tar+gzip", digest=_d(seed), size=size
    )


def test_constructed_manifest_writes_the_spec_shape() -> None:
    config = OciDescriptor(
        media_type="application/vnd.oci.image.config.v1+json", digest=_d("c"), size=2
    )
    manifest = OciImageManifest(
        config=config,
        layers=[_layer()],
        annotations={"org.opencontainers.image.title": "x"},
    )
    assert manifest.schema_version == 2
    assert isinstance(manifest.annotations, OciAnnotations)
    assert manifest.to_json() == {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": _d("c"),
            "size": 2,
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": _d("layer"),
                "size": 10,
            }
        ],
        "annotations": {"org.opencontainers.image.title": "x"},
    }
    # media_type=None leaves mediaType out.
    assert "mediaType" not in OciImageManifest(config=config, layers=[], media_type=None).to_json()
    # Enum members are written as their values.
    index = OciImageIndex(
        manifests=[
            OciDescriptor(
                media_type=KnownManifestMediaType.OCI_IMAGE_MANIFEST,
                digest=_d("m"),
                size=1,
                platform=OciPlatform(architecture="amd64", os="linux"),
            )
        ],
        media_type=KnownManifestMediaType.OCI_IMAGE_INDEX,
    )
    written = index.to_json()
    assert written["mediaType"] == OCI_INDEX
    assert written["manifests"][0]["mediaType"] == OCI_MANIFEST
    assert written["manifests"][0]["platform"] == {"architecture": "amd64", "os": "linux"}
    assert json.loads(manifest_bytes(index)) == written
    docker = DockerManifest(config=config, layers=[])
    assert docker.to_json()["mediaType"] == DOCKER_V2
    assert DockerManifestList(manifests=[]).to_json() == {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [],
    }


def test_constructors_are_keyword_only_and_validate() -> None:
    with pytest.raises(TypeError):
        OciDescriptor("application/x", _d("a"), 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        OciDescriptor(media_type="application/x", digest=_d("a"))  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="invalid digest"):
        OciDescriptor(media_type="application/x", digest="sha256:short", size=1)
    with pytest.raises(ValueError, match="negative"):
        OciDescriptor(media_type="application/x", digest=_d("a"), size=-1)
    with pytest.raises(TypeError, match="size"):
        OciDescriptor(media_type="application/x", digest=_d("a"), size=True)
    with pytest.raises(TypeError, match="media_type"):
        OciDescriptor(media_type=None, digest=_d("a"), size=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base64"):
        OciDescriptor(media_type="application/x", digest=_d("a"), size=1, data="not base64!")
    with pytest.raises(TypeError, match="urls"):
        OciDescriptor(media_type="application/x", digest=_d("a"), size=1, urls="https://x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config"):
        OciImageManifest(config={"mediaType": "x"}, layers=[])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="layers"):
        OciImageManifest(config=_layer(), layers=[{"size": 1}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="platform"):
        OciDescriptor(media_type="x", digest=_d("a"), size=1, platform={"os": "linux"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="architecture"):
        OciPlatform(architecture=None, os="linux")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="annotations"):
        OciImageIndex(manifests=[], annotations=["x"])  # type: ignore[arg-type]


def test_equality_repr_and_mutation() -> None:
    first = OciImageManifest.from_json(IMAGE_MANIFEST)
    second = OciImageManifest.from_json(json.dumps(IMAGE_MANIFEST))
    assert first == second and first is not second
    assert first != DockerManifest.from_json(DOCKER_MANIFEST)
    assert first != IMAGE_MANIFEST  # a model is not its dict
    with pytest.raises(TypeError):
        hash(first)
    second.layers[0].size = 1
    assert first != second
    assert second.to_json()["layers"][0]["size"] == 1
    second.additional_properties["x-new"] = [1]
    assert second.to_json()["x-new"] == [1]

    text = repr(_layer())
    assert text.startswith("OciDescriptor(media_type='application/vnd.oci.image.layer.v1.tar+gzip'")
    assert f"digest=Digest('{_d('layer')}')" in text and "size=10" in text
    assert "urls" not in text and "additional_properties" not in text
    assert "x-vendor-field" in repr(first) and "OciAnnotations(" in repr(first)
    assert repr(OciPlatform(architecture="arm64", os="linux", variant="v8")) == (
        "OciPlatform(architecture='arm64', os='linux', variant='v8')"
    )


def test_models_have_no_stray_attributes() -> None:
    layer = _layer()
    with pytest.raises(AttributeError):
        layer.mediaType = "x"  # type: ignore[attr-defined]


def test_null_in_an_optional_field_reads_as_absent() -> None:
    doc = dict(DOCKER_MANIFEST_LIST["manifests"][0], urls=None, annotations=None)
    descriptor = OciDescriptor.from_json(doc)
    assert descriptor.urls is None and descriptor.annotations is None
    assert "urls" not in descriptor.to_json()


# ----------------------------------------------------------------------------- garbage

_GOOD_LAYER = IMAGE_MANIFEST["layers"][0]


def _with(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with the item at ``path`` replaced (or deleted if ``...``)."""
    changed = copy.deepcopy(doc)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


GARBAGE: list[tuple[type[Any], Any, str]] = [
    (OciImageManifest, [], "expected a JSON object, got an array"),
    (OciImageManifest, "null", "expected a JSON object, got null"),
    (OciImageManifest, "{", "not valid JSON"),
    (OciImageManifest, b"\xff\xfe\x00", "not valid JSON"),
    (OciImageManifest, 42, "expected a JSON object, got a number"),
    (OciImageManifest, {1: 2}, "not a string"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["schemaVersion"], ...), "schemaVersion"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["schemaVersion"], 1), "expected 2, got 1"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["schemaVersion"], "2"), "schemaVersion"),
    (
        OciImageManifest,
        _with(IMAGE_MANIFEST, ["schemaVersion"], True),
        "schemaVersion: expected an integer, got a boolean",
    ),
    (
        OciImageManifest,
        _with(IMAGE_MANIFEST, ["layers", 0, "size"], True),
        "layers[0].size: expected an integer, got a boolean",
    ),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["mediaType"], DOCKER_V2), "mediaType"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["mediaType"], 5), "mediaType"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["config"], ...), "config: required field is missing"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["config"], None), "config: required field is null"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["config"], []), "config: expected a JSON object"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers"], ...), "layers"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers"], {}), "layers: expected an array"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 1], "x"), "layers[1]: expected a JSON"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 0, "size"], "12"), "layers[0].size"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 0, "size"], 1.5), "layers[0].size"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 0, "size"], -1), "negative"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 0, "size"], ...), "layers[0].size"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 2, "digest"], "sha256:abc"), "digest"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 2, "digest"], 7), "layers[2].digest"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 0, "mediaType"], ...), "mediaType"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 1, "urls"], "u"), "layers[1].urls"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["layers", 1, "urls"], [1]), "layers[1].urls[0]"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["config", "data"], "***"), "config.data"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["config", "data"], 3), "config.data"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["annotations"], "x"), "annotations"),
    (
        OciImageManifest,
        _with(IMAGE_MANIFEST, ["annotations", "org.opencontainers.image.title"], 1),
        "annotations.org.opencontainers.image.title",
    ),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["annotations", "x"], ["not a string"]), "x"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["subject"], {"mediaType": "x"}), "subject.digest"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["artifactType"], {}), "artifactType"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["x-vendor-field"], float("nan")), "x-vendor-field"),
    (OciImageManifest, _with(IMAGE_MANIFEST, ["x-vendor-field"], {1, 2}), "x-vendor-field"),
    (OciImageIndex, _with(IMAGE_INDEX, ["manifests"], ...), "manifests"),
    (OciImageIndex, _with(IMAGE_INDEX, ["manifests"], None), "manifests: required field is null"),
    (OciImageIndex, _with(IMAGE_INDEX, ["mediaType"], DOCKER_LIST), "mediaType"),
    (OciImageIndex, _with(IMAGE_INDEX, ["manifests", 0, "platform"], []), "platform"),
    (OciImageIndex, _with(IMAGE_INDEX, ["manifests", 0, "platform", "os"], ...), "platform.os"),
    (
        OciImageIndex,
        _with(IMAGE_INDEX, ["manifests", 2, "platform", "os.features"], "win32k"),
        "manifests[2].platform.os.features",
    ),
    (
        OciImageIndex,
        _with(IMAGE_INDEX, ["manifests", 1, "platform", "architecture"], 64),
        "manifests[1].platform.architecture",
    ),
    (DockerManifest, _with(DOCKER_MANIFEST, ["mediaType"], OCI_MANIFEST), "mediaType"),
    (DockerManifest, _with(DOCKER_MANIFEST, ["layers"], None), "layers"),
    (DockerManifest, {"schemaVersion": 1, "fsLayers": []}, "schemaVersion"),
    (DockerManifestList, _with(DOCKER_MANIFEST_LIST, ["manifests", 0], None), "manifests[0]"),
    (OciDescriptor, {"mediaType": "x", "digest": _d("x")}, "size"),
    (OciDescriptor, {"mediaType": "x", "digest": "sha256:" + "A" * 64, "size": 1}, "digest"),
    (OciPlatform, {"os": "linux"}, "architecture"),
    (OciAnnotations, {"a": None}, "a: expected a string, got null"),
    (OciAnnotations, '["x"]', "expected a JSON object"),
    (OciImageManifest, "[" * 100_000, "not valid JSON"),
]


@pytest.mark.parametrize(("model", "doc", "needle"), GARBAGE)
def test_garbage_is_a_value_error_naming_the_field(model: type[Any], doc: Any, needle: str) -> None:
    with pytest.raises(ValueError) as info:
        model.from_json(doc)
    assert type(info.value) is ValueError
    message = str(info.value)
    assert message.startswith(f"invalid {model.__name__}: ")
    assert needle in message


# ----------------------------------------------------------------------------- helpers


def test_known_media_types_and_accept_header() -> None:
    assert KnownManifestMediaType.OCI_IMAGE_MANIFEST == OCI_MANIFEST
    assert KnownManifestMediaType.OCI_IMAGE_INDEX == OCI_INDEX
    assert KnownManifestMediaType.DOCKER_MANIFEST == DOCKER_V2
    assert KnownManifestMediaType.DOCKER_MANIFEST_LIST == DOCKER_LIST
    assert KnownManifestMediaType.OCI_ARTIFACT_MANIFEST.value == (
        "application/vnd.oci.artifact.manifest.v1+json"
    )
    assert KnownManifestMediaType["oci_image_index"] is KnownManifestMediaType.OCI_IMAGE_INDEX
    offered = [part.strip() for part in MANIFEST_ACCEPT.split(",")]
    assert sorted(offered) == sorted(member.value for member in KnownManifestMediaType)
    assert "*/*" not in MANIFEST_ACCEPT


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (IMAGE_MANIFEST, OCI_MANIFEST),
        (DOCKER_MANIFEST_LIST, DOCKER_LIST),
        ({"mediaType": "application/x-custom"}, "application/x-custom"),
        (_with(IMAGE_MANIFEST, ["mediaType"], ...), OCI_MANIFEST),
        (ARTIFACT_INDEX, OCI_INDEX),
        ({"schemaVersion": 1, "name": "x", "fsLayers": [], "layers": [], "config": {}}, None),
        ({"schemaVersion": 2, "config": {}}, None),
        ({}, None),
    ],
)
def test_media_type_of(document: dict[str, Any], expected: str | None) -> None:
    assert media_type_of(document) == expected


def test_media_type_of_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="mediaType"):
        media_type_of({"mediaType": 3})
    with pytest.raises(TypeError):
        media_type_of([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("doc", "media_type", "model"),
    [
        (IMAGE_MANIFEST, OCI_MANIFEST, OciImageManifest),
        (IMAGE_MANIFEST, None, OciImageManifest),
        (IMAGE_MANIFEST, "", OciImageManifest),
        (
            IMAGE_MANIFEST,
            "Application/VND.oci.image.manifest.v1+JSON; charset=utf-8",
            OciImageManifest,
        ),
        (_with(IMAGE_MANIFEST, ["mediaType"], ...), None, OciImageManifest),
        (IMAGE_INDEX, OCI_INDEX, OciImageIndex),
        (ARTIFACT_INDEX, None, OciImageIndex),
        (DOCKER_MANIFEST, DOCKER_V2, DockerManifest),
        (DOCKER_MANIFEST, None, DockerManifest),
        (DOCKER_MANIFEST_LIST, DOCKER_LIST, DockerManifestList),
        (ARTIFACT_MANIFEST, OCI_MANIFEST, OciImageManifest),
    ],
)
def test_parse_manifest_picks_the_model(
    doc: dict[str, Any], media_type: str | None, model: type[Any]
) -> None:
    content = json.dumps(doc, indent=3).encode()
    parsed = parse_manifest(content, media_type)
    assert type(parsed) is model
    assert parsed is not None and parsed.to_json() == doc
    assert parse_manifest(memoryview(content), media_type) == parsed
    assert parse_manifest(bytearray(content), media_type) == parsed


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b'{"mediaType": "application/vnd.oci.artifact.manifest.v1+json", "blobs": []}', None),
        (b"{}", KnownManifestMediaType.OCI_ARTIFACT_MANIFEST.value),
        (b'{"schemaVersion": 1, "fsLayers": []}', None),
        (b'{"schemaVersion": 1}', "application/vnd.docker.distribution.manifest.v1+prettyjws"),
        (b"not even json", "application/vnd.docker.distribution.manifest.v1+prettyjws"),
        (b'{"whatever": 1}', None),
    ],
)
def test_parse_manifest_without_a_model_is_none(content: bytes, media_type: str | None) -> None:
    assert parse_manifest(content, media_type) is None


@pytest.mark.parametrize(
    ("content", "media_type", "needle"),
    [
        (b"", OCI_MANIFEST, "not valid JSON"),
        (b"<html>", None, "not valid JSON"),
        (b"\xff", OCI_MANIFEST, "not valid JSON"),
        (b"[1]", None, "expected a JSON object"),
        (json.dumps(DOCKER_MANIFEST).encode(), OCI_MANIFEST, "mediaType"),
        (json.dumps(IMAGE_MANIFEST).encode(), OCI_INDEX, "mediaType: expected"),
        (
            json.dumps(_with(IMAGE_MANIFEST, ["mediaType"], ...)).encode(),
            OCI_INDEX,
            "manifests: required field is missing",
        ),
        (json.dumps(_with(IMAGE_MANIFEST, ["config", "size"], -5)).encode(), None, "config.size"),
    ],
)
def test_parse_manifest_refuses_a_body_that_does_not_fit(
    content: bytes, media_type: str | None, needle: str
) -> None:
    with pytest.raises(ValueError) as info:
        parse_manifest(content, media_type)
    assert needle in str(info.value)


def test_parse_manifest_needs_bytes() -> None:
    with pytest.raises(TypeError):
        parse_manifest(json.dumps(IMAGE_MANIFEST), OCI_MANIFEST)  # type: ignore[arg-type]


def test_manifest_bytes_is_compact_utf8_in_to_json_order() -> None:
    manifest = OciImageManifest.from_json(IMAGE_MANIFEST)
    content = manifest_bytes(manifest)
    assert content == json.dumps(
        manifest.to_json(), separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert b"An app \xe2\x9c\x93" in content  # UTF-8, not \\u escapes
    assert b": " not in content and b", " not in content
    assert content.startswith(b'{"schemaVersion":2,"mediaType":')
    # A dict is written in its own order; bytes are sent as they are.
    assert manifest_bytes({"b": 1, "a": [True, None]}) == b'{"b":1,"a":[true,null]}'
    raw = json.dumps(IMAGE_MANIFEST, indent=2).encode()
    assert manifest_bytes(raw) == raw
    assert manifest_bytes(bytearray(raw)) == raw
    assert Digest.of(manifest_bytes(manifest)) == "sha256:" + hashlib.sha256(content).hexdigest()


def test_manifest_bytes_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError):
        manifest_bytes({"when": datetime(2024, 1, 1)})
    with pytest.raises(ValueError):
        manifest_bytes({"n": float("inf")})
    with pytest.raises(ValueError):
        manifest_bytes({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        manifest_bytes("{}")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        manifest_bytes(None)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- properties

_KNOWN_KEYS = {
    "schemaVersion",
    "mediaType",
    "artifactType",
    "config",
    "layers",
    "manifests",
    "subject",
    "annotations",
    "digest",
    "size",
    "urls",
    "data",
    "platform",
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "features",
}
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
_unknown_keys = st.text(min_size=1, max_size=12).filter(lambda key: key not in _KNOWN_KEYS)
_extras = st.dictionaries(_unknown_keys, _json_values, max_size=3)
_annotation_extras = st.dictionaries(
    st.text(max_size=12).filter(lambda key: not key.startswith("org.opencontainers.image.")),
    st.text(max_size=12),
    max_size=3,
)
_digests = st.binary(max_size=8).map(lambda data: str(Digest.of(data)))
_media_types = st.sampled_from(
    ["application/vnd.oci.image.layer.v1.tar+gzip", "application/octet-stream", "text/plain"]
)


@st.composite
def _annotations(draw: st.DrawFn) -> dict[str, str]:
    doc = dict(draw(_annotation_extras))
    if draw(st.booleans()):
        doc["org.opencontainers.image.title"] = draw(st.text(max_size=8))
    if draw(st.booleans()):
        doc["org.opencontainers.image.created"] = draw(
            st.datetimes(timezones=st.just(timezone.utc)).map(
                lambda value: value.isoformat().replace("+00:00", "Z")
            )
            | st.text(max_size=8)
        )
    return doc


@st.composite
def _platforms(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = dict(draw(_extras))
    doc["architecture"] = draw(st.sampled_from(["amd64", "arm64", "s390x"]))
    doc["os"] = draw(st.sampled_from(["linux", "windows"]))
    if draw(st.booleans()):
        doc["variant"] = "v8"
    if draw(st.booleans()):
        doc["os.features"] = draw(st.lists(st.text(max_size=5), max_size=2))
    return doc


@st.composite
def _descriptors(draw: st.DrawFn, with_platform: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = dict(draw(_extras))
    doc["mediaType"] = draw(_media_types)
    doc["digest"] = draw(_digests)
    doc["size"] = draw(st.integers(min_value=0, max_value=2**53))
    if draw(st.booleans()):
        doc["annotations"] = draw(_annotations())
    if draw(st.booleans()):
        doc["urls"] = draw(st.lists(st.text(max_size=10), max_size=2))
    if draw(st.booleans()):
        doc["data"] = draw(st.binary(max_size=6).map(lambda b: base64.b64encode(b).decode()))
    if draw(st.booleans()):
        doc["artifactType"] = draw(_media_types)
    if with_platform and draw(st.booleans()):
        doc["platform"] = draw(_platforms())
    return doc


@st.composite
def _documents(draw: st.DrawFn) -> tuple[type[Any], dict[str, Any]]:
    model: type[Any] = draw(
        st.sampled_from([OciImageManifest, OciImageIndex, DockerManifest, DockerManifestList])
    )
    doc: dict[str, Any] = dict(draw(_extras))
    doc["schemaVersion"] = 2
    if draw(st.booleans()):
        doc["mediaType"] = model._MEDIA_TYPE
    if model in (OciImageManifest, DockerManifest):
        doc["config"] = draw(_descriptors())
        doc["layers"] = draw(st.lists(_descriptors(), max_size=3))
    else:
        doc["manifests"] = draw(st.lists(_descriptors(with_platform=True), max_size=3))
    if model in (OciImageManifest, OciImageIndex):
        if draw(st.booleans()):
            doc["subject"] = draw(_descriptors())
        if draw(st.booleans()):
            doc["artifactType"] = draw(_media_types)
        if draw(st.booleans()):
            doc["annotations"] = draw(_annotations())
    return model, doc


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_round_trip_preserves_unknown_fields(case: tuple[type[Any], dict[str, Any]]) -> None:
    model, doc = case
    parsed = model.from_json(doc)
    assert parsed.to_json() == doc
    assert model.from_json(manifest_bytes(parsed)) == parsed
    assert parse_manifest(manifest_bytes(parsed), parsed.media_type or model._MEDIA_TYPE) == parsed


_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | _digests,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(sorted(_KNOWN_KEYS)) | st.text(max_size=6), children, max_size=4
        )
    ),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found.append((*prefix, i))
            found.extend(_paths(value, (*prefix, i)))
    return found


def _only_value_errors(read: Callable[[], Any]) -> None:
    try:
        read()
    except ValueError:
        pass


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(_documents(), st.data())
def test_a_damaged_document_is_read_or_refused_with_value_error(
    case: tuple[type[Any], dict[str, Any]], data: st.DataObject
) -> None:
    model, doc = case
    path = data.draw(st.sampled_from(_paths(doc)))
    damaged = _with(doc, list(path), data.draw(st.just(...) | _anything))
    _only_value_errors(lambda: model.from_json(damaged))
    _only_value_errors(lambda: parse_manifest(json.dumps(damaged).encode(), None))


@given(_anything)
def test_any_json_value_is_read_or_refused_with_value_error(value: Any) -> None:
    for model in (
        OciImageManifest,
        OciImageIndex,
        DockerManifest,
        DockerManifestList,
        OciDescriptor,
        OciPlatform,
        OciAnnotations,
    ):
        _only_value_errors(lambda: model.from_json(value))  # noqa: B023
