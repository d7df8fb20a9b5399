"""Public models: 1.2.0 names and keywords, its faults fixed, converters both ways."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from azurecr import (
    ArtifactArchitecture,
    ArtifactManifestOrder,
    ArtifactManifestProperties,
    ArtifactManifestReference,
    ArtifactOperatingSystem,
    ArtifactTagOrder,
    ArtifactTagProperties,
    RepositoryProperties,
)
from azurecr._client_logic import writeable
from azurecr._errors import acr_error_of, ignore_not_found, service_errors
from azurecr._generated import models as gen
from azurecr._generated._utils.serialization import Deserializer

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
_deserialize = Deserializer({k: v for k, v in vars(gen).items() if isinstance(v, type)})


def _manifest(body: dict[str, object]) -> ArtifactManifestProperties:
    generated = _deserialize("ManifestAttributesBase", body)
    return ArtifactManifestProperties._from_generated(
        generated, repository_name="library/hello", registry="https://myreg.azurecr.io"
    )


BASE = {
    "digest": D1,
    "imageSize": 10,
    "createdTime": "2024-01-02T03:04:05Z",
    "lastUpdateTime": "2024-01-02T03:04:06Z",
    "changeableAttributes": {
        "deleteEnabled": True,
        "writeEnabled": False,
        "readEnabled": True,
        "listEnabled": True,
    },
}


def test_manifest_properties_from_a_manifest_list() -> None:
    props = _manifest(
        {
            **BASE,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "references": [
                {"digest": D2, "architecture": "arm64", "os": "linux"},
                {"digest": D1, "architecture": "unknown", "os": "unknown"},
            ],
            "tags": None,
        }
    )
    assert props.digest == D1
    assert props.size_in_bytes == 10
    assert props.created_on == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert props.media_type == "application/vnd.oci.image.index.v1+json"
    assert props.tags == []  # null list -> empty list
    assert props.related_artifacts == [
        ArtifactManifestReference(digest=D2, architecture="arm64", operating_system="linux"),
        ArtifactManifestReference(digest=D1, architecture="unknown", operating_system="unknown"),
    ]
    first, second = props.related_artifacts
    assert first.architecture is ArtifactArchitecture.ARM64
    assert first.operating_system is ArtifactOperatingSystem.LINUX
    assert type(second.architecture) is str and second.architecture == "unknown"
    assert (props.can_delete, props.can_write, props.can_read, props.can_list) == (
        True,
        False,
        True,
        True,
    )
    # The digest keeps its algorithm (1.2.0 drops "sha256:").
    assert props.fully_qualified_reference == f"myreg.azurecr.io/library/hello@{D1}"


def test_manifest_properties_of_an_image() -> None:
    props = _manifest(
        {
            **BASE,
            "architecture": "AMD64",
            "os": "windows",
            "configMediaType": "application/vnd.oci.image.config.v1+json",
            "tags": ["v1", "latest"],
        }
    )
    assert props.architecture is ArtifactArchitecture.AMD64  # case-insensitive enum
    assert props.operating_system is ArtifactOperatingSystem.WINDOWS
    assert props.config_media_type == "application/vnd.oci.image.config.v1+json"
    assert props.media_type is None
    assert props.tags == ["v1", "latest"]
    assert props.related_artifacts == []  # missing list -> empty list
    assert _manifest({**BASE, "architecture": "loong64"}).architecture == "loong64"


def test_tag_and_repository_properties_from_generated() -> None:
    tag = _deserialize(
        "TagAttributes",
        {
            "registry": "myreg.azurecr.io",
            "imageName": "library/hello",
            "tag": {
                "name": "v1",
                "digest": D1,
                "createdTime": "2024-01-02T03:04:05Z",
                "lastUpdateTime": "2024-01-02T03:04:05Z",
                "changeableAttributes": {"deleteEnabled": False},
            },
        },
    )
    props = ArtifactTagProperties._from_generated(tag.tag, repository_name="library/hello")
    assert (props.name, props.digest, props.repository_name) == ("v1", D1, "library/hello")
    assert props.can_delete is False and props.can_write is None

    repo = _deserialize(
        "RepositoryAttributes",
        {
            "registry": "myreg.azurecr.io",
            "imageName": "library/hello",
            "createdTime": "2024-01-02T03:04:05Z",
            "lastUpdateTime": "2024-01-02T03:04:05Z",
            "manifestCount": 2,
            "tagCount": 3,
            "changeableAttributes": {"deleteEnabled": True, "teleportEnabled": False},
        },
    )
    rp = RepositoryProperties._from_generated(repo)
    assert (rp.name, rp.manifest_count, rp.tag_count, rp.can_delete) == (
        "library/hello",
        2,
        3,
        True,
    )
    with pytest.warns(DeprecationWarning):
        assert rp.last_udpated_on == rp.last_updated_on


@pytest.mark.parametrize(
    "model", [RepositoryProperties(), ArtifactTagProperties(), ArtifactManifestProperties()]
)
def test_typo_and_read_only_attributes_raise(model: object) -> None:
    with pytest.raises(AttributeError):
        model.can_delet = False  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        model.created_on = None  # type: ignore[misc]
    model.can_delete = False  # type: ignore[attr-defined]


def test_constructor_keywords_of_1_2_0() -> None:
    props = ArtifactManifestProperties(cpu_architecture="arm", operating_system="linux", tags=None)
    assert props.architecture is ArtifactArchitecture.ARM and props.tags == []
    with pytest.raises(TypeError):
        ArtifactTagProperties(can_delet=True)  # type: ignore[call-arg]


def test_orders() -> None:
    assert (
        ArtifactManifestOrder["last_updated_on_descending"]
        is ArtifactManifestOrder.LAST_UPDATED_ON_DESCENDING
    )
    assert ArtifactTagOrder.LAST_UPDATED_ON_ASCENDING == "timeasc"


def test_writeable_merges_keywords_over_the_model_without_changing_it() -> None:
    model = ArtifactTagProperties(can_delete=True, can_write=True)
    value = writeable(ArtifactTagProperties, model, False, None, None, None)
    assert isinstance(value, gen.TagChangeableAttributes)
    assert value.serialize() == {"deleteEnabled": False, "writeEnabled": True}
    assert model.can_delete is True
    empty = writeable(RepositoryProperties, None, None, True, None, None)
    assert empty.serialize() == {"listEnabled": True}
    with pytest.raises(TypeError):
        writeable(RepositoryProperties, model, None, None, None, None)  # type: ignore[type-var]


class _Response:
    reason = "Method Not Allowed"
    status_code = 405

    def __init__(self, body: object) -> None:
        self.body = body

    def text(self) -> str:
        return json.dumps(self.body)


def test_service_errors_keep_the_acr_code_and_message() -> None:
    body = {"errors": [{"code": "DENIED", "message": "disallowed", "detail": {}}]}
    with pytest.raises(HttpResponseError) as info, service_errors():
        raise HttpResponseError(response=_Response(body))  # type: ignore[arg-type]
    assert info.value.error is not None and info.value.error.code == "DENIED"
    assert str(info.value) == "(DENIED) disallowed"
    assert acr_error_of({"errors": []}) is None and acr_error_of("x") is None
    with ignore_not_found():
        raise ResourceNotFoundError(response=_Response(body))  # type: ignore[arg-type]
    with pytest.raises(HttpResponseError), ignore_not_found():
        raise HttpResponseError(response=_Response(body))  # type: ignore[arg-type]
