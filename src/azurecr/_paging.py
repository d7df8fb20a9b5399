"""The one paging implementation behind every ``list_*`` method, sync and async.

ACR and OCI registries announce the next page only in a ``Link`` header
(``<url>; rel="next"``, RFC 8288; OCI distribution spec, "Listing Tags"), whose URL carries
``last`` (the last item of this page), ``n`` and ``orderby``. The pure helpers here parse
that header, check that the URL stays on the registry's origin, and turn it back into the
arguments of the same generated operation; ``item_paged`` / ``async_item_paged`` are the thin
azure-core glue. The continuation token is the next link as the registry sent it;
``by_page(continuation_token=...)`` also accepts the name (or digest) of an item, and then
resumes after that item.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

from azure.core.async_paging import AsyncItemPaged, AsyncList
from azure.core.paging import ItemPaged

__all__ = [
    "PageQuery",
    "async_item_paged",
    "first_page",
    "item_paged",
    "next_link",
    "query_for",
]

T = TypeVar("T")
Page = tuple[list[T], Optional[str]]

_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_PARAM = re.compile(r';\s*([^=;,\s]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))')
_ORDERS = {"none": None, "timedesc": "timedesc", "timeasc": "timeasc"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class PageQuery:
    """Arguments of one page request: the generated list operations' ``last``/``n``/``orderby``."""

    last: Optional[str] = None
    n: Optional[int] = None
    orderby: Optional[str] = None

    def as_kwargs(self) -> dict[str, Any]:
        return {"last": self.last, "n": self.n, "orderby": self.orderby}


def first_page(results_per_page: Optional[int] = None, order_by: Optional[str] = None) -> PageQuery:
    """The first page's arguments; ``TypeError`` for a page size that is not an int,
    ``ValueError`` for one below 1 or an unknown order."""
    if results_per_page is not None:
        if isinstance(results_per_page, bool) or not isinstance(results_per_page, int):
            raise TypeError(
                f"results_per_page must be an int, not {type(results_per_page).__name__}"
            )
        if results_per_page < 1:
            raise ValueError(f"results_per_page must be at least 1, not {results_per_page}")
    orderby: Optional[str] = None
    if order_by is not None:
        key = str(getattr(order_by, "value", order_by)).lower()
        if key not in _ORDERS:
            raise ValueError(
                f"order_by must be one of {sorted(_ORDERS)} (or the enum), not {order_by!r}"
            )
        orderby = _ORDERS[key]
    return PageQuery(n=results_per_page, orderby=orderby)


def _origin(url: str) -> tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def _on_origin(link: str, endpoint: str) -> str:
    """The absolute form of ``link``; ``ValueError`` when it leaves the registry's origin."""
    absolute = urljoin(endpoint.rstrip("/") + "/", link)
    if _origin(absolute) != _origin(endpoint):
        raise ValueError(
            f"the registry's next-page link {link!r} leaves the registry origin {endpoint!r}"
        )
    return absolute


def next_link(header: Optional[str], endpoint: str) -> Optional[str]:
    """The ``rel="next"`` URL of a ``Link`` header, or None when there is no next page.

    Relative and absolute URLs are accepted; one on another origin raises ``ValueError``
    (the client never follows a registry-supplied URL off the registry).
    """
    if not header:
        return None
    for match in _LINK.finditer(header):
        url, params = match.group(1).strip(), match.group(2)
        for name, quoted, bare in _PARAM.findall(params):
            value = quoted if quoted else bare
            if name.lower() == "rel" and "next" in value.lower().split():
                _on_origin(url, endpoint)
                return url
    return None


def _is_link(token: str) -> bool:
    # A link is a path ("/acr/v1/...") or an absolute URL; an item (repository name, tag,
    # digest) never starts with "/" and never contains "://".
    return token.startswith("/") or "://" in token


def query_for(token: Optional[str], first: PageQuery, endpoint: str) -> PageQuery:
    """The page arguments for a continuation token (None: the first page).

    A token that is a next link gives its ``last``, ``n`` and ``orderby`` (falling back to the
    first page's ``n`` and ``orderby``); any other token is the item to resume after.
    """
    if token is None:
        return first
    if not _is_link(token):
        return replace(first, last=token)
    query = parse_qs(urlsplit(_on_origin(token, endpoint)).query, keep_blank_values=True)

    def one(name: str) -> Optional[str]:
        values = query.get(name)
        return values[-1] if values else None

    n_text = one("n")
    try:
        n = int(n_text) if n_text else first.n
    except ValueError:
        n = first.n
    orderby = one("orderby")
    return PageQuery(
        last=one("last") or None,
        n=n,
        orderby=_ORDERS.get(orderby.lower(), orderby) if orderby else first.orderby,
    )


def item_paged(
    fetch: Callable[[PageQuery], Page[T]], first: PageQuery, endpoint: str
) -> ItemPaged[T]:
    """``ItemPaged`` over ``fetch(query) -> (items, next link or None)``."""

    def get_next(token: Optional[str] = None) -> Page[T]:
        return fetch(query_for(token, first, endpoint))

    def extract_data(page: Page[T]) -> tuple[Optional[str], Iterator[T]]:
        items, link = page
        return link, iter(items)

    return ItemPaged(get_next, extract_data)


def async_item_paged(
    fetch: Callable[[PageQuery], Awaitable[Page[T]]], first: PageQuery, endpoint: str
) -> AsyncItemPaged[T]:
    """``AsyncItemPaged`` over ``await fetch(query) -> (items, next link or None)``."""

    async def get_next(token: Optional[str] = None) -> Page[T]:
        return await fetch(query_for(token, first, endpoint))

    async def extract_data(page: Page[T]) -> tuple[Optional[str], AsyncList[T]]:
        items, link = page
        return link, AsyncList(items)

    return AsyncItemPaged(get_next, extract_data)
