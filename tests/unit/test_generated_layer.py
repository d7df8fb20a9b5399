"""The generated protocol layer: our OpenAPI description covers the published ACR data-plane
description, the generated clients expose every operation, and the committed output is what
scripts/regenerate.sh produces today."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reference import REFERENCE_SPEC

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "swagger" / "containerregistry.json"
GENERATED = ROOT / "src" / "azurecr" / "_generated"
REGENERATE = ROOT / "scripts" / "regenerate.sh"
REFERENCE_PATH = Path(os.environ.get("AZURECR_REFERENCE_SPEC") or REFERENCE_SPEC)

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Operations the published description lacks and we add (OCI distribution endpoints).
ADDED_OPERATIONS = {
    "ContainerRegistry_GetCatalog": ("get", "/v2/_catalog"),
    "ContainerRegistry_GetTagList": ("get", "/v2/{name}/tags/list"),
    "ContainerRegistry_CheckManifestExists": ("head", "/v2/{name}/manifests/{reference}"),
    "ContainerRegistry_GetReferrers": ("get", "/v2/{name}/referrers/{digest}"),
}

# The 29 operations of the published 2021-07-01 description, so that coverage is checked
# even where the reference file is not available.
REFERENCE_OPERATION_IDS = (
    "Authentication_ExchangeAadAccessTokenForAcrRefreshToken",
    "Authentication_ExchangeAcrRefreshTokenForAcrAccessToken",
    "Authentication_GetAcrAccessTokenFromLogin",
    "ContainerRegistryBlob_CancelUpload",
    "ContainerRegistryBlob_CheckBlobExists",
    "ContainerRegistryBlob_CheckChunkExists",
    "ContainerRegistryBlob_CompleteUpload",
    "ContainerRegistryBlob_DeleteBlob",
    "ContainerRegistryBlob_GetBlob",
    "ContainerRegistryBlob_GetChunk",
    "ContainerRegistryBlob_GetUploadStatus",
    "ContainerRegistryBlob_MountBlob",
    "ContainerRegistryBlob_StartUpload",
    "ContainerRegistryBlob_UploadChunk",
    "ContainerRegistry_CheckDockerV2Support",
    "ContainerRegistry_CreateManifest",
    "ContainerRegistry_DeleteManifest",
    "ContainerRegistry_DeleteRepository",
    "ContainerRegistry_DeleteTag",
    "ContainerRegistry_GetManifest",
    "ContainerRegistry_GetManifestProperties",
    "ContainerRegistry_GetManifests",
    "ContainerRegistry_GetProperties",
    "ContainerRegistry_GetRepositories",
    "ContainerRegistry_GetTagProperties",
    "ContainerRegistry_GetTags",
    "ContainerRegistry_UpdateManifestProperties",
    "ContainerRegistry_UpdateProperties",
    "ContainerRegistry_UpdateTagAttributes",
)


# --- helpers


def _load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _operations(spec: dict) -> dict[str, tuple[str, str, dict, list]]:
    """operationId -> (method, path, operation, path-level parameters)."""
    ops = {}
    for section in ("paths", "x-ms-paths"):
        for path, item in spec.get(section, {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    op = item[method]
                    ops[op["operationId"]] = (method, path, op, item.get("parameters", []))
    return ops


def _resolve(spec: dict, obj: dict) -> dict:
    while "$ref" in obj:
        ref = obj["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
        obj = node
    return obj


def _param_keys(spec: dict, method_op_params: tuple) -> set[tuple[str, str]]:
    _, _, op, path_params = method_op_params
    keys = set()
    for p in list(path_params) + list(op.get("parameters", [])):
        p = _resolve(spec, p)
        name = p["name"].lower() if p["in"] == "header" else p["name"]
        keys.add((name, p["in"]))
    return keys


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _method_for(operation_id: str) -> tuple[str, str]:
    group, op = operation_id.split("_", 1)
    return _snake(group), _snake(op)


def _definition_refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref.split("/")[-1])
        for value in node.values():
            _definition_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _definition_refs(value, found)


def _definitions_used(spec: dict, ops: list[tuple]) -> set[str]:
    """Definitions reachable from the given operations' parameters and responses."""
    todo: set[str] = set()
    for _, _, op, path_params in ops:
        for p in list(path_params) + list(op.get("parameters", [])):
            _definition_refs(_resolve(spec, p), todo)
        _definition_refs(op.get("responses", {}), todo)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        more: set[str] = set()
        _definition_refs(spec["definitions"][name], more)
        todo |= more - seen
    return seen


def _properties(spec: dict, name: str) -> set[str]:
    definition = spec["definitions"][name]
    props = set(definition.get("properties", {}))
    for parent in definition.get("allOf", []):
        if "$ref" in parent:
            props |= _properties(spec, parent["$ref"].split("/")[-1])
        props |= set(parent.get("properties", {}))
    return props


@pytest.fixture(scope="module")
def spec() -> dict:
    return _load(SPEC_PATH)


@pytest.fixture(scope="module")
def reference() -> dict:
    if not REFERENCE_PATH.is_file():
        pytest.skip(f"reference description not present at {REFERENCE_PATH}")
    return _load(REFERENCE_PATH)


# --- the spec itself


def test_spec_is_canonical_json(spec):
    text = SPEC_PATH.read_text(encoding="utf-8")
    assert text == json.dumps(spec, indent=2, ensure_ascii=False) + "\n", (
        "swagger/containerregistry.json must be 2-space indented JSON ending in one newline"
    )
    assert spec["swagger"] == "2.0"
    assert spec["info"]["version"] == "2021-07-01"


