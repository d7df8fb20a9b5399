"""Link header parsing, continuation tokens and the ItemPaged glue (no I/O)."""

from __future__ import annotations

import asyncio

import pytest

from azurecr import ArtifactTagOrder
from azurecr._paging import (
    PageQuery,
    async_item_paged,
    first_page,
    item_paged,
    next_link,
    query_for,
)

EP = "https://myreg.azurecr.io"


def test_first_page_arguments() -> None:
    assert first_page() == PageQuery()
    assert first_page(5, ArtifactTagOrder.LAST_UPDATED_ON_DESCENDING) == PageQuery(
        n=5, orderby="timedesc"
    )
    assert first_page(None, "TimeAsc").orderby == "timeasc"
    assert first_page(None, "none").orderby is None  # NONE sends no orderby
    for bad in (0, -1):
        with pytest.raises(ValueError, match="results_per_page"):
            first_page(bad)
    for wrong in (True, "5", 2.0):
        with pytest.raises(TypeError, match="results_per_page"):
            first_page(wrong)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="order_by"):
        first_page(None, "sideways")


def test_next_link_relative_and_absolute() -> None:
    rel = '</acr/v1/_catalog?last=b&n=2&orderby=>; rel="next"'
    assert next_link(rel, EP) == "/acr/v1/_catalog?last=b&n=2&orderby="
    absolute = "<https://MyReg.azurecr.io:443/v2/_catalog?last=b&n=2>; rel=next"
    assert next_link(absolute, EP) == "https://MyReg.azurecr.io:443/v2/_catalog?last=b&n=2"
    several = '<https://myreg.azurecr.io/x>; rel="prev", </y?last=z>; type="a"; rel="next"'
    assert next_link(several, EP) == "/y?last=z"
    assert next_link(None, EP) is None
    assert next_link("", EP) is None
    assert next_link('</x>; rel="prev"', EP) is None


@pytest.mark.parametrize(
    "link",
    [
        '<https://evil.example/acr/v1/_catalog?last=b>; rel="next"',
        '<//evil.example/acr/v1/_catalog?last=b>; rel="next"',
        '<http://myreg.azurecr.io/acr/v1/_catalog?last=b>; rel="next"',
        '<https://myreg.azurecr.io:8443/acr/v1/_catalog?last=b>; rel="next"',
    ],
)
def test_next_link_off_origin_raises(link: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        next_link(link, EP)


def test_query_for_tokens() -> None:
    first = PageQuery(n=3, orderby="timedesc")
    assert query_for(None, first, EP) is first
    assert query_for("/acr/v1/a%2Fb/_tags?last=v1&n=2&orderby=timeasc", first, EP) == PageQuery(
        last="v1", n=2, orderby="timeasc"
    )
    # Empty orderby / missing n fall back to the first page's values.
    assert query_for("/acr/v1/_catalog?last=a%2Fb&orderby=", first, EP) == PageQuery(
        last="a/b", n=3, orderby="timedesc"
    )
    # Not a link: the item to resume after.
    assert query_for("library/hello", first, EP) == PageQuery("library/hello", 3, "timedesc")
    assert query_for("sha256:" + "a" * 64, first, EP).last == "sha256:" + "a" * 64
    with pytest.raises(ValueError, match="origin"):
        query_for("https://evil.example/acr/v1/_catalog?last=a", first, EP)


def _fake_registry(items: list[str]):  # type: ignore[no-untyped-def]
    calls: list[PageQuery] = []

    def fetch(q: PageQuery) -> tuple[list[str], str | None]:
        calls.append(q)
        start = items.index(q.last) + 1 if q.last else 0
        page = items[start : start + (q.n or 100)]
        more = start + len(page) < len(items)
        return page, (f"/v2/_catalog?last={page[-1]}&n={q.n}" if more else None)

    return fetch, calls


def test_item_paged_follows_links_and_resumes() -> None:
    items = [f"r{i}" for i in range(7)]
    fetch, calls = _fake_registry(items)
    assert list(item_paged(fetch, PageQuery(n=3), EP)) == items
    assert [c.last for c in calls] == [None, "r2", "r5"]
    pages = item_paged(fetch, PageQuery(n=3), EP).by_page()
    assert list(next(pages)) == ["r0", "r1", "r2"]
    token = pages.continuation_token
    assert token == "/v2/_catalog?last=r2&n=3"
    resumed = item_paged(fetch, PageQuery(n=3), EP).by_page(continuation_token=token)
    assert [list(p) for p in resumed] == [["r3", "r4", "r5"], ["r6"]]
    after_item = item_paged(fetch, PageQuery(n=3), EP).by_page(continuation_token="r4")
    assert [list(p) for p in after_item] == [["r5", "r6"]]


def test_async_item_paged_follows_links() -> None:
    items = [f"r{i}" for i in range(5)]
    fetch, calls = _fake_registry(items)

    async def afetch(q: PageQuery) -> tuple[list[str], str | None]:
        return fetch(q)

    async def run() -> tuple[list[str], list[list[str]]]:
        flat = [x async for x in async_item_paged(afetch, PageQuery(n=2), EP)]
        pages = []
        async for page in async_item_paged(afetch, PageQuery(n=2), EP).by_page(
            continuation_token="/v2/_catalog?last=r1&n=2"
        ):
            pages.append([x async for x in page])
        return flat, pages

    flat, pages = asyncio.run(run())
    assert flat == items
    assert pages == [["r2", "r3"], ["r4"]]
