"""Repositories, manifests and tags through ``azurecr.ContainerRegistryClient`` against the
real test bed (distribution + the ACR-compatible service)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)

import azurecr
from azurecr import (
    ArtifactArchitecture,
    ArtifactManifestOrder,
    ArtifactManifestProperties,
    ArtifactTagOrder,
    ArtifactTagProperties,
    RepositoryProperties,
)
from tests.testbed import TestBed

from ._clients import RecordingTransport, TestbedCredential
from ._content import push_image, push_index, unique_repository

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


@pytest.fixture
def client(testbed: TestBed) -> Iterator[azurecr.ContainerRegistryClient]:
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


def _denied(exc: pytest.ExceptionInfo[HttpResponseError]) -> None:
    assert not isinstance(exc.value, ResourceNotFoundError)
    assert exc.value.status_code == 405
    assert exc.value.error is not None and exc.value.error.code == "DENIED"


def test_list_repository_names_pages_and_resumes(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    mine = sorted(unique_repository("paging") for _ in range(3))
    for i, repo in enumerate(mine):
        push_image(testbed, repo, "v1", layer=bytes([i]))
    everything = list(client.list_repository_names())
    assert everything == sorted(everything)
    assert set(mine) <= set(everything)
    pages = [list(p) for p in client.list_repository_names(results_per_page=2).by_page()]
    assert len(pages) >= 2 and all(1 <= len(p) <= 2 for p in pages)
    assert [n for p in pages for n in p] == everything
    # Resume from the continuation token (the next link) and from an item name.
    pager = client.list_repository_names(results_per_page=2).by_page()
    first = list(next(pager))
    token = pager.continuation_token
    assert isinstance(token, str) and "last=" in token
    rest = [n for p in client.list_repository_names().by_page(continuation_token=token) for n in p]
    assert first + rest == everything
    after = list(client.list_repository_names().by_page(continuation_token=mine[0]))
    assert [n for p in after for n in p] == everything[everything.index(mine[0]) + 1 :]


def test_repository_properties_update_is_enforced_and_delete(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository()
    push_image(testbed, repo, "v1", "v2")
    props = client.get_repository_properties(repo)
    assert isinstance(props, RepositoryProperties)
    assert (props.name, props.manifest_count, props.tag_count) == (repo, 1, 2)
    assert props.can_delete is True and props.created_on is not None

    updated = client.update_repository_properties(repo, can_delete=False)
    assert updated.can_delete is False and updated.can_write is True
    assert client.get_repository_properties(repo).can_delete is False
    with pytest.raises(HttpResponseError) as exc:
        client.delete_repository(repo)
    _denied(exc)

    # A model works too; keywords win over it.
    model = RepositoryProperties(can_delete=False, can_list=True)
    updated = client.update_repository_properties(repo, model, can_delete=True)
    assert updated.can_delete is True and model.can_delete is False
    client.delete_repository(repo)
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_repository_properties(repo)
    assert missing.value.error is not None and missing.value.error.code == "NAME_UNKNOWN"
    client.delete_repository(repo)  # already gone: succeeds
    assert repo not in list(client.list_repository_names())


def test_manifests_list_in_both_orders_and_pages(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository()
    d1, s1 = push_image(testbed, repo, "one", layer=b"1")
    time.sleep(0.01)
    d2, s2 = push_image(testbed, repo, "two", layer=b"2", arch="arm64")
    time.sleep(0.01)
    d3 = push_index(
        testbed, repo, "multi", [(d1, s1, "amd64", "linux"), (d2, s2, "arm64", "linux")]
    )

    asc = list(
        client.list_manifest_properties(
            repo, order_by=ArtifactManifestOrder.LAST_UPDATED_ON_ASCENDING
        )
    )
    assert [m.digest for m in asc] == [d1, d2, d3]
    desc = client.list_manifest_properties(repo, order_by="timedesc", results_per_page=1)
    pages = [list(p) for p in desc.by_page()]
    assert [[m.digest for m in p] for p in pages] == [[d3], [d2], [d1]]
    assert sorted(m.digest for m in client.list_manifest_properties(repo)) == sorted([d1, d2, d3])

    by_digest = {m.digest: m for m in asc}
    image, index = by_digest[d2], by_digest[d3]
    assert isinstance(image, ArtifactManifestProperties)
    assert image.architecture is ArtifactArchitecture.ARM64
    assert image.media_type == DOCKER_MANIFEST and image.config_media_type is not None
    assert image.tags == ["two"] and image.related_artifacts == []
    assert image.repository_name == repo
    assert index.media_type == DOCKER_LIST and index.architecture is None
    assert [(r.digest, r.architecture) for r in index.related_artifacts] == [
        (d1, ArtifactArchitecture.AMD64),
        (d2, ArtifactArchitecture.ARM64),
    ]
    host = testbed.endpoint.split("://", 1)[1]
    assert index.fully_qualified_reference == f"{host}/{repo}@{d3}"


def test_manifest_properties_by_tag_or_digest_update_and_delete(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository()
    digest, _ = push_image(testbed, repo, "v1", "latest")
    push_image(testbed, repo, "keep", layer=b"keep")  # the repository outlives the delete
    by_tag = client.get_manifest_properties(repo, "latest")
    by_digest = client.get_manifest_properties(repo, digest)
    assert by_tag.digest == by_digest.digest == digest
    assert by_tag.tags == ["latest", "v1"]

    updated = client.update_manifest_properties(repo, "v1", can_delete=False, can_write=False)
    assert (updated.can_delete, updated.can_write, updated.can_read) == (False, False, True)
    with pytest.raises(HttpResponseError) as exc:
        client.delete_manifest(repo, digest)
    _denied(exc)
    model = ArtifactManifestProperties(can_delete=True, can_write=True)
    assert client.update_manifest_properties(repo, digest, model).can_delete is True

    client.delete_manifest(repo, "latest")  # resolves the tag, deletes by digest
    with pytest.raises(ResourceNotFoundError):
        client.get_manifest_properties(repo, digest)
    assert [t.name for t in client.list_tag_properties(repo)] == ["keep"]
    client.delete_manifest(repo, digest)  # absent: succeeds
    client.delete_manifest(repo, "latest")  # absent tag: succeeds
    with pytest.raises(ResourceNotFoundError):
        client.update_manifest_properties(repo, "latest", can_read=True)


def test_tags_filter_order_page_update_and_delete(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository()
    d1, _ = push_image(testbed, repo, "b", layer=b"1")
    time.sleep(0.01)
    d2, _ = push_image(testbed, repo, "c", "a", layer=b"2")
    time.sleep(0.01)
    push_image(testbed, repo, "d", layer=b"1")  # same image as "b": same digest

    assert [t.name for t in client.list_tag_properties(repo)] == ["a", "b", "c", "d"]
    asc = client.list_tag_properties(repo, order_by=ArtifactTagOrder.LAST_UPDATED_ON_ASCENDING)
    names_asc = [t.name for t in asc]
    assert names_asc[0] == "b" and names_asc[-1] == "d"
    desc = client.list_tag_properties(repo, order_by="timedesc", results_per_page=3)
    pages = [[t.name for t in p] for p in desc.by_page()]
    assert [len(p) for p in pages] == [3, 1]
    assert [n for p in pages for n in p] == list(reversed(names_asc))
    filtered = client.list_tag_properties(repo, digest=d1, results_per_page=1)
    assert [[t.name for t in p] for p in filtered.by_page()] == [["b"], ["d"]]
    assert {t.digest for t in client.list_tag_properties(repo, digest=d2)} == {d2}

    tag = client.get_tag_properties(repo, "a")
    assert isinstance(tag, ArtifactTagProperties)
    assert (tag.name, tag.digest, tag.repository_name) == ("a", d2, repo)
    updated = client.update_tag_properties(repo, "a", can_delete=False)
    assert updated.can_delete is False and updated.repository_name == repo
    with pytest.raises(HttpResponseError) as exc:
        client.delete_tag(repo, "a")
    _denied(exc)
    client.update_tag_properties(repo, "a", ArtifactTagProperties(can_delete=True))
    client.delete_tag(repo, "a")
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_tag_properties(repo, "a")
    assert missing.value.error is not None and missing.value.error.code == "TAG_UNKNOWN"
    client.delete_tag(repo, "a")  # absent: succeeds
    assert client.get_manifest_properties(repo, d2).tags == ["c"]  # the manifest stays


def test_bad_arguments_raise_before_any_request(testbed: TestBed) -> None:
    transport = RecordingTransport(connection_verify=testbed.ca_path)
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), transport=transport
    ) as c:
        calls = [
            lambda: c.get_repository_properties("Bad/Name"),
            lambda: c.update_repository_properties("a//b", can_delete=True),
            lambda: c.delete_repository("-a"),
            lambda: c.list_manifest_properties("UPPER"),
            lambda: c.list_manifest_properties("ok", order_by="sideways"),
            lambda: c.get_manifest_properties("ok", "sha256:abc"),
            lambda: c.update_manifest_properties("ok", ".tag", can_read=True),
            lambda: c.delete_manifest("ok", "bad tag"),
            lambda: c.list_tag_properties("ok", digest="sha256:xyz"),
            lambda: c.list_tag_properties("ok", results_per_page=0),
            lambda: c.list_repository_names(results_per_page=-1),
            lambda: c.get_tag_properties("ok", "a:b"),
            lambda: c.update_tag_properties("ok", "-x", can_read=True),
            lambda: c.delete_tag("ok", "x" * 129),
        ]
        for call in calls:
            with pytest.raises(ValueError):
                call()
    assert transport.log == []


def test_refused_credential_is_an_authentication_error(testbed: TestBed) -> None:
    credential = AzureNamedKeyCredential(testbed.admin_username, "wrong")
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, credential, connection_verify=testbed.ca_path
    ) as c:
        with pytest.raises(ClientAuthenticationError):
            c.get_repository_properties("library/hello")
        with pytest.raises(ClientAuthenticationError):
            list(c.list_repository_names())
