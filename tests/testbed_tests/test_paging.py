"""n=1 paging with Link rel="next" walks every item, for catalog, tags and manifests."""

from __future__ import annotations

import re
from typing import Any

from tests.testbed import TestBed

from ._helpers import acr, enc, push_image

LINK = re.compile(r'^<(?P<url>[^>]+)>;\s*rel="next"$')


def walk(bed: TestBed, path: str, key: str, token: str) -> tuple[list[Any], int]:
    items: list[Any] = []
    pages = 0
    next_path: str | None = path
    while next_path:
        r = acr(bed, next_path, token=token)
        assert r.status == 200, r.body
        pages += 1
        items += r.json()[key]
        link = r.header("Link")
        if link:
            m = LINK.match(link)
            assert m, link
            next_path = m.group("url")
            assert next_path.startswith("/acr/v1/")
        else:
            next_path = None
        assert pages < 10_000  # a loop guard: the session bed holds every test's repositories
    return items, pages


def test_paging(testbed: TestBed) -> None:
    repo = "paging/repo"
    token = testbed.mint_access_token(
        [f"repository:{repo}:pull,push,metadata_read", "registry:catalog:*"]
    )
    for i, tag in enumerate(["t1", "t2", "t3"]):
        push_image(testbed, repo, tag, token=token, layer=f"layer{i}".encode())
    for name in ("paging/a", "paging/b"):
        t = testbed.mint_access_token([f"repository:{name}:pull,push"])
        push_image(testbed, name, "x", token=t)

    tags, pages = walk(testbed, f"/acr/v1/{enc(repo)}/_tags?n=1", "tags", token)
    assert [t["name"] for t in tags] == ["t1", "t2", "t3"] and pages == 3
    r = acr(testbed, f"/acr/v1/{enc(repo)}/_tags?n=1", token=token)
    assert r.header("Link") == f'</acr/v1/{enc(repo)}/_tags?last=t1&n=1&orderby=>; rel="next"'

    tags, _ = walk(testbed, f"/acr/v1/{enc(repo)}/_tags?n=2&orderby=timedesc", "tags", token)
    assert [t["name"] for t in tags] == ["t3", "t2", "t1"]

    manifests, pages = walk(testbed, f"/acr/v1/{enc(repo)}/_manifests?n=1", "manifests", token)
    digests = [m["digest"] for m in manifests]
    assert len(digests) == 3 == pages and digests == sorted(digests)

    digest = tags[0]["digest"]
    r = acr(testbed, f"/acr/v1/{enc(repo)}/_tags?digest={digest}", token=token)
    assert [t["name"] for t in r.json()["tags"]] == ["t3"]

    repos, _ = walk(testbed, "/acr/v1/_catalog?n=1", "repositories", token)
    assert repos == sorted(repos) and len(repos) == len(set(repos))
    assert {"paging/a", "paging/b", repo} <= set(repos)
