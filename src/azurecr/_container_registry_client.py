"""``ContainerRegistryClient``: the synchronous facade over the generated protocol layer."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Optional, Union

from azure.core.paging import ItemPaged
from azure.core.pipeline.transport import RequestsTransport
from azure.core.tracing.decorator import distributed_trace

from . import _client_logic as logic
from ._auth_policy import ContainerRegistryChallengePolicy
from ._errors import ignore_not_found, service_errors
from ._generated import ContainerRegistry as _GeneratedClient
from ._models import (
    ArtifactManifestOrder,
    ArtifactManifestProperties,
    ArtifactTagOrder,
    ArtifactTagProperties,
    RepositoryProperties,
)
from ._paging import Page, PageQuery, first_page, item_paged
from ._pipeline import SDK_MONIKER, ClientSettings, RedactingNetworkTraceLoggingPolicy
from ._reference import is_digest

__all__ = ["ContainerRegistryClient"]


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
    :keyword transport, retry_total, logging_enable, connection_verify, proxies, ...: any
        azure-core pipeline keyword, passed through.
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
        transport = kwargs.pop("transport", None) or RequestsTransport(**kwargs)
        policy = ContainerRegistryChallengePolicy(
            settings.credential,
            settings.endpoint,
            audience=settings.audience,
            transport=transport,
            allow_insecure_http=allow_insecure_http,
            **kwargs,
        )
        kwargs.setdefault("sdk_moniker", SDK_MONIKER)
        kwargs.setdefault("logging_policy", RedactingNetworkTraceLoggingPolicy(**kwargs))
        self._client = _GeneratedClient(
            url=settings.endpoint,
            api_version=settings.api_version,
            transport=transport,
            authentication_policy=policy,
            **kwargs,
        )

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
