"""Whole artifacts, async: the twin of ``azurecr._artifacts`` with tasks instead of threads.

The decisions live in ``azurecr._artifact_logic``; this module only runs the requests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union, cast

from azure.core.async_paging import AsyncItemPaged, AsyncList
from azure.core.exceptions import ResourceNotFoundError
from azure.core.rest import AsyncHttpResponse, HttpRequest

from .. import _artifact_logic as alogic
from .._artifact_logic import ArtifactFile, CopyNode, CopyPlan, Progress, PulledArtifact
from .._digest import Digest
from .._generated.operations._container_registry_operations import (
    build_get_referrers_request,
)
from .._oci_models import OciDescriptor, OciImageIndex
from .._reference import validate_digest, validate_repository
from .._transfer import ProgressHook
from ._blob_io_async import raise_for_status_async

if TYPE_CHECKING:
    from ._async_container_registry_client import ContainerRegistryClient
    from ._download_stream_async import AsyncDownloadBlobStream

__all__ = ["copy_artifact"]

T = TypeVar("T")
MAX_INDEX_DEPTH = 8
READ_PIECE = 1024 * 1024


async def run_all(tasks: list[Callable[[], Awaitable[T]]], max_concurrency: int) -> list[T]:
    """Run ``tasks`` with at most ``max_concurrency`` at once; results in order. The first
    failure cancels the others and is raised."""
    gate = asyncio.Semaphore(max_concurrency)

    async def one(task: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await task()

    futures = [asyncio.ensure_future(one(task)) for task in tasks]
    try:
        return list(await asyncio.gather(*futures))
    except BaseException:
        for future in futures:
            future.cancel()
        await asyncio.gather(*futures, return_exceptions=True)
        raise


# ----------------------------------------------------------------------------- push
async def resolve_subject(
    client: ContainerRegistryClient,
    repository: str,
    subject: Union[str, OciDescriptor, None],
    **kwargs: Any,
) -> Optional[OciDescriptor]:
    if subject is None or isinstance(subject, OciDescriptor):
        return subject
    return alogic.subject_descriptor(await client.get_manifest(repository, subject, **kwargs))


async def push_artifact(
    client: ContainerRegistryClient,
    repository: str,
    files: Iterable[Union[str, os.PathLike[str], ArtifactFile]],
    *,
    config: Union[ArtifactFile, bytes, Mapping[str, Any], None],
    config_media_type: Optional[str],
    artifact_type: Optional[str],
    annotations: Optional[Mapping[str, str]],
    tag: Optional[str],
    subject: Union[str, OciDescriptor, None],
    max_concurrency: int,
    progress_hook: Optional[ProgressHook],
    **kwargs: Any,
) -> Digest:
    concurrency, plan = alogic.check_push(
        repository,
        files,
        config=config,
        config_media_type=config_media_type,
        artifact_type=artifact_type,
        annotations=annotations,
        tag=tag,
        subject=subject,
        max_concurrency=max_concurrency,
        progress_hook=progress_hook,
    )
    subject_descriptor = await resolve_subject(client, repository, subject, **kwargs)
    progress = Progress(plan.total, progress_hook)

    async def push(job: alogic.BlobJob) -> OciDescriptor:
        part = progress.part()
        if job.data is not None:
            digest, size = await client.upload_blob(
                repository, job.data, progress_hook=part, **kwargs
            )
        else:
            assert job.path is not None
            digest, size = await asyncio.to_thread(alogic.file_digest, job.path)
            with open(job.path, "rb") as f:  # noqa: ASYNC230 - read in worker threads
                await client.upload_blob(repository, f, digest=digest, progress_hook=part, **kwargs)
        part(size, size)  # a blob the registry had reports nothing while "uploading"
        return job.descriptor(digest, size)

    descriptors = await run_all([partial(push, job) for job in plan.jobs], concurrency)
    manifest = alogic.build_manifest(plan, descriptors, subject_descriptor)
    return Digest(await client.set_manifest(repository, manifest, tag=tag, **kwargs))


# ----------------------------------------------------------------------------- pull
async def pull_artifact(
    client: ContainerRegistryClient,
    repository: str,
    reference: str,
    directory: Union[str, os.PathLike[str]],
    *,
    platform: Any,
    max_concurrency: int,
    progress_hook: Optional[ProgressHook],
    **kwargs: Any,
) -> PulledArtifact:
    concurrency, wanted, root = alogic.check_pull(
        repository, reference, directory, platform, max_concurrency, progress_hook
    )
    result = await client.get_manifest(repository, reference, **kwargs)
    entry = alogic.platform_entry(result, wanted)
    if entry is not None:
        result = await client.get_manifest(repository, entry.digest, **kwargs)
    model = alogic.image_model(result, f"{repository}:{reference}")
    targets = alogic.pull_targets(model)
    alogic.check_destinations(root, targets)
    unique = {descriptor.digest: descriptor for descriptor, _ in targets}
    progress = Progress(sum(d.size for d in unique.values()), progress_hook)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".azurecr-pull-", dir=root))
    try:
        staged: dict[str, Path] = {d: staging / str(i) for i, d in enumerate(unique)}

        async def fetch(digest: str) -> None:
            await client.download_blob_to_file(
                repository, digest, staged[digest], progress_hook=progress.part(), **kwargs
            )

        await run_all([partial(fetch, d) for d in unique], concurrency)
        files = alogic.place_files(root, targets, staged)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PulledArtifact(Digest(result.digest), model, files)


# ----------------------------------------------------------------------------- copy
class _RemoteReader(alogic.RemotePosition):
    """A blob of the source registry as a seekable readable, so the destination takes it as
    one streamed upload (1 MiB pieces, bounded memory), as in the sync copy.

    The async upload reads a seekable source in worker threads; each read here hands the
    network read to the event loop and waits for it, so the reads stay on the loop's
    connections. Reads go through a verified ``AsyncDownloadBlobStream``, opened on the
    first read; a seek elsewhere (a resumed or restarted upload) opens a new one and skips
    to the offset."""

    def __init__(
        self,
        open_stream: Callable[[], Awaitable[AsyncDownloadBlobStream]],
        size: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(size)
        self._open = open_stream
        self._loop = loop
        self._stream: Optional[AsyncDownloadBlobStream] = None

    def read(self, n: int = -1) -> bytes:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise RuntimeError("the copy reader must be read from a worker thread")
        return asyncio.run_coroutine_threadsafe(self._read(n), self._loop).result()

    async def _read(self, n: int) -> bytes:
        if self.must_reopen(self._stream is not None):
            await self.aclose()
            self._stream = await self._open()
        assert self._stream is not None
        while (want := self.to_skip()) > 0 and self.skipped(len(await self._stream.read(want))):
            pass
        data = await self._stream.read(n)
        self.delivered(len(data))
        return data

    async def aclose(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.close()


def _pair(value: Any, what: str) -> tuple[ContainerRegistryClient, str]:
    from ._async_container_registry_client import ContainerRegistryClient

    return alogic.check_pair(value, what, ContainerRegistryClient)


async def copy_artifact(
    source: tuple[ContainerRegistryClient, str],
    reference: str,
    destination: tuple[ContainerRegistryClient, str],
    *,
    tags: Optional[Iterable[str]] = None,
    include_referrers: bool = False,
    max_concurrency: int = 4,
    progress_hook: Optional[ProgressHook] = None,
    **kwargs: Any,
) -> Digest:
    """Copy an artifact (a manifest, or an index with all its children, and their blobs)
    from one repository to another, in the same registry or another one.

    The async twin of :func:`azurecr.copy_artifact`, with ``azurecr.aio`` clients.

    :param source: the client and repository to copy from.
    :type source: tuple[~azurecr.aio.ContainerRegistryClient, str]
    :param str reference: the tag or digest to copy.
    :param destination: the client and repository to copy to.
    :type destination: tuple[~azurecr.aio.ContainerRegistryClient, str]
    :keyword tags: tags to set at the destination (default: the source tag when
        ``reference`` is a tag; none for a digest).
    :paramtype tags: list[str] or None
    :keyword bool include_referrers: also copy the artifacts that refer to the copied
        manifests (signatures, SBOMs), and theirs.
    :keyword int max_concurrency: blobs transferred at once (default 4).
    :keyword progress_hook: called as ``progress_hook(bytes_done, bytes_total)`` over all
        blobs.
    :return: the digest of the copied manifest.
    :rtype: ~azurecr.Digest
    :raises TypeError: for a source or destination that is not a ``(client, repository)``
        pair, or other arguments of the wrong type (before any request).
    :raises ValueError: for invalid names or references (before any request), or a manifest
        of a media type that cannot be copied.
    :raises ~azurecr.DigestValidationError: when content does not match its digest.
    :raises ~azure.core.exceptions.ResourceNotFoundError: when the source does not exist.
    """
    src, src_repo = _pair(source, "source")
    dst, dst_repo = _pair(destination, "destination")
    tag_list, concurrency = alogic.check_copy(
        src_repo, reference, tags, include_referrers, max_concurrency, progress_hook
    )
    plan = CopyPlan()
    seen: set[str] = set()

    async def visit(ref: str, depth: int) -> CopyNode:
        if depth > MAX_INDEX_DEPTH:
            raise ValueError(f"manifests nest deeper than {MAX_INDEX_DEPTH} levels")
        result = await src.get_manifest(src_repo, ref, **kwargs)
        node = CopyNode(Digest(result.digest), result.media_type, result.content)
        if node.digest in seen:
            return node
        seen.add(node.digest)
        for child in alogic.copy_children(result, plan):
            await visit(child.digest, depth + 1)
        plan.manifests.append(node)
        if include_referrers:
            async for referrer in list_referrers(src, src_repo, node.digest, **kwargs):
                await visit(referrer.digest, depth + 1)
        return node

    root = await visit(reference, 0)
    same = alogic.same_registry(src.endpoint, dst.endpoint)
    progress = Progress(plan.total, progress_hook)

    async def copy_blob(descriptor: OciDescriptor) -> None:
        part = progress.part()
        if same and src_repo == dst_repo:
            part(descriptor.size, descriptor.size)
            return
        if same and await dst.mount_blob(dst_repo, descriptor.digest, src_repo, **kwargs):
            part(descriptor.size, descriptor.size)
            return
        reader = _RemoteReader(
            partial(src.download_blob, src_repo, descriptor.digest, **kwargs),
            descriptor.size,
            asyncio.get_running_loop(),
        )
        try:
            await dst.upload_blob(
                dst_repo,
                cast(IO[bytes], reader),
                digest=descriptor.digest,
                progress_hook=part,
                **kwargs,
            )
        finally:
            await reader.aclose()
        part(descriptor.size, descriptor.size)

    await run_all([partial(copy_blob, d) for d in plan.blobs.values()], concurrency)
    for node in plan.manifests:
        if not await dst.manifest_exists(dst_repo, node.digest, **kwargs):
            await dst.set_manifest(dst_repo, node.content, media_type=node.media_type, **kwargs)
    for tag in tag_list:
        await dst.set_manifest(
            dst_repo, root.content, media_type=root.media_type, tag=tag, **kwargs
        )
    return root.digest


# ----------------------------------------------------------------------------- referrers
async def _get_referrers(
    client: ContainerRegistryClient,
    repository: str,
    digest: str,
    artifact_type: Optional[str],
    link: Optional[str] = None,
    **kwargs: Any,
) -> Optional[AsyncHttpResponse]:
    """One page of the referrers API, sent raw (see the sync twin); None without the API."""
    if link is None:
        request = build_get_referrers_request(repository, digest, artifact_type=artifact_type)
    else:
        request = HttpRequest("GET", link)
    response = cast(AsyncHttpResponse, await client._client._send_request(request, **kwargs))
    if response.status_code == 404 and link is None:
        await response.close()
        client._referrers_api = False
        return None
    await raise_for_status_async(response, (200,))
    client._referrers_api = True
    return response


def list_referrers(
    client: ContainerRegistryClient,
    repository: str,
    digest: str,
    *,
    artifact_type: Optional[str] = None,
    **kwargs: Any,
) -> AsyncItemPaged[OciDescriptor]:
    validate_repository(repository)
    validate_digest(digest)
    alogic.check_artifact_type(artifact_type)
    endpoint = client.endpoint

    async def get_next(link: Optional[str]) -> tuple[list[OciDescriptor], Optional[str]]:
        response = await _get_referrers(client, repository, digest, artifact_type, link, **kwargs)
        if response is None:
            items = await fallback_referrers(client, repository, digest, artifact_type, **kwargs)
            return items, None
        body = await response.read()
        return alogic.referrers_page(body, response.headers, artifact_type, endpoint)

    async def extract_data(
        page: tuple[list[OciDescriptor], Optional[str]],
    ) -> tuple[Optional[str], AsyncIterator[OciDescriptor]]:
        items, link = page
        return link, AsyncList(items)

    return AsyncItemPaged(get_next, extract_data)


async def fallback_referrers(
    client: ContainerRegistryClient,
    repository: str,
    digest: str,
    artifact_type: Optional[str],
    **kwargs: Any,
) -> list[OciDescriptor]:
    """The referrers tag schema: the index tagged ``<alg>-<hex>`` lists the referrers."""
    try:
        result = await client.get_manifest(repository, alogic.referrers_tag(digest), **kwargs)
    except ResourceNotFoundError:
        return []
    return alogic.filter_referrers(alogic.referrers_from_index(result.content), artifact_type)


async def referrers_api_supported(
    client: ContainerRegistryClient, repository: str, digest: str, **kwargs: Any
) -> bool:
    """Whether the registry has the referrers API (asked once per client)."""
    if client._referrers_api is None:
        response = await _get_referrers(client, repository, digest, None, **kwargs)
        if response is not None:
            await response.close()
    return bool(client._referrers_api)


async def update_referrers_fallback(
    client: ContainerRegistryClient,
    repository: str,
    subject: OciDescriptor,
    referrer: OciDescriptor,
    **kwargs: Any,
) -> None:
    """Add ``referrer`` to the fallback index of ``subject`` (tag ``<alg>-<hex>``)."""
    tag = alogic.referrers_tag(subject.digest)
    existing: Optional[OciImageIndex] = None
    try:
        result = await client.get_manifest(repository, tag, **kwargs)
    except ResourceNotFoundError:
        pass
    else:
        existing = alogic.fallback_index(result, tag)
    updated = alogic.with_referrer(existing, referrer)
    if updated is not None:
        await client.set_manifest(repository, updated, tag=tag, **kwargs)
