"""Which token scope a request needs, known before sending it (no I/O).

Registries announce the scope in their 401 challenge; knowing it up front lets the
policy attach a cached token to the first attempt, so a warm call is one request and an
upload chunk is sent once. The mapping follows the scopes ACR and distribution announce
(docker token spec: ``repository:<name>:<actions>``, ``registry:catalog:*``); when a
request is not recognised, the policy simply waits for the challenge.
"""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["normalize_scope", "scope_covers", "scope_for_request"]

_V2_REPO = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags|referrers)(?:/|$)")
_ACR_REPO = re.compile(r"^/acr/v1/(?P<name>[^_][^?]*?)(?:/_(?:tags|manifests)(?:/.*)?)?$")
_READ = ("GET", "HEAD")


def normalize_scope(scope: str) -> str:
    """Canonical form of a space-separated scope list: each scope's actions sorted and
    de-duplicated, scopes sorted, so ``pull,push`` and ``push,pull`` share a cache entry."""
    out = []
    for item in scope.split():
        parts = item.rsplit(":", 1)
        if len(parts) == 2 and ":" in parts[0]:
            actions = ",".join(sorted(set(filter(None, parts[1].split(",")))))
            out.append(f"{parts[0]}:{actions}")
        else:
            out.append(item)
    return " ".join(sorted(set(out)))


def _actions(scope: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for item in scope.split():
        resource, sep, actions = item.rpartition(":")
        if not sep or ":" not in resource:
            out.setdefault(item, set())
            continue
        out.setdefault(resource, set()).update(a for a in actions.split(",") if a)
    return out


def scope_covers(granted: str, wanted: str) -> bool:
    """Whether a token asked for ``granted`` was asked for everything ``wanted`` needs:
    every resource of ``wanted`` with a superset of its actions (``pull,push`` covers
    ``pull``). Registries may grant less than asked; a refused request is then answered
    by the registry's challenge as usual."""
    have, need = _actions(granted), _actions(wanted)
    return all(resource in have and acts <= have[resource] for resource, acts in need.items())


def scope_for_request(method: str, url: str) -> Optional[str]:
    """The scope a registry will ask for this request, or None when it cannot be known.

    :param str method: the HTTP method.
    :param str url: the request URL (on the registry's origin).
    :rtype: str or None
    """
    method = method.upper()
    parts = urlsplit(url)
    path = parts.path
    if path in ("/v2/", "/v2"):
        return ""
    if path in ("/v2/_catalog", "/acr/v1/_catalog"):
        return "registry:catalog:*"
    m = _V2_REPO.match(path)
    if m:
        name = unquote(m.group("name"))
        if method in _READ:
            action = "pull"
        elif method == "DELETE":
            action = "delete"
        else:
            action = "pull,push"
        scope = f"repository:{name}:{action}"
        source = _mount_source(method, path, parts.query)
        if source is not None and source != name:
            # a cross-repository mount also reads the source (distribution and ACR ask both)
            scope = normalize_scope(f"{scope} repository:{source}:pull")
        return scope
    m = _ACR_REPO.match(path)
    if m:
        name = unquote(m.group("name"))
        acr_action = {"GET": "metadata_read", "PATCH": "metadata_write", "DELETE": "delete"}
        return f"repository:{name}:{acr_action[method]}" if method in acr_action else None
    return None


def _mount_source(method: str, path: str, query: str) -> Optional[str]:
    """The ``from`` repository of a mount (``POST .../blobs/uploads/?mount=&from=``)."""
    if method != "POST" or not path.rstrip("/").endswith("/blobs/uploads") or not query:
        return None
    values = parse_qs(query).get("from")
    return values[0] if values and "mount" in parse_qs(query) else None
