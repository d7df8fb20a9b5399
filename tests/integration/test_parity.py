"""Side-by-side parity: one scenario, the same code, run with ``azure-containerregistry``
1.2.0 and with ``azurecr`` (only the module differs) against the same test bed; the observable
results must be equal, except for the documented fixes asserted at the end."""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import azure.containerregistry as official
import pytest

import azurecr
from tests.testbed import TestBed

from ._clients import TestbedCredential
from ._content import push_image, unique_repository

AUDIENCE = "https://containerregistry.azure.net"


def _flags(p: Any) -> tuple[Any, ...]:
    return (p.can_delete, p.can_list, p.can_read, p.can_write)


def _error(call: Any) -> str:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the exception type is the observation
        return type(exc).__name__
    return "ok"


def scenario(mod: ModuleType, client: Any, repo: str) -> dict[str, Any]:
    """The same code for both libraries; returns what a user would observe."""
    tag_order, manifest_order = mod.ArtifactTagOrder, mod.ArtifactManifestOrder
    seen: dict[str, Any] = {}
    seen["listed"] = repo in list(client.list_repository_names())
    repo_pages = client.list_repository_names(results_per_page=1).by_page()
    seen["repository pages of one"] = all(len(list(page)) == 1 for page in repo_pages)
    p = client.get_repository_properties(repo)
    seen["repository"] = (p.name, p.manifest_count, p.tag_count, _flags(p))
    for order in ("LAST_UPDATED_ON_ASCENDING", "LAST_UPDATED_ON_DESCENDING"):
        tags = client.list_tag_properties(
            repo, order_by=getattr(tag_order, order), results_per_page=2
        )
        seen[f"tags {order}"] = [[(t.name, t.digest) for t in page] for page in tags.by_page()]
        manifests = client.list_manifest_properties(
            repo, order_by=getattr(manifest_order, order), results_per_page=2
        )
        seen[f"manifests {order}"] = [
            [(m.digest, str(m.architecture), str(m.operating_system), sorted(m.tags)) for m in page]
            for page in manifests.by_page()
        ]
    t = client.get_tag_properties(repo, "v1")
    seen["tag"] = (t.name, t.digest, _flags(t))
    m = client.get_manifest_properties(repo, "v1")
    seen["manifest"] = (m.digest, m.size_in_bytes, str(m.architecture), _flags(m))
    seen["update tag"] = _flags(client.update_tag_properties(repo, "v1", can_delete=False))
    seen["delete refused"] = _error(lambda: client.delete_tag(repo, "v1"))
    seen["update manifest"] = _flags(client.update_manifest_properties(repo, "v2", can_write=False))
    seen["update repository"] = _flags(
        client.update_repository_properties(repo, can_list=True, can_delete=True)
    )
    client.update_tag_properties(repo, "v1", can_delete=True)
    seen["delete tag"] = _error(lambda: client.delete_tag(repo, "v1"))
    seen["tag gone"] = _error(lambda: client.get_tag_properties(repo, "v1"))
    seen["delete absent tag"] = _error(lambda: client.delete_tag(repo, "v1"))
    seen["delete manifest"] = _error(lambda: client.delete_manifest(repo, m.digest))
    seen["manifest gone"] = _error(lambda: client.get_manifest_properties(repo, m.digest))
    seen["delete repository"] = _error(lambda: client.delete_repository(repo))
    seen["repository gone"] = _error(lambda: client.get_repository_properties(repo))
    seen["delete absent repository"] = _error(lambda: client.delete_repository(repo))
    return seen


def _push(testbed: TestBed, repo: str) -> None:
    push_image(testbed, repo, "v1", "latest", layer=b"1")
    time.sleep(0.01)
    push_image(testbed, repo, "v2", layer=b"2", arch="arm64")
    time.sleep(0.01)
    push_image(testbed, repo, "v3", layer=b"3")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_same_scenario_same_results(testbed: TestBed) -> None:
    results = {}
    fixes = {}
    for mod in (official, azurecr):
        repo = unique_repository("parity")
        _push(testbed, repo)
        client = mod.ContainerRegistryClient(
            testbed.endpoint,
            TestbedCredential(testbed),
            audience=AUDIENCE,
            connection_verify=testbed.ca_path,
        )
        with client:
            tag = client.get_tag_properties(repo, "v1")
            manifest = client.get_manifest_properties(repo, "v1")
            fixes[mod.__name__] = (
                tag.repository_name,
                manifest.fully_qualified_reference.replace(repo, "<repo>"),
            )
            results[mod.__name__] = {
                k: v if not isinstance(v, tuple) or v[:1] != (repo,) else ("<repo>", *v[1:])
                for k, v in scenario(mod, client, repo).items()
            }
    assert results["azure.containerregistry"] == results["azurecr"]
    assert results["azurecr"]["delete refused"] == "HttpResponseError"
    assert results["azurecr"]["tag gone"] == "ResourceNotFoundError"
    assert results["azurecr"]["delete absent repository"] == "ok"

    # Documented fixes: 1.2.0 leaves the tag's repository_name unset and drops "sha256:"
    # from fully_qualified_reference.
    host = testbed.endpoint.split("://", 1)[1]
    official_repo_name, official_ref = fixes["azure.containerregistry"]
    ours_repo_name, ours_ref = fixes["azurecr"]
    assert official_repo_name is None and ours_repo_name is not None
    assert official_ref.startswith(f"{host}/<repo>@") and "sha256:" not in official_ref
    assert ours_ref.startswith(f"{host}/<repo>@sha256:")
    assert ours_ref.replace("sha256:", "") == official_ref
