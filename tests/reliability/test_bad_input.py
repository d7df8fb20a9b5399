"""Bad caller input (issue 7, "Bad caller input"), against the real test bed.

Every public method of ``ContainerRegistryClient`` and of its async twin is called with
invalid repository names, tags, digests, ``None`` and wrong types for its other arguments.
Each call must raise ``TypeError`` (a value of the wrong type, ``None`` where a value is
required) or ``ValueError`` (a value of the right type that is not valid) before any request:
the test bed's traffic log is cleared before the call and must still be empty after it.

The ``list_*`` methods return lazy pagers: their arguments are checked when the method is
called (no page is fetched until iteration). A case whose error may only surface at the
first iteration says so (``lazy=True``); the first page is then pulled, and still no request
may have gone out.

The bugs this suite found (unchecked flags and hooks, inconsistent error classes) were fixed
in the library; their cases stay as regression tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

import azurecr
import azurecr.aio
from azurecr import (
    ArtifactManifestProperties,
    ArtifactTagProperties,
    RepositoryProperties,
)
from tests.integration._clients import AsyncTestbedCredential, TestbedCredential
from tests.testbed import TestBed

from ._report import record

REPO = "reliability/bad-input"
TAG = "v1"
DIGEST = "sha256:" + "0" * 64
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": DIGEST, "size": 2},
    "layers": [],
}
PATH = object()  # stands for a fresh file path in the test's tmp_path

BAD_REPOSITORIES: list[tuple[Any, type[Exception]]] = [
    ("../x", ValueError),
    ("UPPER", ValueError),
    ("", ValueError),
    ("a//b", ValueError),
    ("-a", ValueError),
    ("a/", ValueError),
    ("a" * 300, ValueError),
    (None, TypeError),
    (5, TypeError),
    (b"bytes", TypeError),
]
BAD_TAGS: list[tuple[Any, type[Exception]]] = [
    ("-x", ValueError),
    (".x", ValueError),
    ("a" * 129, ValueError),
    ("a b", ValueError),
    (None, TypeError),
]
BAD_DIGESTS: list[tuple[Any, type[Exception]]] = [
    ("sha256:XYZ", ValueError),
    ("sha256:" + "a" * 63, ValueError),
    ("md5:d41d8cd98f00b204e9800998ecf8427e", ValueError),
    ("sha256", ValueError),
    (None, TypeError),
]
# Where a tag or a digest is accepted, "sha256" is a valid *tag* (no ':'), so it is not bad
# input there: get_manifest(repo, "sha256") rightly asks the registry for that tag.
BAD_TAGS_OR_DIGESTS = BAD_TAGS + [(v, e) for v, e in BAD_DIGESTS if v not in ("sha256", None)]


@dataclass
class Method:
    """A public client method: its positional arguments (name, a valid value), keyword
    arguments with valid values, and which of them hold a repository / tag / digest."""

    name: str
    args: list[tuple[str, Any]]
    kwargs: dict[str, Any] = field(default_factory=dict)
    paged: bool = False


METHODS = [
    Method("list_repository_names", [], paged=True),
    Method("get_repository_properties", [("repository", REPO)]),
    Method("update_repository_properties", [("repository", REPO)], {"can_delete": True}),
    Method("delete_repository", [("repository", REPO)]),
    Method("list_manifest_properties", [("repository", REPO)], paged=True),
    Method("get_manifest_properties", [("repository", REPO), ("tag_or_digest", TAG)]),
    Method(
        "update_manifest_properties",
        [("repository", REPO), ("tag_or_digest", TAG)],
        {"can_delete": True},
    ),
    Method("delete_manifest", [("repository", REPO), ("tag_or_digest", TAG)]),
    Method("list_tag_properties", [("repository", REPO)], {"digest": DIGEST}, paged=True),
    Method("get_tag_properties", [("repository", REPO), ("tag", TAG)]),
    Method("update_tag_properties", [("repository", REPO), ("tag", TAG)], {"can_delete": True}),
    Method("delete_tag", [("repository", REPO), ("tag", TAG)]),
    Method("set_manifest", [("repository", REPO), ("manifest", MANIFEST)], {"tag": TAG}),
    Method("get_manifest", [("repository", REPO), ("tag_or_digest", TAG)]),
    Method("manifest_exists", [("repository", REPO), ("tag_or_digest", TAG)]),
    Method("upload_blob", [("repository", REPO), ("data", b"payload")], {"digest": None}),
    Method("download_blob", [("repository", REPO), ("digest", DIGEST)]),
    Method("download_blob_to_file", [("repository", REPO), ("digest", DIGEST), ("path", PATH)]),
    Method("blob_exists", [("repository", REPO), ("digest", DIGEST)]),
    Method("mount_blob", [("repository", REPO), ("digest", DIGEST), ("from_repository", "other")]),
    Method("delete_blob", [("repository", REPO), ("digest", DIGEST)]),
    Method("push_artifact", [("repository", REPO), ("files", [])], {"tag": TAG}),
    Method("pull_artifact", [("repository", REPO), ("reference", TAG), ("directory", PATH)]),
    Method("list_referrers", [("repository", REPO), ("digest", DIGEST)], paged=True),
]

# Arguments whose None means "not given" (valid): None is not bad input for them.
OPTIONAL = {
    ("list_tag_properties", "digest"),
    ("set_manifest", "tag"),
    ("upload_blob", "digest"),
    ("push_artifact", "tag"),
}
ROLES: dict[str, list[tuple[Any, type[Exception]]]] = {
    "repository": BAD_REPOSITORIES,
    "from_repository": BAD_REPOSITORIES,
    "tag": BAD_TAGS,
    "tag_or_digest": BAD_TAGS_OR_DIGESTS,
    "reference": BAD_TAGS_OR_DIGESTS,
    "digest": BAD_DIGESTS,
}

@dataclass
class Case:
    method: Method
    argument: str
    value: Any
    expected: type[Exception]
    lazy: bool = False  # the error may surface at the first iteration of the pager
    bug: Optional[str] = None

    @property
    def id(self) -> str:
        shown = repr(self.value)
        if len(shown) > 24:
            shown = shown[:10] + f"...({len(shown)})"
        return f"{self.method.name}-{self.argument}={shown}"

    def call_arguments(self, tmp_path: Path) -> tuple[list[Any], dict[str, Any]]:
        args = []
        for name, valid in self.method.args:
            value = self.value if name == self.argument else valid
            args.append(tmp_path / "blob" if value is PATH else value)
        kwargs = dict(self.method.kwargs)
        if self.argument not in {name for name, _ in self.method.args}:
            kwargs[self.argument] = self.value
        return args, kwargs


def _method(name: str) -> Method:
    return next(m for m in METHODS if m.name == name)


def _cases() -> list[Case]:
    cases: list[Case] = []
    # Invalid names, tags and digests in every argument that holds one.
    for method in METHODS:
        names = [name for name, _ in method.args] + list(method.kwargs)
        for name in names:
            for value, expected in ROLES.get(name, []):
                if value is None and (method.name, name) in OPTIONAL:
                    continue
                cases.append(Case(method, name, value, expected))
    # Wrong types and bad values of the other arguments.
    for name in ("list_repository_names", "list_manifest_properties", "list_tag_properties"):
        m = _method(name)
        cases += [
            Case(m, "results_per_page", "10", TypeError),
            Case(m, "results_per_page", 0, ValueError),
            Case(m, "results_per_page", -1, ValueError),
            Case(m, "results_per_page", True, TypeError),
        ]
    for name in ("list_manifest_properties", "list_tag_properties"):
        cases.append(Case(_method(name), "order_by", "nonsense", ValueError))
    # list_repository_names has no order_by: the stray keyword travels to the transport,
    # which refuses it at the first page (no request is sent).
    cases.append(
        Case(_method("list_repository_names"), "order_by", "nonsense", TypeError, lazy=True)
    )
    for name, kind in (
        ("update_repository_properties", RepositoryProperties),
        ("update_manifest_properties", ArtifactManifestProperties),
        ("update_tag_properties", ArtifactTagProperties),
    ):
        m = _method(name)
        cases.append(Case(m, "properties", "x", TypeError))
        cases.append(Case(m, "properties", {"can_delete": False}, TypeError))
        wrong = {
            RepositoryProperties: ArtifactTagProperties,
            ArtifactManifestProperties: RepositoryProperties,
            ArtifactTagProperties: ArtifactManifestProperties,
        }[kind]
        cases.append(Case(m, "properties", wrong(), TypeError))
        cases.append(Case(m, "can_delete", "no", TypeError))
        cases.append(Case(m, "can_write", 0, TypeError))
    m = _method("set_manifest")
    cases += [
        Case(m, "manifest", None, TypeError),
        Case(m, "manifest", 5, TypeError),
        Case(m, "manifest", "text", TypeError),
        Case(m, "manifest", b"not json", ValueError),
        Case(m, "manifest", {"no": "media type"}, ValueError),
        Case(m, "manifest", {"mediaType": "a/b", "bad": {1, 2}}, ValueError),
        Case(m, "manifest", b"x" * (4 * 1024 * 1024 + 1), ValueError),  # ManifestTooLargeError
        Case(m, "media_type", "", ValueError),
        Case(m, "media_type", 5, TypeError),
    ]
    m = _method("upload_blob")
    cases += [
        Case(m, "data", None, TypeError),
        Case(m, "data", "text", TypeError),
        Case(m, "data", 5, TypeError),
        Case(m, "chunk_size", 1, ValueError),
        Case(m, "chunk_size", 0, ValueError),
        Case(m, "chunk_size", "1", TypeError),
        Case(m, "chunk_size", 2**40, ValueError),
        Case(m, "progress_hook", "x", TypeError),
    ]
    m = _method("download_blob_to_file")
    cases += [
        Case(m, "max_concurrency", 0, ValueError),
        Case(m, "max_concurrency", 65, ValueError),
        Case(m, "max_concurrency", "4", TypeError),
        Case(m, "part_size", 1, ValueError),
        Case(m, "part_size", "8", TypeError),
        Case(m, "path", None, TypeError),
        Case(m, "progress_hook", 5, TypeError),
    ]
    m = _method("push_artifact")
    cases += [
        Case(m, "files", None, TypeError),
        Case(m, "files", "a-file.txt", TypeError),
        Case(m, "files", [5], TypeError),
        Case(m, "config", 5, TypeError),
        Case(m, "annotations", {"a": 1}, TypeError),
        Case(m, "artifact_type", 5, TypeError),
        Case(m, "subject", 5, TypeError),
        Case(m, "subject", "a b", ValueError),
        Case(m, "max_concurrency", 0, ValueError),
        Case(m, "max_concurrency", "4", TypeError),
        Case(m, "progress_hook", 5, TypeError),
    ]
    m = _method("pull_artifact")
    cases += [
        Case(m, "directory", None, TypeError),
        Case(m, "platform", "linux", ValueError),
        Case(m, "platform", 5, TypeError),
        Case(m, "max_concurrency", 0, ValueError),
        Case(m, "progress_hook", "x", TypeError),
    ]
    cases.append(Case(_method("list_referrers"), "artifact_type", 5, TypeError))
    return cases


CASES = _cases()
PARAMS = [
    pytest.param(
        case,
        id=case.id,
        marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
    )
    for case in CASES
]


def test_every_public_method_is_covered() -> None:
    """Each public method of both clients is exercised (a new method must be added here)."""
    covered = {m.name for m in METHODS}
    for cls in (azurecr.ContainerRegistryClient, azurecr.aio.ContainerRegistryClient):
        public = {
            name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name))
        } - {"close", "ping"}
        assert public == covered, cls
    # Every method sees at least one invalid repository name.
    assert {c.method.name for c in CASES if c.argument == "repository"} >= covered - {
        "list_repository_names"
    }


def _check(raised: BaseException, case: Case) -> None:
    assert isinstance(raised, case.expected), (
        f"{case.id}: expected {case.expected.__name__}, got {type(raised).__name__}: {raised}"
    )


def _no_request(testbed: TestBed, case: Case, tmp_path: Path) -> None:
    traffic = testbed.traffic()
    assert traffic == [], f"{case.id} sent requests: {traffic}"
    assert list(tmp_path.iterdir()) == [], f"{case.id} left files: {list(tmp_path.iterdir())}"


@pytest.fixture(scope="module")
def client(testbed: TestBed) -> Any:
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


@pytest.mark.parametrize("case", PARAMS)
def test_sync_rejects_before_any_request(
    case: Case, client: Any, testbed: TestBed, tmp_path: Path
) -> None:
    args, kwargs = case.call_arguments(tmp_path)
    testbed.traffic(clear=True)
    when = "at call"
    with pytest.raises((TypeError, ValueError)) as info:
        result = getattr(client, case.method.name)(*args, **kwargs)
        if case.method.paged:
            # No error at call time: the pager may only fail when a page is fetched.
            assert case.lazy, f"{case.id}: accepted at call time"
            when = "at first iteration"
            next(iter(result))
    _check(info.value, case)
    _no_request(testbed, case, tmp_path)
    record("bad caller input", "rejected before any request", 1)
    record("bad caller input (sync / async, when)", f"sync: {when}", 1)


@pytest.mark.parametrize("case", PARAMS)
async def test_async_rejects_before_any_request(
    case: Case, testbed: TestBed, tmp_path: Path
) -> None:
    args, kwargs = case.call_arguments(tmp_path)
    async with azurecr.aio.ContainerRegistryClient(
        testbed.endpoint, AsyncTestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as client:
        testbed.traffic(clear=True)
        when = "at call"
        with pytest.raises((TypeError, ValueError)) as info:
            method: Callable[..., Any] = getattr(client, case.method.name)
            if case.method.paged:
                pager = method(*args, **kwargs)
                assert case.lazy, f"{case.id}: accepted at call time"
                when = "at first iteration"
                await pager.__anext__()
            else:
                await method(*args, **kwargs)
        _check(info.value, case)
        _no_request(testbed, case, tmp_path)
    record("bad caller input", "rejected before any request", 1)
    record("bad caller input (sync / async, when)", f"async: {when}", 1)