def test_spec_operation_ids_are_unique(spec):
    ids = [
        item[m]["operationId"]
        for section in ("paths", "x-ms-paths")
        for item in spec.get(section, {}).values()
        for m in HTTP_METHODS
        if m in item
    ]
    assert len(ids) == len(set(ids))


def test_reference_list_matches_reference_file(reference):
    assert set(_operations(reference)) == set(REFERENCE_OPERATION_IDS)


# --- (a) coverage

ALL_OPERATION_IDS = sorted(set(REFERENCE_OPERATION_IDS) | set(ADDED_OPERATIONS))


@pytest.mark.parametrize("operation_id", sorted(REFERENCE_OPERATION_IDS))
def test_reference_operation_has_same_path_and_method(spec, reference, operation_id):
    ours = _operations(spec)
    theirs = _operations(reference)
    assert operation_id in ours, f"{operation_id} missing from our description"
    assert ours[operation_id][:2] == theirs[operation_id][:2]


@pytest.mark.parametrize("operation_id", sorted(ADDED_OPERATIONS))
def test_added_operation_present(spec, operation_id):
    ours = _operations(spec)
    assert operation_id in ours
    assert ours[operation_id][:2] == ADDED_OPERATIONS[operation_id]


@pytest.mark.parametrize("operation_id", ALL_OPERATION_IDS)
def test_operation_in_spec(spec, operation_id):
    assert operation_id in _operations(spec)


@pytest.mark.parametrize("operation_id", ALL_OPERATION_IDS)
def test_generated_clients_expose_operation(operation_id):
    from azurecr._generated import ContainerRegistry
    from azurecr._generated.aio import ContainerRegistry as AsyncContainerRegistry

    group, method = _method_for(operation_id)
    for cls in (ContainerRegistry, AsyncContainerRegistry):
        client = cls("https://example.azurecr.io")
        operations = getattr(client, group)
        assert callable(getattr(operations, method, None)), f"{cls.__module__}: {group}.{method}"


def test_method_name_mapping():
    assert _method_for("ContainerRegistry_CheckDockerV2Support") == (
        "container_registry",
        "check_docker_v2_support",
    )
    assert _method_for("ContainerRegistryBlob_GetUploadStatus") == (
        "container_registry_blob",
        "get_upload_status",
    )


# --- (b) parameters, status codes


@pytest.mark.parametrize("operation_id", sorted(REFERENCE_OPERATION_IDS))
def test_parameters_and_status_codes_are_a_superset(spec, reference, operation_id):
    ours = _operations(spec)[operation_id]
    theirs = _operations(reference)[operation_id]
    missing = _param_keys(reference, theirs) - _param_keys(spec, ours)
    assert not missing, f"{operation_id}: parameters missing {sorted(missing)}"
    missing_codes = set(theirs[2]["responses"]) - set(ours[2]["responses"])
    assert not missing_codes, f"{operation_id}: status codes missing {sorted(missing_codes)}"


# --- (c) definitions


def test_reference_definitions_exist_with_same_properties(spec, reference):
    used = _definitions_used(reference, list(_operations(reference).values()))
    assert used, "expected the reference operations to use definitions"
    problems = []
    for name in sorted(used):
        if name not in spec["definitions"]:
            problems.append(f"{name}: missing")
            continue
        missing = _properties(reference, name) - _properties(spec, name)
        if missing:
            problems.append(f"{name}: properties missing {sorted(missing)}")
    assert not problems, problems


# --- response headers


@pytest.mark.parametrize(
    "operation_id,status,header",
    [
        ("ContainerRegistryBlob_StartUpload", "202", "Location"),
        ("ContainerRegistryBlob_UploadChunk", "202", "Location"),
        ("ContainerRegistryBlob_UploadChunk", "202", "Range"),
        ("ContainerRegistryBlob_CompleteUpload", "201", "Docker-Content-Digest"),
        ("ContainerRegistryBlob_GetBlob", "307", "Location"),
        ("ContainerRegistryBlob_GetChunk", "206", "Content-Range"),
        ("ContainerRegistry_GetManifest", "200", "Docker-Content-Digest"),
        ("ContainerRegistry_CheckManifestExists", "200", "Content-Type"),
        ("ContainerRegistry_GetRepositories", "200", "Link"),
        ("ContainerRegistry_GetCatalog", "200", "Link"),
        ("ContainerRegistry_GetReferrers", "200", "OCI-Filters-Applied"),
    ],
)
def test_response_headers_declared(spec, operation_id, status, header):
    op = _operations(spec)[operation_id][2]
    assert header in op["responses"][status].get("headers", {})


def test_upload_link_is_not_url_encoded(spec):
    link = _resolve(spec, {"$ref": "#/parameters/NextLink"})
    assert link["in"] == "path" and link["x-ms-skip-url-encoding"] is True


# --- (d) freshness


def test_committed_generated_code_is_fresh(tmp_path):
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(
            "node/npm not on PATH: cannot run AutoRest to check src/azurecr/_generated is fresh"
        )
    out = tmp_path / "generated"
    result = subprocess.run(
        ["bash", str(REGENERATE), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    def files(base: Path) -> set[str]:
        return {
            str(p.relative_to(base))
            for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    committed, fresh = files(GENERATED), files(out)
    assert committed == fresh, (
        f"only committed: {sorted(committed - fresh)}; "
        f"only regenerated: {sorted(fresh - committed)}"
    )
    _, mismatch, errors = filecmp.cmpfiles(GENERATED, out, sorted(committed), shallow=False)
    assert not mismatch and not errors, (
        f"src/azurecr/_generated is stale (run scripts/regenerate.sh): {mismatch + errors}"
    )
