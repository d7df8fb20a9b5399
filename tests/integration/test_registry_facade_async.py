"""Async twin of test_registry_facade.py: ``azurecr.aio.ContainerRegistryClient`` against the
real test bed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)

import azurecr.aio
from azurecr import (
    ArtifactArchitecture,
    ArtifactManifestOrder,
    ArtifactManifestProperties,
    ArtifactTagOrder,
    ArtifactTagProperties,
    RepositoryProperties,
)
from tests.testbed import TestBed

from ._clients import AsyncRecordingTransport, AsyncTestbedCredential
from ._content import push_image, push_index, unique_repository

Client = azurecr.aio.ContainerRegistryClient


@pytest.fixture
async def client(testbed: TestBed) -> AsyncIterator[Client]:
    async with Client(
        testbed.endpoint, AsyncTestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


async def _all(pager: Any) -> list[Any]:
    return [x async for x in pager]


async def _pages(pager: Any, **kwargs: Any) -> list[list[Any]]:
    return [[x async for x in page] async for page in pager.by_page(**kwargs)]


def _denied(exc: pytest.ExceptionInfo[HttpResponseError]) -> None:
    assert not isinstance(exc.value, ResourceNotFoundError)
    assert exc.value.error is not None and exc.value.error.code == "DENIED"


async def test_list_repository_names_pages_and_resumes(testbed: TestBed, client: Client) -> None:
    mine = sorted(unique_repository("apaging") for _ in range(3))
    for i, repo in enumerate(mine):
        push_image(testbed, repo, "v1", layer=bytes([i]))
    everything = await _all(client.list_repository_names())
    assert everything == sorted(everything) and set(mine) <= set(everything)
    pages = await _pages(client.list_repository_names(results_per_page=2))
    assert len(pages) >= 2 and all(1 <= len(p) <= 2 for p in pages)
    assert [n for p in pages for n in p] == everything
    pager = client.list_repository_names(results_per_page=2).by_page()
    first = [x async for x in await pager.__anext__()]
    token = pager.continuation_token
    rest = await _pages(client.list_repository_names(), continuation_token=token)
    assert first + [n for p in rest for n in p] == everything


async def test_repository_properties_update_is_enforced_and_delete(
    testbed: TestBed, client: Client
) -> None:
    repo = unique_repository()
    push_image(testbed, repo, "v1", "v2")
    props = await client.get_repository_properties(repo)
    assert isinstance(props, RepositoryProperties)
    assert (props.name, props.manifest_count, props.tag_count) == (repo, 1, 2)
    assert (await client.update_repository_properties(repo, can_delete=False)).can_delete is False
    with pytest.raises(HttpResponseError) as exc:
        await client.delete_repository(repo)
    _denied(exc)
    updated = await client.update_repository_properties(repo, RepositoryProperties(can_delete=True))
    assert updated.can_delete is True
    await client.delete_repository(repo)
    with pytest.raises(ResourceNotFoundError):
        await client.get_repository_properties(repo)
    await client.delete_repository(repo)  # already gone: succeeds


async def test_manifests_list_in_both_orders_and_pages(testbed: TestBed, client: Client) -> None:
    repo = unique_repository()
    d1, s1 = push_image(testbed, repo, "one", layer=b"1")
    await asyncio.sleep(0.01)
    d2, s2 = push_image(testbed, repo, "two", layer=b"2", arch="arm64")
    await asyncio.sleep(0.01)
    d3 = push_index(
        testbed, repo, "multi", [(d1, s1, "amd64", "linux"), (d2, s2, "arm64", "linux")]
    )
    asc = await _all(
        client.list_manifest_properties(
            repo, order_by=ArtifactManifestOrder.LAST_UPDATED_ON_ASCENDING
        )
    )
    assert [m.digest for m in asc] == [d1, d2, d3]
    pages = await _pages(
        client.list_manifest_properties(repo, order_by="timedesc", results_per_page=1)
    )
    assert [[m.digest for m in p] for p in pages] == [[d3], [d2], [d1]]
    index = asc[2]
    assert isinstance(index, ArtifactManifestProperties)
    assert [(r.digest, r.architecture) for r in index.related_artifacts] == [
        (d1, ArtifactArchitecture.AMD64),
        (d2, ArtifactArchitecture.ARM64),
    ]


async def test_manifest_properties_by_tag_or_digest_update_and_delete(
    testbed: TestBed, client: Client
) -> None:
    repo = unique_repository()
    digest, _ = push_image(testbed, repo, "v1", "latest")
    push_image(testbed, repo, "keep", layer=b"keep")
    assert (await client.get_manifest_properties(repo, "latest")).digest == digest
    assert (await client.get_manifest_properties(repo, digest)).tags == ["latest", "v1"]
    updated = await client.update_manifest_properties(repo, "v1", can_delete=False)
    assert updated.can_delete is False
    with pytest.raises(HttpResponseError) as exc:
        await client.delete_manifest(repo, digest)
    _denied(exc)
    await client.update_manifest_properties(repo, digest, can_delete=True)
    await client.delete_manifest(repo, "latest")
    with pytest.raises(ResourceNotFoundError):
        await client.get_manifest_properties(repo, digest)
    await client.delete_manifest(repo, digest)  # absent: succeeds
    await client.delete_manifest(repo, "latest")  # absent tag: succeeds


async def test_tags_filter_order_page_update_and_delete(testbed: TestBed, client: Client) -> None:
    repo = unique_repository()
    d1, _ = push_image(testbed, repo, "b", layer=b"1")
    await asyncio.sleep(0.01)
    d2, _ = push_image(testbed, repo, "c", "a", layer=b"2")
    await asyncio.sleep(0.01)
    push_image(testbed, repo, "d", layer=b"1")
    assert [t.name for t in await _all(client.list_tag_properties(repo))] == ["a", "b", "c", "d"]
    asc = await _all(
        client.list_tag_properties(repo, order_by=ArtifactTagOrder.LAST_UPDATED_ON_ASCENDING)
    )
    desc = await _pages(client.list_tag_properties(repo, order_by="timedesc", results_per_page=3))
    assert [len(p) for p in desc] == [3, 1]
    assert [t.name for p in desc for t in p] == [t.name for t in reversed(asc)]
    filtered = await _pages(client.list_tag_properties(repo, digest=d1, results_per_page=1))
    assert [[t.name for t in p] for p in filtered] == [["b"], ["d"]]
    tag = await client.get_tag_properties(repo, "a")
    assert isinstance(tag, ArtifactTagProperties)
    assert (tag.digest, tag.repository_name) == (d2, repo)
    assert (await client.update_tag_properties(repo, "a", can_delete=False)).can_delete is False
    with pytest.raises(HttpResponseError) as exc:
        await client.delete_tag(repo, "a")
    _denied(exc)
    await client.update_tag_properties(repo, "a", ArtifactTagProperties(can_delete=True))
    await client.delete_tag(repo, "a")
    with pytest.raises(ResourceNotFoundError):
        await client.get_tag_properties(repo, "a")
    await client.delete_tag(repo, "a")  # absent: succeeds


async def test_bad_arguments_raise_before_any_request(testbed: TestBed) -> None:
    transport = AsyncRecordingTransport(connection_verify=testbed.ca_path)
    async with Client(testbed.endpoint, AsyncTestbedCredential(testbed), transport=transport) as c:
        for coro in (
            lambda: c.get_repository_properties("Bad/Name"),
            lambda: c.update_repository_properties("a//b", can_delete=True),
            lambda: c.delete_repository("-a"),
            lambda: c.get_manifest_properties("ok", "sha256:abc"),
            lambda: c.update_manifest_properties("ok", ".tag", can_read=True),
            lambda: c.delete_manifest("ok", "bad tag"),
            lambda: c.get_tag_properties("ok", "a:b"),
            lambda: c.update_tag_properties("ok", "-x", can_read=True),
            lambda: c.delete_tag("ok", "x" * 129),
        ):
            with pytest.raises(ValueError):
                await coro()
        for call in (
            lambda: c.list_manifest_properties("UPPER"),
            lambda: c.list_tag_properties("ok", digest="sha256:xyz"),
            lambda: c.list_repository_names(results_per_page=0),
        ):
            with pytest.raises(ValueError):
                call()
    assert transport.log == []


async def test_refused_credential_is_an_authentication_error(testbed: TestBed) -> None:
    credential = AzureNamedKeyCredential(testbed.admin_username, "wrong")
    async with Client(testbed.endpoint, credential, connection_verify=testbed.ca_path) as c:
        with pytest.raises(ClientAuthenticationError):
            await c.get_repository_properties("library/hello")
        with pytest.raises(ClientAuthenticationError):
            await _all(c.list_repository_names())
