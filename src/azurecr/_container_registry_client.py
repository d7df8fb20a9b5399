"""``ContainerRegistryClient``: the synchronous facade over the generated protocol layer."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import IO, Any, Optional, Union

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.paging import ItemPaged
from azure.core.tracing.decorator import distributed_trace

from . import _artifact_logic as alogic
from . import _artifacts as artifacts
from . import _client_logic as logic
from . import _manifest_logic as mlogic
from ._artifact_logic import ArtifactFile, PulledArtifact
from ._auth_policy import ContainerRegistryChallengePolicy
from ._blob_io import BlobFetcher, download_to_path, run_upload
from ._digest import Digest
from ._download_stream import DownloadBlobStream
from ._errors import ignore_not_found, service_errors
from ._generated import ContainerRegistry as _GeneratedClient
from ._models import (
    ArtifactManifestOrder,
    ArtifactManifestProperties,
    ArtifactTagOrder,
    ArtifactTagProperties,
    RepositoryProperties,
)
from ._oci_models import OciDescriptor, OciPlatform
from ._paging import Page, PageQuery, first_page, item_paged
from ._pipeline import (
    SDK_MONIKER,
    STREAM_BLOCK_SIZE,
    ClientSettings,
    PooledRequestsTransport,
    RedactingNetworkTraceLoggingPolicy,
    redact_transport_logs,
)
from ._reference import is_digest, validate_digest, validate_repository
from ._transfer import (
    MAX_MANIFEST_SIZE,
    ProgressHook,
    check_chunk_size,
    check_concurrency,
    check_progress_hook,
    open_source,
    session_link,
    upload_flow,
)

__all__ = ["ContainerRegistryClient"]


def _headers(pipeline_response: Any, deserialized: Any, headers: dict[str, Any]) -> Any:
    return headers


class ContainerRegistryClient:
    """A client for an Azure Container Registry (or any OCI distribution registry).

    :param str endpoint: the registry's login server, e.g. ``myregistry.azurecr.io`` or
        ``https://myregistry.azurecr.io``; ``https://`` is added when no scheme is given.
    :param credential: a ``TokenCredential`` (AAD, exchanged for ACR tokens), an
        ``AzureNamedKeyCredential(username, password)`` (admin user or repository-scoped
        token), or None for anonymous pull access.
    :type credential: ~azure.core.credentials.TokenCredential or
        ~azure.core.credentials.AzureNamedKeyCredential or None
    :keyword audience: the AAD audience of the registry's cloud; inferred from the login
        server's suffix when not given (``.azurecr.cn``, ``.azurecr.us``), else
        ``https://containerregistry.azure.net``.
    :paramtype audience: str or ~azurecr.ContainerRegistryAudience
    :keyword str api_version: the ACR API version; only ``2021-07-01`` is supported.
    :keyword bool allow_insecure_http: send credentials over plain http (loopback test
        registries only). Defaults to False.
    :keyword kwargs: any azure-core pipeline keyword, passed through: ``transport``,
        ``retry_total``, ``logging_enable``, ``connection_verify``, ``proxies``...
    :raises ValueError: for a malformed endpoint or an unsupported API version.
    :raises TypeError: for a credential of an unsupported type.
    """

    def __init__(
        self,
        endpoint: str,
        credential: Optional[object] = None,
        *,
        audience: Optional[str] = None,
        api_version: Optional[str] = None,
        allow_insecure_http: bool = False,
        **kwargs: Any,
    ) -> None:
        settings = ClientSettings(endpoint, credential, audience, api_version)
        self._endpoint = settings.endpoint
        redact_transport_logs()
        kwargs.setdefault("connection_data_block_size", STREAM_BLOCK_SIZE)
        transport = kwargs.pop("transport", None) or PooledRequestsTransport(**kwargs)
        policy = ContainerRegistryChallengePolicy(
            settings.credential,
            settings.endpoint,
            audience=settings.audience,
            transport=transport,
            allow_insecure_http=allow_insecure_http,
            **kwargs,
        )
        kwargs.setdefault("sdk_moniker", SDK_MONIKER)
        kwargs.setdefault("connection_data_block_size", STREAM_BLOCK_SIZE)
        kwargs.setdefault("logging_policy", RedactingNetworkTraceLoggingPolicy(**kwargs))
        self._client = _GeneratedClient(
            url=settings.endpoint,
            api_version=settings.api_version,
            transport=transport,
            authentication_policy=policy,
            **kwargs,
        )
        # Whether the registry has the OCI referrers API; learned on first use.
        self._referrers_api: Optional[bool] = None

    @property
    def endpoint(self) -> str:
        """The registry endpoint this client talks to (``https://<login server>``)."""
        return self._endpoint

    @distributed_trace
    def ping(self, **kwargs: Any) -> None:
        """Check that the registry speaks the distribution API and accepts the credential.

        Sends ``GET /v2/``, answering the registry's authentication challenge.

        :raises ~azure.core.exceptions.ClientAuthenticationError: when the credential is refused.
        :raises ~azure.core.exceptions.HttpResponseError: for any other failure.
        """
        self._client.container_registry.check_docker_v2_support(**kwargs)

    # -- repositories -------------------------------------------------------------------
    @distributed_trace
    def list_repository_names(
        self, *, results_per_page: Optional[int] = None, **kwargs: Any
    ) -> ItemPaged[str]:
        """List the names of the registry's repositories, in lexical order.

        :keyword int results_per_page: the page size to ask the registry for.
        :return: the repository names; ``by_page(continuation_token=...)`` resumes a listing.
        :rtype: ~azure.core.paging.ItemPaged[str]
        :raises ValueError: for a bad ``results_per_page``.
        :raises ~azure.core.exceptions.HttpResponseError: when the registry refuses.

        .. code-block:: python

            for name in client.list_repository_names():
                print(name)
        """
        first = first_page(results_per_page)
        ops = self._client.container_registry

        def fetch(query: PageQuery) -> Page[str]:
            with service_errors():
                result, link = ops.get_repositories(
                    last=query.last, n=query.n, cls=logic.with_link, **kwargs
                )
            return logic.repository_names_page(result, link, self._endpoint)

        return item_paged(fetch, first, self._endpoint)

    @distributed_trace
    def get_repository_properties(self, repository: str, **kwargs: Any) -> RepositoryProperties:
        """Get the properties of a repository.

        :param str repository: the repository name, e.g. ``library/hello-world``.
        :rtype: ~azurecr.RepositoryProperties
        :raises ValueError: for an invalid repository name (before any request).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when the repository does not exist.
        """
        logic.check_repository(repository)
        with service_errors():
            result = self._client.container_registry.get_properties(repository, **kwargs)
        return logic.repository_properties(result)

    @distributed_trace
    def update_repository_properties(
        self,
        repository: str,
        properties: Optional[RepositoryProperties] = None,
        *,
        can_delete: Optional[bool] = None,
        can_list: Optional[bool] = None,
        can_read: Optional[bool] = None,
        can_write: Optional[bool] = None,
        **kwargs: Any,
    ) -> RepositoryProperties:
        """Change the writeable flags of a repository.

        Flags given as keywords win over those of ``properties``; flags left None keep their
        current value.

        :param str repository: the repository name.
        :param properties: the flags to set, as a model (for example one read before).
        :type properties: ~azurecr.RepositoryProperties or None
        :keyword bool can_delete: whether the repository may be deleted.
        :keyword bool can_list: whether it shows in listings.
        :keyword bool can_read: whether it may be pulled.
        :keyword bool can_write: whether it may be pushed to.
        :return: the repository's properties after the change.
        :rtype: ~azurecr.RepositoryProperties
        :raises ValueError: for an invalid repository name (before any request).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when the repository does not exist.
        """
        logic.check_repository(repository)
        value = logic.writeable(
            RepositoryProperties, properties, can_delete, can_list, can_read, can_write
        )
        with service_errors():
            result = self._client.container_registry.update_properties(repository, value, **kwargs)
        return logic.repository_properties(result)

    @distributed_trace
    def delete_repository(self, repository: str, **kwargs: Any) -> None:
        """Delete a repository with all its manifests and tags; succeeds if it does not exist.

        :param str repository: the repository name.
        :raises ValueError: for an invalid repository name (before any request).
        :raises ~azure.core.exceptions.HttpResponseError: when the registry refuses (for
            example after ``can_delete=False``).
        """
        logic.check_repository(repository)
        with ignore_not_found():
            self._client.container_registry.delete_repository(repository, **kwargs)

    # -- manifests ----------------------------------------------------------------------
    @distributed_trace
    def list_manifest_properties(
        self,
        repository: str,
        *,
        order_by: Optional[Union[ArtifactManifestOrder, str]] = None,
        results_per_page: Optional[int] = None,
        **kwargs: Any,
    ) -> ItemPaged[ArtifactManifestProperties]:
        """List the properties of a repository's manifests.

        :param str repository: the repository name.
        :keyword order_by: ``ArtifactManifestOrder.LAST_UPDATED_ON_DESCENDING`` or
            ``..._ASCENDING``; the registry's default order when not given.
        :paramtype order_by: ~azurecr.ArtifactManifestOrder or str
        :keyword int results_per_page: the page size to ask the registry for.
        :rtype: ~azure.core.paging.ItemPaged[~azurecr.ArtifactManifestProperties]
        :raises ValueError: for an invalid repository name, order or page size.
        :raises ~azure.core.exceptions.ResourceNotFoundError: when the repository does not exist.
        """
        logic.check_repository(repository)
        first = first_page(results_per_page, order_by)
        ops = self._client.container_registry

        def fetch(query: PageQuery) -> Page[ArtifactManifestProperties]:
            with service_errors():
                result, link = ops.get_manifests(
                    repository, cls=logic.with_link, **query.as_kwargs(), **kwargs
                )
            return logic.manifests_page(result, link, self._endpoint, repository)

        return item_paged(fetch, first, self._endpoint)

    def _digest_of(self, repository: str, tag_or_digest: str, **kwargs: Any) -> str:
        if is_digest(tag_or_digest):
            return tag_or_digest
        with service_errors():
            result = self._client.container_registry.get_tag_properties(
                repository, tag_or_digest, **kwargs
            )
        return logic.tag_digest(result)

    @distributed_trace
    def get_manifest_properties(
        self, repository: str, tag_or_digest: str, **kwargs: Any
    ) -> ArtifactManifestProperties:
        """Get the properties of a manifest, by tag or digest.

        :param str repository: the repository name.
        :param str tag_or_digest: a tag, or a digest such as ``sha256:...``.
        :rtype: ~azurecr.ArtifactManifestProperties
        :raises ValueError: for an invalid repository name, tag or digest (before any request).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when it does not exist.

        .. code-block:: python

            props = client.get_manifest_properties("library/hello-world", "latest")
            print(props.digest, props.architecture, props.fully_qualified_reference)
        """
        logic.check_reference(repository, tag_or_digest)
        digest = self._digest_of(repository, tag_or_digest, **kwargs)
        with service_errors():
            result = self._client.container_registry.get_manifest_properties(
                repository, digest, **kwargs
            )
        return logic.manifest_properties(result, repository, self._endpoint)

    @distributed_trace
    def update_manifest_properties(
        self,
        repository: str,
        tag_or_digest: str,
        properties: Optional[ArtifactManifestProperties] = None,
        *,
        can_delete: Optional[bool] = None,
        can_list: Optional[bool] = None,
        can_read: Optional[bool] = None,
        can_write: Optional[bool] = None,
        **kwargs: Any,
    ) -> ArtifactManifestProperties:
        """Change the writeable flags of a manifest (by tag or digest).

        :param str repository: the repository name.
        :param str tag_or_digest: a tag, or a digest.
        :param properties: the flags to set, as a model.
        :type properties: ~azurecr.ArtifactManifestProperties or None
        :keyword bool can_delete: whether the manifest may be deleted.
        :keyword bool can_list: whether it shows in listings.
        :keyword bool can_read: whether it may be pulled.
        :keyword bool can_write: whether it may be overwritten.
        :return: the manifest's properties after the change.
        :rtype: ~azurecr.ArtifactManifestProperties
        :raises ValueError: for an invalid repository name, tag or digest (before any request).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when it does not exist.
        """
        logic.check_reference(repository, tag_or_digest)
        value = logic.writeable(
            ArtifactManifestProperties, properties, can_delete, can_list, can_read, can_write
        )
        digest = self._digest_of(repository, tag_or_digest, **kwargs)
        with service_errors():
            result = self._client.container_registry.update_manifest_properties(
                repository, digest, value, **kwargs
            )
        return logic.manifest_properties(result, repository, self._endpoint)

    @distributed_trace
    def delete_manifest(self, repository: str, tag_or_digest: str, **kwargs: Any) -> None:
        """Delete a manifest (by tag or digest) and every tag on it; succeeds if it is absent.

        :param str repository: the repository name.
        :param str tag_or_digest: a tag (resolved to its digest first), or a digest.
        :raises ValueError: for an invalid repository name, tag or digest (before any request).
        :raises ~azure.core.exceptions.HttpResponseError: when the registry refuses.
        """
        logic.check_reference(repository, tag_or_digest)
        with ignore_not_found():
            digest = self._digest_of(repository, tag_or_digest, **kwargs)
            self._client.container_registry.delete_manifest(repository, digest, **kwargs)

    # -- tags ---------------------------------------------------------------------------
    @distributed_trace
    def list_tag_properties(
        self,
        repository: str,
        *,
        order_by: Optional[Union[ArtifactTagOrder, str]] = None,
        results_per_page: Optional[int] = None,
        digest: Optional[str] = None,
        **kwargs: Any,
    ) -> ItemPaged[ArtifactTagProperties]:
        """List the properties of a repository's tags.

        :param str repository: the repository name.
        :keyword order_by: ``ArtifactTagOrder.LAST_UPDATED_ON_DESCENDING`` or ``..._ASCENDING``;
            by name when not given.
        :paramtype order_by: ~azurecr.ArtifactTagOrder or str
        :keyword int results_per_page: the page size to ask the registry for.
        :keyword str digest: only the tags that point at this manifest digest.
        :rtype: ~azure.core.paging.ItemPaged[~azurecr.ArtifactTagProperties]
        :raises ValueError: for an invalid repository name, digest, order or page size.
        :raises ~azure.core.exceptions.ResourceNotFoundError: when the repository does not exist.

        .. code-block:: python

            for tag in client.list_tag_properties("library/hello-world", order_by="timedesc"):
                print(tag.name, tag.digest)
        """
        logic.check_repository(repository)
        logic.check_digest_filter(digest)
        first = first_page(results_per_page, order_by)
        ops = self._client.container_registry

        def fetch(query: PageQuery) -> Page[ArtifactTagProperties]:
            with service_errors():
                result, link = ops.get_tags(
                    repository, digest=digest, cls=logic.with_link, **query.as_kwargs(), **kwargs
                )
            return logic.tags_page(result, link, self._endpoint, repository)

        return item_paged(fetch, first, self._endpoint)

    @distributed_trace
    def get_tag_properties(self, repository: str, tag: str, **kwargs: Any) -> ArtifactTagProperties:
        """Get the properties of a tag.

        :param str repository: the repository name.
        :param str tag: the tag.
        :rtype: ~azurecr.ArtifactTagProperties
        :raises ValueError: for an invalid repository name or tag (before any request).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when it does not exist.
        """
        logic.check_tag(repository, tag)
        with service_errors():
            result = self._client.container_registry.get_tag_properties(repository, tag, **kwargs)
        return logic.tag_properties(result, repository)

    @distributed_trace
    def update_tag_properties(
        self,
        repository: str,
        tag: str,
        properties: Optional[ArtifactTagProperties] = None,
        *,
        can_delete: Optional[bool] = None,
        can_list: Optional[bool] = None,
        can_read: Optional[bool] = None,
        can_write: Optional[bool] = None,
        **kwargs: Any,
    ) -> ArtifactTagProperties:
        """Change the writeable flags of a tag.

        :param str repository: the repository name.
        :param str tag: the tag.
        :param properties: the flags to set, as a model.
        :type properties: ~azurecr.ArtifactTagProperties or None
        :keyword bool can_delete: whether the tag may be deleted.
        :keyword bool can_list: whether it shows in listings.
        :keyword bool can_read: whether it may be pulled.
        :keyword bool can_write: whether it may be moved.
        :return: the tag's properties after the change.
        :rtype: ~azurecr.ArtifactTagProperties
        :raises ValueError: for an invalid repository name or tag (before any request).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when it does not exist.
        """
        logic.check_tag(repository, tag)
        value = logic.writeable(
            ArtifactTagProperties, properties, can_delete, can_list, can_read, can_write
        )
        with service_errors():
            result = self._client.container_registry.update_tag_attributes(
                repository, tag, value, **kwargs
            )
        return logic.tag_properties(result, repository)

    @distributed_trace
    def delete_tag(self, repository: str, tag: str, **kwargs: Any) -> None:
        """Delete a tag (the manifest stays); succeeds if the tag does not exist.

        :param str repository: the repository name.
        :param str tag: the tag.
        :raises ValueError: for an invalid repository name or tag (before any request).
        :raises ~azure.core.exceptions.HttpResponseError: when the registry refuses.
        """
        logic.check_tag(repository, tag)
        with ignore_not_found():
            self._client.container_registry.delete_tag(repository, tag, **kwargs)

    # -- content: manifests -------------------------------------------------------------
    @distributed_trace
    def set_manifest(
        self,
        repository: str,
        manifest: Union[Any, dict[str, Any], bytes, IO[bytes]],
        *,
        tag: Optional[str] = None,
        media_type: Optional[str] = None,
        **kwargs: Any,
    ) -> str:
        """Store a manifest, under a tag or by its digest.

        A typed model or a dict is sent as compact JSON; bytes or a binary stream are sent
        verbatim, so the manifest's digest is the digest of exactly those bytes.

        :param str repository: the repository name.
        :param manifest: an ``OciImageManifest``, ``OciImageIndex``, ``DockerManifest``,
            ``DockerManifestList``, a dict, bytes, or a binary readable.
        :keyword str tag: the tag to store it under; by digest only when not given.
        :keyword str media_type: the manifest's media type; taken from the model or the
            document's ``mediaType`` (or its shape) when not given.
        :return: the manifest's digest, checked against the registry's
            ``Docker-Content-Digest``.
        :rtype: str
        :raises ValueError: for an invalid repository or tag, unknown media type or invalid
            JSON (before any request).
        :raises ~azurecr.ManifestTooLargeError: for a manifest over 4 MiB.
        :raises ~azurecr.DigestValidationError: when the registry reports another digest.
        """
        mlogic.check_set_manifest(repository, tag)
        content, kind = mlogic.manifest_payload(manifest, media_type)
        digest = mlogic.sha256_digest(content)
        with service_errors():
            headers = self._client.container_registry.create_manifest(
                repository, tag or digest, content, content_type=kind, cls=_headers, **kwargs
            )
        digest = mlogic.check_pushed_digest(digest, headers.get("Docker-Content-Digest"))
        pending = alogic.unacknowledged_subject(content, kind, headers.get("OCI-Subject"))
        if pending is not None:
            subject, referrer = pending
            if not artifacts.referrers_api_supported(self, repository, subject.digest, **kwargs):
                artifacts.update_referrers_fallback(self, repository, subject, referrer, **kwargs)
        return digest

    @distributed_trace
    def get_manifest(
        self, repository: str, tag_or_digest: str, **kwargs: Any
    ) -> mlogic.GetManifestResult:
        """Get a manifest, verified against its digest.

        The ``Accept`` header covers OCI image manifests and indexes, Docker v2 manifests and
        manifest lists, and OCI artifact manifests. By digest, the bytes must have that
        digest; by tag, the digest the registry announces.

        :param str repository: the repository name.
        :param str tag_or_digest: a tag, or a digest.
        :rtype: ~azurecr.GetManifestResult
        :raises ValueError: for an invalid repository, tag or digest (before any request).
        :raises ~azurecr.DigestValidationError: when the bytes do not match the digest.
        :raises ~azurecr.ManifestTooLargeError: for a manifest over 4 MiB (not read).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when it does not exist.
        """
        logic.check_reference(repository, tag_or_digest)
        with service_errors():
            pipeline_response, chunks, headers = self._client.container_registry.get_manifest(
                repository,
                tag_or_digest,
                accept=mlogic.MANIFEST_ACCEPT,
                cls=lambda p, d, h: (p, d, h),
                **kwargs,
            )
        response = pipeline_response.http_response
        try:
            announced = mlogic.announced_length(headers.get("Content-Length"))
            if announced is not None and announced > MAX_MANIFEST_SIZE:
                raise mlogic.too_large(announced)
            parts: list[bytes] = []
            received = 0
            for chunk in chunks:
                received += len(chunk)
                if received > MAX_MANIFEST_SIZE:
                    raise mlogic.too_large(received)
                parts.append(chunk)
        finally:
            response.close()
        return mlogic.manifest_result(
            b"".join(parts),
            tag_or_digest,
            headers.get("Docker-Content-Digest"),
            headers.get("Content-Type"),
        )

    @distributed_trace
    def manifest_exists(self, repository: str, tag_or_digest: str, **kwargs: Any) -> bool:
        """Whether the registry has a manifest under this tag or digest (one ``HEAD``).

        :param str repository: the repository name.
        :param str tag_or_digest: a tag, or a digest.
        :rtype: bool
        :raises ValueError: for an invalid repository, tag or digest (before any request).
        """
        logic.check_reference(repository, tag_or_digest)
        try:
            with service_errors():
                self._client.container_registry.check_manifest_exists(
                    repository, tag_or_digest, accept=mlogic.MANIFEST_ACCEPT, **kwargs
                )
        except ResourceNotFoundError:
            return False
        return True

    # -- content: blobs -----------------------------------------------------------------
    @distributed_trace
    def upload_blob(
        self,
        repository: str,
        data: Union[bytes, IO[bytes], Iterable[bytes]],
        *,
        digest: Optional[str] = None,
        chunk_size: Optional[int] = None,
        progress_hook: Optional[ProgressHook] = None,
        **kwargs: Any,
    ) -> tuple[str, int]:
        """Upload a blob in one pass, its digest computed while it streams.

        A seekable source (bytes, a file) without ``chunk_size`` goes in one streamed
        ``PATCH``, read a few 1 MiB pieces ahead; anything else (pipes, iterables, or when
        ``chunk_size`` is given) in chunks of ``chunk_size`` held in memory, each sent once.
        Memory stays bounded whatever the size. After a dropped connection or a 5xx the
        registry is asked how much it holds and the upload resumes from there; when the
        registry cannot resume, a seekable source is uploaded again from its start, and any
        other source raises :class:`~azurecr.BlobUploadError`. When the digest is known up
        front (bytes, or ``digest=``), a ``HEAD`` first skips a blob the registry has.

        :param str repository: the repository name.
        :param data: bytes, a binary readable (file, pipe, socket file) read from its current
            position to its end, or an iterable of bytes.
        :keyword str digest: the data's digest, if known: the upload is skipped when the
            registry has it, and refused (nothing stored) if the data does not match it.
        :keyword int chunk_size: upload in chunks of this many bytes, one request each
            (default: streamed for seekable sources, 8 MiB chunks otherwise).
        :keyword progress_hook: called as ``progress_hook(bytes_done, total_or_None)``.
        :return: the blob's digest and size.
        :rtype: tuple[str, int]
        :raises ValueError: for an invalid repository, digest or chunk size (before any
            request); or when the registry sends an upload ``Location`` on another origin
            or over plain http (nothing is sent there).
        :raises TypeError: for data that is not bytes, a binary stream or bytes iterable.
        :raises ~azurecr.DigestValidationError: when the registry reports another digest.
        :raises ~azurecr.BlobUploadError: when an interrupted upload cannot be completed.
        """
        validate_repository(repository)
        if digest is not None:
            validate_digest(digest)
        check_progress_hook(progress_hook)
        source = open_source(data, chunk_size)
        flow = upload_flow(
            source,
            expected_digest=digest,
            progress_hook=progress_hook,
            streamed=chunk_size is None and source.seekable,
        )
        result = run_upload(self._client, repository, flow, source, self._endpoint, **kwargs)
        return result.digest, result.size

    @distributed_trace
    def download_blob(self, repository: str, digest: str, **kwargs: Any) -> DownloadBlobStream:
        """Stream a blob; its size and digest are checked when the end is reached.

        One GET, following the registry's redirect (ACR: to blob storage, without the
        registry's token); a broken connection resumes with a ``Range`` request.

        :param str repository: the repository name.
        :param str digest: the blob's digest.
        :rtype: ~azurecr.DownloadBlobStream
        :raises ValueError: for an invalid repository or digest (before any request).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when the blob does not exist.
        :raises ~azure.core.exceptions.HttpResponseError: when the registry answers a range
            that was not asked for (its ``Content-Range`` lies).
        :raises ~azure.core.exceptions.ServiceResponseError: (sync client; the async client
            raises azure-core's ``IncompleteReadError``) when the body keeps breaking off
            after the resumes (five) are spent.

        .. code-block:: python

            with client.download_blob("hello", digest) as stream:
                data = stream.readall()   # verified
        """
        validate_repository(repository)
        validate_digest(digest)
        fetcher = BlobFetcher(self._client, self._endpoint, repository, digest, **kwargs)
        return DownloadBlobStream(fetcher, fetcher.open(), digest)

    @distributed_trace
    def download_blob_to_file(
        self,
        repository: str,
        digest: str,
        path: Union[str, os.PathLike[str]],
        *,
        max_concurrency: Optional[int] = None,
        part_size: Optional[int] = None,
        progress_hook: Optional[ProgressHook] = None,
        **kwargs: Any,
    ) -> int:
        """Download a blob to a file, verified, with parallel ranged GETs.

        Parts are written at their offsets into a temporary file beside ``path`` and hashed
        in order while later parts still stream; the file is renamed to ``path`` only after
        the size and digest match, so a failed download leaves nothing at ``path`` (an
        existing file there is replaced only by a verified one). A part whose connection
        breaks is resumed from where it broke.

        :param str repository: the repository name.
        :param str digest: the blob's digest.
        :param path: the file to write.
        :type path: str or os.PathLike
        :keyword int max_concurrency: parallel ranged GETs (1: one streamed GET). None
            (default) chooses: one stream when the registry serves the blob itself, 4
            parallel ranges when it redirects to another origin (ACR's blob storage), where
            each connection is throttled.
        :keyword int part_size: bytes per ranged GET (default 8 MiB).
        :keyword progress_hook: called as ``progress_hook(bytes_verified, total)``.
        :return: the blob's size.
        :rtype: int
        :raises ValueError: for an invalid repository, digest or concurrency (before any
            request).
        :raises ~azurecr.DigestValidationError: when the content does not match the digest
            (or keeps ending before its announced size).
        :raises ~azure.core.exceptions.ResourceNotFoundError: when the blob does not exist.
        :raises ~azure.core.exceptions.HttpResponseError: as for :meth:`download_blob`, and
            ``ServiceResponseError`` / ``IncompleteReadError`` likewise.
        """
        validate_repository(repository)
        validate_digest(digest)
        concurrency = check_concurrency(max_concurrency)
        check_progress_hook(progress_hook)
        part = check_chunk_size(part_size)
        fetcher = BlobFetcher(self._client, self._endpoint, repository, digest, **kwargs)
        return download_to_path(
            fetcher,
            digest,
            path,
            max_concurrency=concurrency,
            part_size=part,
            progress_hook=progress_hook,
        )

    @distributed_trace
    def blob_exists(self, repository: str, digest: str, **kwargs: Any) -> bool:
        """Whether the repository has this blob (one ``HEAD``).

        :param str repository: the repository name.
        :param str digest: the blob's digest.
        :rtype: bool
        :raises ValueError: for an invalid repository or digest (before any request).
        """
        validate_repository(repository)
        validate_digest(digest)
        try:
            with service_errors():
                self._client.container_registry_blob.check_blob_exists(repository, digest, **kwargs)
        except ResourceNotFoundError:
            return False
        return True

    @distributed_trace
    def mount_blob(self, repository: str, digest: str, from_repository: str, **kwargs: Any) -> bool:
        """Make a blob of another repository of this registry available in ``repository``
        without transferring it.

        :param str repository: the repository to mount into.
        :param str digest: the blob's digest.
        :param str from_repository: the repository that has the blob.
        :return: True when mounted; False when the registry could not mount it (for example
            the source does not have it), in which case nothing was changed.
        :rtype: bool
        :raises ValueError: for invalid names or digest (before any request).
        """
        validate_repository(repository)
        validate_repository(from_repository)
        validate_digest(digest)
        with service_errors():
            status, location = self._client.container_registry_blob.mount_blob(
                repository,
                from_repository,
                digest,
                cls=lambda p, d, h: (p.http_response.status_code, h.get("Location")),
                **kwargs,
            )
        if status == 201:
            return True
        # 202: the registry opened an upload session instead; close it, nothing to upload
        if location:
            try:
                link = session_link(location, self._endpoint)
                self._client.container_registry_blob.cancel_upload(link, **kwargs)
            except (ValueError, HttpResponseError):
                pass
        return False

    @distributed_trace
    def delete_blob(self, repository: str, digest: str, **kwargs: Any) -> None:
        """Delete a blob; succeeds if it does not exist.

        :param str repository: the repository name.
        :param str digest: the blob's digest.
        :raises ValueError: for an invalid repository or digest (before any request).
        :raises ~azure.core.exceptions.HttpResponseError: when the registry refuses.
        """
        validate_repository(repository)
        validate_digest(digest)
        with ignore_not_found():
            self._client.container_registry_blob.delete_blob(repository, digest, **kwargs)

    # -- whole artifacts ----------------------------------------------------------------
    @distributed_trace
    def push_artifact(
        self,
        repository: str,
        files: Iterable[Union[str, os.PathLike[str], ArtifactFile]],
        *,
        config: Union[ArtifactFile, bytes, Mapping[str, Any], None] = None,
        config_media_type: Optional[str] = None,
        artifact_type: Optional[str] = None,
        annotations: Optional[Mapping[str, str]] = None,
        tag: Optional[str] = None,
        subject: Union[str, OciDescriptor, None] = None,
        max_concurrency: int = 4,
        progress_hook: Optional[ProgressHook] = None,
        **kwargs: Any,
    ) -> Digest:
        """Push files as an OCI artifact: its blobs, uploaded concurrently, then its manifest.

        Each file becomes a layer named by its ``org.opencontainers.image.title`` annotation
        (the file's base name unless given), the name it gets back from
        :meth:`pull_artifact`. Files are hashed first, so a blob the registry already has is
        not uploaded again. Without a ``config`` the manifest has the OCI empty config
        (``{}``) and an ``artifactType`` (``application/vnd.unknown.artifact.v1`` unless
        given), as OCI 1.1 and ORAS do.

        :param str repository: the repository name.
        :param files: paths of regular files, or :class:`~azurecr.ArtifactFile` objects (for
            bytes, another title, media type or annotations).
        :type files: list[str or os.PathLike or ~azurecr.ArtifactFile]
        :keyword config: the config blob (default: the OCI empty config).
        :paramtype config: ~azurecr.ArtifactFile or bytes or dict or None
        :keyword str config_media_type: the config's media type (default
            ``application/vnd.oci.image.config.v1+json`` for a given config).
        :keyword str artifact_type: the manifest's ``artifactType``.
        :keyword annotations: the manifest's annotations.
        :paramtype annotations: dict[str, str] or None
        :keyword str tag: the tag to push the manifest under (by digest only if not given).
        :keyword subject: the manifest this artifact refers to (OCI 1.1 ``subject``, as a
            signature or SBOM does): a tag or digest in the same repository, or a descriptor.
            On a registry without the referrers API the tag schema fallback index is updated.
        :paramtype subject: str or ~azurecr.OciDescriptor or None
        :keyword int max_concurrency: blobs uploaded at once (default 4).
        :keyword progress_hook: called as ``progress_hook(bytes_done, bytes_total)`` over all
            blobs.
        :return: the manifest's digest.
        :rtype: ~azurecr.Digest
        :raises TypeError: for arguments of the wrong type (before any request).
        :raises ValueError: for invalid names, duplicate or unsafe titles, or a directory
            given as a file (before any request).
        :raises FileNotFoundError: for a file that does not exist (before any request).
        :raises ~azurecr.DigestValidationError: when a file changed while it was uploaded.
        """
        return artifacts.push_artifact(
            self,
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
            **kwargs,
        )

    @distributed_trace
    def pull_artifact(
        self,
        repository: str,
        reference: str,
        directory: Union[str, os.PathLike[str]],
        *,
        platform: Union[str, OciPlatform, None] = None,
        max_concurrency: int = 4,
        progress_hook: Optional[ProgressHook] = None,
        **kwargs: Any,
    ) -> PulledArtifact:
        """Pull an artifact's layers into a directory, each verified against its digest.

        An index (multi-platform image) is resolved to the manifest for ``platform``. Each
        layer is written to the name in its ``org.opencontainers.image.title`` annotation,
        or ``<algorithm>-<hex>`` of its digest when it has none. Blobs download
        concurrently into a staging directory inside ``directory``; only when every blob
        verified are the files moved to their names (an existing file of the same name is
        replaced), so a failed pull leaves the directory as it was.

        :param str repository: the repository name.
        :param str reference: a tag or a digest.
        :param directory: where to write the files (created if missing).
        :type directory: str or os.PathLike
        :keyword platform: ``"os/architecture[/variant]"`` (``"linux/arm64/v8"``) or an
            :class:`~azurecr.OciPlatform`, to choose from an index (default: this machine's).
        :paramtype platform: str or ~azurecr.OciPlatform or None
        :keyword int max_concurrency: blobs downloaded at once (default 4).
        :keyword progress_hook: called as ``progress_hook(bytes_verified, bytes_total)`` over
            all blobs.
        :return: the manifest pulled and the files written.
        :rtype: ~azurecr.PulledArtifact
        :raises TypeError: for arguments of the wrong type (before any request).
        :raises ValueError: for invalid names or platform (before any request); for a title
            that would write outside ``directory``, or a manifest that is not an image or
            artifact manifest (before any blob is fetched).
        :raises LookupError: when an index has no manifest for the platform.
        :raises ~azurecr.DigestValidationError: when a blob does not match its digest.
        """
        return artifacts.pull_artifact(
            self,
            repository,
            reference,
            directory,
            platform=platform,
            max_concurrency=max_concurrency,
            progress_hook=progress_hook,
            **kwargs,
        )

    @distributed_trace
    def list_referrers(
        self,
        repository: str,
        digest: str,
        *,
        artifact_type: Optional[str] = None,
        **kwargs: Any,
    ) -> ItemPaged[OciDescriptor]:
        """The manifests whose ``subject`` is ``digest`` (OCI 1.1 referrers: signatures,
        SBOMs, attestations).

        Uses the registry's referrers API; on a registry without it, the referrers tag
        schema (the index tagged ``<algorithm>-<hex>``) that :meth:`set_manifest` and
        :meth:`push_artifact` maintain there.

        :param str repository: the repository name.
        :param str digest: the digest of the manifest referred to.
        :keyword str artifact_type: only referrers of this artifact type.
        :return: an iterator of descriptors (``media_type``, ``digest``, ``size``,
            ``artifact_type``, ``annotations``).
        :rtype: ~azure.core.paging.ItemPaged[~azurecr.OciDescriptor]
        :raises ValueError: for an invalid repository or digest (before any request); or
            when the registry's next-page ``Link`` points to another origin.
        """
        return artifacts.list_referrers(
            self, repository, digest, artifact_type=artifact_type, **kwargs
        )

    def close(self) -> None:
        """Close the client's sessions (and its transport)."""
        self._client.close()

    def __enter__(self) -> ContainerRegistryClient:
        self._client.__enter__()
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._client.__exit__(exc_type, exc, tb)
