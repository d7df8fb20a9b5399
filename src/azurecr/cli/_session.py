"""Global options turned into clients: registry endpoint, credential, TLS trust.

Also the CLI's reference syntax: ``[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`` parsed with
:class:`azurecr.Reference`. A registry named in a reference wins over ``--registry`` and
``AZURECR_REGISTRY`` for that reference.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional
from urllib.parse import urlsplit

from .._container_registry_client import ContainerRegistryClient
from .._reference import Reference

__all__ = ["Failure", "Session", "UsageError", "display", "parse_reference"]

ENV_REGISTRY = "AZURECR_REGISTRY"
ENV_USERNAME = "AZURECR_USERNAME"
ENV_PASSWORD = "AZURECR_PASSWORD"
ENV_CA_BUNDLE = "AZURECR_CA_BUNDLE"


class UsageError(Exception):
    """The command line (or environment) asks for something impossible: exit status 2."""


class Failure(Exception):
    """An operation failed, with the message already phrased: exit status 1."""


def parse_reference(
    text: str,
    *,
    what: str = "reference",
    tag_or_digest: str = "optional",
    both: bool = False,
) -> Reference:
    """Parse a reference; ``tag_or_digest`` is "optional", "required" or "forbidden".

    ``both``: whether ``REPO:TAG@DIGEST`` is accepted (the digest then wins).
    """
    try:
        ref = Reference.parse(text)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    if tag_or_digest == "forbidden" and ref.tag_or_digest is not None:
        raise UsageError(f"{what} {text!r}: expected a repository, without ':TAG' or '@DIGEST'")
    if tag_or_digest == "required" and ref.tag_or_digest is None:
        raise UsageError(f"{what} {text!r}: expected REPOSITORY:TAG or REPOSITORY@DIGEST")
    if not both and ref.tag is not None and ref.digest is not None:
        raise UsageError(f"{what} {text!r}: give a tag or a digest, not both")
    return ref


def display(ref: Reference) -> str:
    """The reference as the user sees it in messages (registry left out)."""
    return str(Reference(ref.repository, tag=ref.tag, digest=ref.digest))


def _host(endpoint: str) -> str:
    if "://" not in endpoint:
        endpoint = "https://" + endpoint
    return urlsplit(endpoint).netloc.lower()


class Session:
    """Builds (and closes) one client per registry from the global options."""

    def __init__(self, args: Any) -> None:
        self.args = args
        self.registry: Optional[str] = args.registry or os.environ.get(ENV_REGISTRY) or None
        self.ca_bundle: Optional[str] = args.ca_bundle or os.environ.get(ENV_CA_BUNDLE) or None
        self._credential: Any = None
        self._credential_made = False
        self._clients: dict[str, ContainerRegistryClient] = {}
        self.subject: Optional[str] = None  # what registry errors are about, for the message

    # -- endpoints ------------------------------------------------------------------------
    def endpoint_for(self, ref: Optional[Reference] = None) -> str:
        if ref is not None and ref.registry is not None:
            # Keep --registry's spelling (an explicit http:// scheme) when it is the same host.
            if self.registry is not None and _host(self.registry) == ref.registry.lower():
                return self.registry
            return ref.registry
        if self.registry is None:
            raise UsageError(
                f"no registry: pass --registry/-r, set {ENV_REGISTRY}, or name it in the "
                "reference (myregistry.azurecr.io/REPOSITORY:TAG)"
            )
        return self.registry

    def same_registry(self, a: ContainerRegistryClient, b: ContainerRegistryClient) -> bool:
        return _host(a.endpoint) == _host(b.endpoint)

    def client(self, ref: Optional[Reference] = None) -> ContainerRegistryClient:
        if ref is not None:
            self.subject = display(ref)
        endpoint = self.endpoint_for(ref)
        if (
            self.registry is not None
            and _host(endpoint) != _host(self.registry)
            and self._uses_password()
        ):
            # a password is for the registry it was configured with; a reference that names
            # another registry does not get it (copy --to-registry asks for that explicitly)
            raise UsageError(
                f"{ref.registry if ref else endpoint}: the username and password are for "
                f"{_host(self.registry)}; pass -r {ref.registry if ref else endpoint} to use "
                "them there"
            )
        return self.client_for_endpoint(endpoint)

    def _uses_password(self) -> bool:
        args = self.args
        named = args.username or os.environ.get(ENV_USERNAME)
        return bool(named) and not args.anonymous

    def client_for_endpoint(self, endpoint: str) -> ContainerRegistryClient:
        key = _host(endpoint)
        if key not in self._clients:
            kwargs: dict[str, Any] = {}
            if self.ca_bundle:
                if not os.path.isfile(self.ca_bundle):
                    raise UsageError(f"--ca-bundle {self.ca_bundle!r}: no such file")
                kwargs["connection_verify"] = self.ca_bundle
            if self.args.allow_insecure_http:
                kwargs["allow_insecure_http"] = True
            try:
                self._clients[key] = ContainerRegistryClient(endpoint, self.credential(), **kwargs)
            except ValueError as exc:
                raise UsageError(f"registry {endpoint!r}: {exc}") from None
        return self._clients[key]

    # -- credentials ----------------------------------------------------------------------
    def credential(self) -> Any:
        if not self._credential_made:
            self._credential = self._make_credential()
            self._credential_made = True
        return self._credential

    def _make_credential(self) -> Any:
        args = self.args
        if args.anonymous:  # explicit: wins over AZURECR_USERNAME/_PASSWORD in the environment
            if args.username or args.password_stdin:
                raise UsageError("--anonymous cannot be combined with --username/--password-stdin")
            return None
        username = args.username or os.environ.get(ENV_USERNAME) or None
        if args.password_stdin:
            if not username:
                raise UsageError(f"--password-stdin needs --username/-u (or {ENV_USERNAME})")
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise UsageError("--password-stdin: no password on standard input")
        else:
            password = os.environ.get(ENV_PASSWORD) or ""
        if username:
            if not password:
                raise UsageError(
                    f"username {username!r} needs a password: --password-stdin or {ENV_PASSWORD}"
                )
            from azure.core.credentials import AzureNamedKeyCredential

            return AzureNamedKeyCredential(username, password)
        if password:
            raise UsageError(
                f"{ENV_PASSWORD} is set but no username (--username or {ENV_USERNAME})"
            )
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        close = getattr(self._credential, "close", None)
        if callable(close):
            close()
