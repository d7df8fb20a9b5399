"""Fuzzing of every pure parser (issue 7, "Fuzzing").

The contract each parser is held to: hostile input (random text and bytes, near-valid
mutations of valid input, huge numbers, unicode look-alikes, control characters, very long
strings) either parses or raises ``ValueError`` (or returns the documented ``None``), never
anything else; valid input round-trips. Each test counts the inputs it tried in the
reliability tally (``record("fuzzing", <parser>, n)``).

The unit tests (tests/unit/test_challenge.py, test_digest.py, test_oci_models.py,
test_paging.py, test_reference.py) check the grammars example by example; here every parser is
thrown the same kinds of garbage, in one place, within a bounded budget (< 30 s in all).

The bugs this suite found were fixed in the library; their tests stay as regression tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import Any, Callable, Optional, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azurecr._auth_flow import jwt_expiry, renewal_time
from azurecr._challenge import AuthChallenge, find_challenge, parse_www_authenticate
from azurecr._digest import SUPPORTED_ALGORITHMS, Digest
from azurecr._manifest_logic import GetManifestResult, manifest_payload, manifest_result
from azurecr._oci_models import (
    DockerManifest,
    DockerManifestList,
    KnownManifestMediaType,
    OciAnnotations,
    OciDescriptor,
    OciImageIndex,
    OciImageManifest,
    OciPlatform,
    manifest_bytes,
)
from azurecr._paging import PageQuery, first_page, next_link, query_for
from azurecr._reference import (
    Reference,
    validate_digest,
    validate_repository,
    validate_tag,
    validate_tag_or_digest,
)
from azurecr._transfer import (
    MAX_MANIFEST_SIZE,
    content_range,
    parse_content_range,
    parse_upload_range,
    session_link,
)

from ._report import record

T = TypeVar("T")

EP = "https://myreg.azurecr.io"
LOOPBACK = "https://127.0.0.1:5443"

# Bounded: the whole file runs in well under 30 s (hypothesis' database may replay a few
# more examples after a failure; that is fine).
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FEW = settings(FUZZ, max_examples=20)
# Whole manifests are costly to generate: fewer of them.
HEAVY = settings(FUZZ, max_examples=30)


def tried(parser: str, n: int = 1) -> None:
    """One more input thrown at ``parser`` (hypothesis runs a test body once per example)."""
    record("fuzzing", parser, n)


def value_error_or(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Optional[T]:
    """``fn(*args)``; a ``ValueError`` gives None. Anything else propagates and fails."""
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- hostile input
_CONTROL = st.characters(min_codepoint=0, max_codepoint=31) | st.sampled_from(
    ["\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "\u200b", "\u202e", "\x00"]
)
# Digits and letters that are not ASCII but look like (or count as) digits and hex.
_LOOKALIKES = st.sampled_from(list("٠١٢٣٤٥٦٧٨٩０１２３４５６７８９ａｂｃｄｅｆＡＢＣＤＥＦ²³½ǅıİ"))
_SYNTAX = st.sampled_from(list(" \t\r\n\",;=<>:/\\@?#%&+.-_~[]{}()*'!$^`|"))
_hostile_char = st.one_of(st.characters(), _CONTROL, _SYNTAX, _LOOKALIKES)
_huge_number = st.integers(min_value=10**18, max_value=10**700).map(str) | st.sampled_from(
    ["1e999", "-1e999", "NaN", "Infinity", "-0", "00000000000000000000001", "9" * 5000]
)
_long = st.tuples(st.text(_hostile_char, min_size=1, max_size=4), st.integers(1_000, 20_000)).map(
    lambda pair: pair[0] * pair[1]
)
# Characters a JSON document can carry through UTF-8 (no lone surrogates).
_json_char = _hostile_char.filter(lambda c: not "\ud800" <= c <= "\udfff")
hostile_text = st.one_of(
    st.text(_hostile_char, max_size=60),
    st.text(max_size=30),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    _huge_number,
    _long,
)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    """A valid string damaged one to three times: a near miss of the grammar."""
    text = draw(valid)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ["insert", "delete", "replace", "truncate", "repeat", "case", "junk", "prefix"]
            )
        )
        pos = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:pos] + draw(_hostile_char) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif op == "replace":
            text = text[:pos] + draw(_hostile_char) + text[pos + 1 :]
        elif op == "truncate":
            text = text[:pos]
        elif op == "repeat":
            piece = text[pos : pos + draw(st.integers(1, 8))]
            text = text[:pos] + piece * draw(st.integers(2, 300)) + text[pos:]
        elif op == "case":
            text = text.swapcase()
        elif op == "junk":
            text = text + draw(hostile_text)
        else:
            text = draw(hostile_text) + text
    return text


def hostile(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Garbage, near misses of ``valid``, and (sometimes) ``valid`` itself."""
    return st.one_of(hostile_text, mutated(valid), valid)


# ----------------------------------------------------------------------------- valid input
_repo_component = st.from_regex(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+){0,2}", fullmatch=True)
repositories = (
    st.lists(_repo_component, min_size=1, max_size=4)
    .map("/".join)
    .filter(lambda name: len(name) <= 255)
)
tags = st.from_regex(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}", fullmatch=True)
digests = st.builds(
    lambda data, algorithm: Digest.of(data, algorithm),
    st.binary(max_size=32),
    st.sampled_from(sorted(SUPPORTED_ALGORITHMS)),
)
_label = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
# Registries as the Reference docs describe them: a dotted host, or one with a port, or
# localhost (a dotless name without a port reads back as a repository: see the xfail below).
registries = st.one_of(
    st.lists(_label, min_size=2, max_size=4).map(".".join),
    st.tuples(_label, st.integers(1, 65535)).map(lambda t: f"{t[0]}:{t[1]}"),
    st.just("localhost"),
    st.integers(1, 65535).map(lambda port: f"[::1]:{port}"),
)


# ============================================================================ WWW-Authenticate
_scheme = st.from_regex(r"[A-Za-z][A-Za-z0-9_\-.!#$%&'*+^`|~]{0,10}", fullmatch=True)
_param_name = st.from_regex(r"[a-z][a-z0-9_\-.]{0,8}", fullmatch=True)
_param_value = st.text(
    st.characters(blacklist_categories=("Cs",)) | _SYNTAX | _LOOKALIKES, max_size=40
)
_bare_value = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}", fullmatch=True)
# token68, except a single trailing "=" (that reads as an empty auth-param: see the report).
_token68 = st.from_regex(r"[A-Za-z0-9\-._~+/]{1,40}(?:==)?", fullmatch=True)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def challenges(draw: st.DrawFn) -> tuple[str, list[tuple[str, dict[str, str], Optional[str]]]]:
    """A valid header and what it means: [(scheme, params, token68)]."""
    parts: list[str] = []
    meaning: list[tuple[str, dict[str, str], Optional[str]]] = []
    for _ in range(draw(st.integers(1, 3))):
        scheme = draw(_scheme)
        if draw(st.integers(0, 4)) == 0:
            token68 = draw(_token68)
            parts.append(f"{scheme} {token68}")
            meaning.append((scheme.lower(), {}, token68))
            continue
        params = draw(st.dictionaries(_param_name, _param_value | _bare_value, max_size=4))
        rendered = []
        for name, value in params.items():
            bare = value and all(
                c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~") for c in value
            )
            shown = value if bare and draw(st.booleans()) else _quote(value)
            eq = draw(st.sampled_from(["=", " = ", "\t=\t"]))
            rendered.append(f"{draw(st.sampled_from([name, name.upper()]))}{eq}{shown}")
        sep = draw(st.sampled_from([",", ", ", " ,\t", ",,"]))
        parts.append(scheme + (" " + sep.join(rendered) if rendered else ""))
        meaning.append((scheme.lower(), params, None))
    return draw(st.sampled_from([", ", ",", " , ,"])).join(parts), meaning


@FUZZ
@given(challenges())
def test_www_authenticate_round_trips(case: tuple[str, list[Any]]) -> None:
    tried("WWW-Authenticate")
    header, meaning = case
    parsed = parse_www_authenticate(header)
    assert [(c.scheme, c.params, c.token68) for c in parsed] == meaning
    for scheme, _params, _token68 in meaning:
        found = find_challenge(header, scheme.upper())
        assert found is not None and found.scheme == scheme


@FUZZ
@given(hostile(challenges().map(lambda case: case[0])))
def test_www_authenticate_garbage_is_value_error(header: str) -> None:
    tried("WWW-Authenticate")
    parsed = value_error_or(parse_www_authenticate, header)
    if parsed is not None:
        for challenge in parsed:
            assert isinstance(challenge, AuthChallenge)
            assert challenge.scheme and challenge.scheme == challenge.scheme.lower()
            assert all(name == name.lower() for name in challenge.params)
            assert isinstance(challenge.scopes, list)
    # find_challenge never raises: an unreadable challenge is None (the 401 stands).
    for scheme in ("bearer", "basic"):
        found = find_challenge(header, scheme)
        assert found is None or found.scheme == scheme
    assert (parsed is None) <= (find_challenge(header, "bearer") is None)


# ============================================================================ Link / next_link
_items = repositories | tags | digests


@st.composite
def link_headers(draw: st.DrawFn) -> tuple[str, str, PageQuery, str]:
    """(header, endpoint, the query its next link carries, the URL)."""
    endpoint = draw(st.sampled_from([EP, LOOPBACK, "https://MyReg.AzureCR.io"]))
    last = draw(_items)
    n = draw(st.integers(1, 10**6))
    orderby = draw(st.sampled_from([None, "timedesc", "timeasc"]))
    query = {"last": last, "n": str(n)}
    if orderby:
        query["orderby"] = orderby
    path = draw(st.sampled_from(["/acr/v1/_catalog", "/acr/v1/x/_tags", "/v2/_catalog"]))
    url = f"{path}?{urlencode(query)}"
    if draw(st.booleans()):
        parts = urlsplit(endpoint)
        host = parts.netloc if draw(st.booleans()) or parts.port else parts.netloc + ":443"
        url = f"https://{host.upper() if draw(st.booleans()) else host}{url}"
    rel = draw(st.sampled_from(['rel="next"', "rel=next", 'rel="prev next"', 'REL="Next"']))
    others = draw(st.lists(st.sampled_from(['</p>; rel="prev"', "<x>; rel=first"]), max_size=2))
    pre = draw(st.sampled_from([";", " ; ", ';type="a";']))
    header = ", ".join([*others, f"<{url}>{pre}{rel}" if pre != ";" else f"<{url}>; {rel}"])
    return header, endpoint, PageQuery(last=last, n=n, orderby=orderby), url


@FUZZ
@given(link_headers())
def test_link_header_round_trips(case: tuple[str, str, PageQuery, str]) -> None:
    tried("Link header")
    header, endpoint, query, url = case
    link = next_link(header, endpoint)
    assert link == url
    assert query_for(link, first_page(), endpoint) == query
    # A continuation token that is an item (not a link) resumes after that item.
    assert query_for(query.last, first_page(7), endpoint) == PageQuery(last=query.last, n=7)


def _origin(url: str) -> tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"https": 443}.get(scheme)


@FUZZ
@given(hostile(link_headers().map(lambda case: case[0])), st.sampled_from([EP, LOOPBACK]))
def test_link_header_garbage_is_value_error_or_none(header: str, endpoint: str) -> None:
    tried("Link header")
    try:
        link = next_link(header, endpoint)
    except ValueError:
        return
    if link is not None:
        # Whatever next_link returns stays on the registry's origin...
        assert _origin(urljoin(endpoint + "/", link)) == _origin(endpoint)
        # ...and turns back into page arguments (or a ValueError), nothing else.
        page = value_error_or(query_for, link, first_page(), endpoint)
        assert page is None or isinstance(page, PageQuery)


@FUZZ
@given(
    hostile_text | st.none(),
    st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats(), st.booleans()),
    st.one_of(st.none(), hostile_text, st.sampled_from(["timedesc", "TimeAsc", "none"])),
)
def test_page_arguments_and_tokens(token: Optional[str], size: Any, order: Any) -> None:
    tried("Link header")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        with pytest.raises(TypeError):  # a page size of the wrong type is a TypeError
            first_page(size, order)
        return
    first = value_error_or(first_page, size, order)
    if first is None:
        return
    assert first.n is None or (isinstance(first.n, int) and first.n >= 1)
    page = value_error_or(query_for, token, first, EP)
    assert page is None or isinstance(page, PageQuery)


# ============================================================================ Digest
@FUZZ
@given(hostile(digests))
def test_digest_garbage_is_value_error(text: str) -> None:
    tried("Digest")
    digest = value_error_or(Digest, text)
    if digest is not None:
        algorithm, _, encoded = text.partition(":")
        assert digest == text and str(digest) == text
        assert digest.algorithm == algorithm and digest.encoded == encoded
        assert len(encoded) == SUPPORTED_ALGORITHMS[algorithm]
        assert set(encoded) <= set("0123456789abcdef")
        assert validate_digest(text) == digest


@FUZZ
@given(st.binary(max_size=256), st.sampled_from(sorted(SUPPORTED_ALGORITHMS)))
def test_digest_round_trips(data: bytes, algorithm: str) -> None:
    tried("Digest")
    digest = Digest.of(data, algorithm)
    assert digest == f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
    assert Digest(str(digest)) == digest and Digest(digest) is digest
    assert repr(digest) == f"Digest({str(digest)!r})"
    hasher = digest.new_hasher()
    hasher.update(data)
    assert Digest.from_hasher(hasher) == digest


@FEW
@given(
    st.one_of(st.none(), st.integers(), st.binary(max_size=80), st.floats(), st.lists(st.text()))
)
def test_digest_of_a_non_str_is_type_error(value: Any) -> None:
    tried("Digest")
    with pytest.raises(TypeError):
        Digest(value)
    with pytest.raises(TypeError):
        validate_digest(value)


# ============================================================================ references
@FUZZ
@given(hostile(repositories))
def test_repository_names(text: str) -> None:
    tried("repository names")
    name = value_error_or(validate_repository, text)
    if name is not None:
        assert name == text and 0 < len(name) <= 255
        assert name == name.lower() and name.isascii()
        assert not name.startswith(("/", ".", "-", "_")) and "//" not in name
        assert ".." not in name.split("/")


@FUZZ
@given(hostile(tags))
def test_tags(text: str) -> None:
    tried("tags")
    tag = value_error_or(validate_tag, text)
    if tag is not None:
        assert tag == text and 0 < len(tag) <= 128 and tag.isascii()
        assert not tag.startswith((".", "-")) and ":" not in tag and "/" not in tag
    either = value_error_or(validate_tag_or_digest, text)
    if either is not None:
        assert either == text


@HEAVY
@given(st.data())
def test_references_round_trip(data: st.DataObject) -> None:
    tried("Reference.parse")
    registry = data.draw(st.none() | registries)
    repository = data.draw(repositories)
    tag = data.draw(st.none() | tags)
    digest = data.draw(st.none() | digests)
    try:
        reference = Reference(repository, registry=registry, tag=tag, digest=digest)
    except ValueError:
        # Only the documented refusal: no registry, and a first component that reads as one.
        first, slash, _ = repository.partition("/")
        assert registry is None and slash and ("." in first or first == "localhost")
        return
    text = str(reference)
    assert Reference.parse(text) == reference
    assert reference.tag_or_digest == (digest if digest is not None else tag)


@FUZZ
@given(
    hostile(
        st.builds(
            lambda reg, repo, tag, dig: (
                (f"{reg}/" if reg else "")
                + repo
                + (f":{tag}" if tag else "")
                + (f"@{dig}" if dig else "")
            ),
            st.none() | registries,
            repositories,
            st.none() | tags,
            st.none() | digests,
        )
    )
)
def test_reference_garbage_is_value_error(text: str) -> None:
    tried("Reference.parse")
    reference = value_error_or(Reference.parse, text)
    if reference is not None:
        # Parsing changes nothing: the text is the reference's canonical form.
        assert str(reference) == text
        assert Reference.parse(str(reference)) == reference


@FEW
@given(st.one_of(st.none(), st.integers(), st.binary(max_size=20), st.lists(st.text(), max_size=2)))
def test_references_of_a_non_str_are_type_errors(value: Any) -> None:
    tried("Reference.parse")
    for check in (validate_repository, validate_tag, validate_tag_or_digest, Reference.parse):
        with pytest.raises(TypeError):
            check(value)


@given(_label.filter(lambda label: label != "localhost"), repositories)
def test_dotless_registry_round_trips(registry: str, repository: str) -> None:
    tried("Reference.parse")
    try:
        reference = Reference(repository, registry=registry)
    except ValueError:
        return  # refusing it is a fix too
    assert Reference.parse(str(reference)) == reference


# ============================================================================ JWT expiry
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


_JWT_HEADER = _b64(b'{"alg":"RS256","typ":"JWT"}')


def jwt(payload: bytes) -> str:
    return f"{_JWT_HEADER}.{_b64(payload)}.c2lnbmF0dXJl"


_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)
_claims = st.dictionaries(
    st.sampled_from(["exp", "iat", "nbf", "aud", "sub"]) | st.text(max_size=5),
    json_values,
    max_size=5,
)
_token_segments = st.one_of(
    st.binary(max_size=60).map(_b64),
    _claims.map(lambda claims: _b64(json.dumps(claims).encode())),
    json_values.map(lambda value: _b64(json.dumps(value).encode())),
    hostile_text,
)


def _assert_expiry_readable(token: str) -> None:
    exp = jwt_expiry(token)
    assert exp is None or isinstance(exp, float)
    renew = renewal_time(token, 1_000.0, 60.0)
    assert isinstance(renew, float)


@FUZZ
@given(
    st.one_of(
        hostile_text,
        st.lists(_token_segments, min_size=1, max_size=5).map(".".join),
        _claims.map(lambda claims: jwt(json.dumps(claims).encode())),
    )
)
def test_jwt_expiry_of_garbage_is_none_or_a_number(token: str) -> None:
    tried("JWT expiry")
    _assert_expiry_readable(token)


@FUZZ
@given(st.integers(0, 2**40), st.none() | st.integers(0, 2**40), st.booleans())
def test_jwt_expiry_round_trips(exp: int, iat: Optional[int], as_float: bool) -> None:
    tried("JWT expiry")
    claims: dict[str, Any] = {"exp": float(exp) if as_float else exp, "sub": "x"}
    if iat is not None:
        claims["iat"] = iat
    token = jwt(json.dumps(claims).encode())
    assert jwt_expiry(token) == float(exp)
    renew = renewal_time(token, 0.0, 60.0)
    assert renew <= exp
    if iat is not None and exp > iat:
        assert renew == exp - min(60.0, (exp - iat) / 5)
    else:
        assert renew == exp - 60.0
    # Not a JWT at all: no expiry, the default lifetime.
    assert jwt_expiry(token.replace(".", "")) is None


_hostile_claims = st.one_of(
    # exp (or iat) too large for a float: json reads it as an int, float() overflows
    st.integers(309, 4000).map(lambda digits: f'{{"exp": 1{"0" * digits}}}'),
    st.integers(309, 4000).map(lambda digits: f'{{"exp": 10, "iat": 1{"0" * digits}}}'),
    # nested deeper than the json module recurses
    st.integers(5_000, 100_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(5_000, 100_000).map(lambda depth: '{"exp":' + "[" * depth + "]" * depth + "}"),
)


@given(_hostile_claims)
def test_jwt_expiry_of_huge_or_deep_claims_does_not_crash(payload: str) -> None:
    tried("JWT expiry")
    _assert_expiry_readable(jwt(payload.encode()))


@given(st.sampled_from(["1e999", "Infinity", "-Infinity", "NaN", "-1e400"]), st.booleans())
def test_jwt_expiry_is_finite(exp: str, in_iat: bool) -> None:
    tried("JWT expiry")
    payload = f'{{"exp": 100, "iat": {exp}}}' if in_iat else f'{{"exp": {exp}}}'
    token = jwt(payload.encode())
    expiry = jwt_expiry(token)
    assert expiry is None or math.isfinite(expiry)
    assert math.isfinite(renewal_time(token, 0.0, 60.0))


# ============================================================================ transfer headers
@st.composite
def content_ranges(draw: st.DrawFn) -> tuple[str, tuple[int, int, Optional[int]]]:
    start = draw(st.integers(0, 10**30))
    end = start + draw(st.integers(0, 10**20))
    total = draw(st.none() | st.integers(end + 1, end + 10**20))
    text = f"bytes {start}-{end}/{'*' if total is None else total}"
    return draw(st.sampled_from(["", " ", "\t"])) + text, (start, end, total)


@FUZZ
@given(content_ranges())
def test_content_range_round_trips(case: tuple[str, tuple[int, int, Optional[int]]]) -> None:
    tried("Content-Range")
    text, expected = case
    assert parse_content_range(text) == expected
    start, end, _ = expected
    assert content_range(start, end - start + 1) == f"{start}-{end}"


@FUZZ
@given(st.none() | hostile(content_ranges().map(lambda case: case[0])))
def test_content_range_garbage_is_value_error(text: Optional[str]) -> None:
    tried("Content-Range")
    parsed = value_error_or(parse_content_range, text)
    if parsed is not None:
        start, end, total = parsed
        assert 0 <= start <= end and (total is None or end < total)


@pytest.mark.parametrize("digits", ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "߀߁߂߃߄߅߆߇߈߉"])
def test_range_headers_read_ascii_digits_only(digits: str) -> None:
    tried("Content-Range")
    assert value_error_or(parse_content_range, f"bytes {digits[1]}-{digits[2]}/{digits[3]}") is None
    tried("upload Range")
    assert value_error_or(parse_upload_range, f"0-{digits[5]}") is None


@FUZZ
@given(st.integers(0, 10**30), st.sampled_from(["{}", "0-{}", "bytes=0-{}", " 0-{} "]))
def test_upload_range_round_trips(end: int, form: str) -> None:
    tried("upload Range")
    text = form.format(end) if form != "{}" else f"0-{end}"
    assert parse_upload_range(text) == (0 if end == 0 else end + 1)


@FUZZ
@given(st.none() | hostile(st.integers(0, 10**12).map(lambda end: f"0-{end}")))
def test_upload_range_garbage_is_value_error(text: Optional[str]) -> None:
    tried("upload Range")
    held = value_error_or(parse_upload_range, text)
    assert held is None or (isinstance(held, int) and held >= 0)


_session_paths = st.builds(
    lambda repo, uuid, state: f"/v2/{repo}/blobs/uploads/{uuid}" + (f"?{state}" if state else ""),
    repositories,
    st.uuids().map(str),
    st.none()
    | st.dictionaries(st.sampled_from(["_state", "digest", "n"]), st.text(max_size=20)).map(
        urlencode
    ),
)


@st.composite
def locations(draw: st.DrawFn) -> tuple[str, str, str]:
    """(Location, endpoint, the session link it should give)."""
    endpoint = draw(st.sampled_from([EP, LOOPBACK]))
    path = draw(_session_paths)
    parts = urlsplit(path)
    expected = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    if draw(st.booleans()):
        origin = endpoint.upper() if draw(st.booleans()) else endpoint
        return origin + path, endpoint, expected
    return path, endpoint, expected


@FUZZ
@given(locations())
def test_session_location_round_trips(case: tuple[str, str, str]) -> None:
    tried("upload Location")
    location, endpoint, expected = case
    assert session_link(location, endpoint) == expected


@FUZZ
@given(st.none() | hostile(locations().map(lambda case: case[0])), st.sampled_from([EP, LOOPBACK]))
def test_session_location_garbage_is_value_error(location: Optional[str], endpoint: str) -> None:
    tried("upload Location")
    link = value_error_or(session_link, location, endpoint)
    if link is not None:
        assert isinstance(link, str) and not link.startswith("/")
        # The generated operations send to "/" + link on the endpoint: it must stay there.
        assert _origin(urljoin(endpoint, "/" + link)) == _origin(endpoint)
        absolute = urlsplit(location or "")
        if absolute.scheme or absolute.netloc:
            assert _origin(location or "") == _origin(endpoint)


def test_session_location_with_explicit_default_port_is_same_origin() -> None:
    tried("upload Location")
    assert session_link("https://myreg.azurecr.io:443/v2/a/blobs/uploads/u", EP) == (
        "v2/a/blobs/uploads/u"
    )


# ============================================================================ OCI models
_KNOWN = {
    "schemaVersion", "mediaType", "artifactType", "config", "layers", "manifests", "subject",
    "annotations", "digest", "size", "urls", "data", "platform", "architecture", "os",
    "os.version", "os.features", "variant", "features",
}  # fmt: skip
_hostile_key = st.one_of(
    st.text(_json_char, min_size=1, max_size=12),
    st.sampled_from(["", "__proto__", "constructor", "MEDIATYPE", "mediatype", "Digest", "size "]),
).filter(lambda key: key not in _KNOWN)
_hostile_json_leaf = st.one_of(
    _json_leaf,
    st.integers(min_value=10**20, max_value=10**300),
    st.integers(max_value=-(10**20), min_value=-(10**300)),
    st.text(_json_char, max_size=30),
    _long.map(lambda text: text[:2000]),
)
hostile_json = st.recursive(
    _hostile_json_leaf,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(_json_char, max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)
_extras = st.dictionaries(_hostile_key, hostile_json, max_size=3)
_media_types = st.sampled_from(
    ["application/vnd.oci.image.layer.v1.tar+gzip", "application/octet-stream", "text/plain; x=y"]
)


@st.composite
def annotation_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = draw(
        st.dictionaries(
            _hostile_key.filter(lambda key: not key.startswith("org.opencontainers.image.")),
            st.text(_json_char, max_size=20),
            max_size=3,
        )
    )
    for key in draw(st.sets(st.sampled_from(["title", "created", "ref.name", "licenses"]))):
        doc["org.opencontainers.image." + key] = draw(
            st.text(_json_char, max_size=20)
            | st.sampled_from(["2024-02-29T23:59:60Z", "2023-01-01T00:00:00.123456789+14:00"])
        )
    return doc


@st.composite
def platform_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = draw(_extras)
    doc["architecture"] = draw(st.text(_json_char, max_size=8))
    doc["os"] = draw(st.text(_json_char, max_size=8))
    if draw(st.booleans()):
        doc["os.features"] = draw(st.lists(st.text(max_size=5), max_size=2))
    if draw(st.booleans()):
        doc["os.version"] = draw(st.text(max_size=8))
    return doc


@st.composite
def descriptor_docs(draw: st.DrawFn, platform: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = draw(_extras)
    doc["mediaType"] = draw(_media_types)
    doc["digest"] = str(draw(digests))
    doc["size"] = draw(st.integers(0, 10**30))
    if draw(st.booleans()):
        doc["annotations"] = draw(annotation_docs())
    if draw(st.booleans()):
        doc["urls"] = draw(st.lists(st.text(_json_char, max_size=10), max_size=2))
    if draw(st.booleans()):
        doc["data"] = base64.b64encode(draw(st.binary(max_size=12))).decode()
    if draw(st.booleans()):
        doc["artifactType"] = draw(_media_types)
    if platform and draw(st.booleans()):
        doc["platform"] = draw(platform_docs())
    return doc


_MANIFEST_MODELS = [OciImageManifest, OciImageIndex, DockerManifest, DockerManifestList]


@st.composite
def manifest_docs(draw: st.DrawFn) -> tuple[type[Any], dict[str, Any]]:
    model: type[Any] = draw(st.sampled_from(_MANIFEST_MODELS))
    doc: dict[str, Any] = draw(_extras)
    doc["schemaVersion"] = 2
    if draw(st.booleans()):
        doc["mediaType"] = model._MEDIA_TYPE
    if model in (OciImageManifest, DockerManifest):
        doc["config"] = draw(descriptor_docs())
        doc["layers"] = draw(st.lists(descriptor_docs(), max_size=3))
    else:
        doc["manifests"] = draw(st.lists(descriptor_docs(platform=True), max_size=3))
    if model in (OciImageManifest, OciImageIndex):
        if draw(st.booleans()):
            doc["subject"] = draw(descriptor_docs())
        if draw(st.booleans()):
            doc["artifactType"] = draw(_media_types)
        if draw(st.booleans()):
            doc["annotations"] = draw(annotation_docs())
    return model, doc


any_model_doc = st.one_of(
    manifest_docs(),
    descriptor_docs(platform=True).map(lambda doc: (OciDescriptor, doc)),
    platform_docs().map(lambda doc: (OciPlatform, doc)),
    annotation_docs().map(lambda doc: (OciAnnotations, doc)),
)
ALL_MODELS = [*_MANIFEST_MODELS, OciDescriptor, OciPlatform, OciAnnotations]


def _as_text(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")


@HEAVY
@given(any_model_doc, st.sampled_from(["dict", "str", "bytes"]))
def test_oci_models_round_trip_with_unknown_fields(case: tuple[type[Any], Any], form: str) -> None:
    tried("OCI model JSON")
    model, doc = case
    source: Any = doc
    if form != "dict":
        text = json.dumps(doc, ensure_ascii=_needs_ascii(doc))
        source = text if form == "str" else text.encode("utf-8")
    parsed = model.from_json(source)
    assert parsed.to_json() == doc  # unknown fields kept, at every level
    assert model.from_json(parsed.to_json()) == parsed
    if model in _MANIFEST_MODELS:
        again = model.from_json(manifest_bytes(parsed))
        assert again == parsed and again.to_json() == doc


def _needs_ascii(doc: Any) -> bool:
    # Lone surrogates (from st.characters) cannot be encoded as UTF-8; \u escapes can carry them.
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _damage(doc: Any, data: st.DataObject) -> Any:
    """``doc`` with one value somewhere replaced by hostile JSON (or removed)."""
    paths: list[tuple[Any, ...]] = []

    def walk(value: Any, prefix: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                paths.append((*prefix, key))
                walk(item, (*prefix, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                paths.append((*prefix, i))
                walk(item, (*prefix, i))

    walk(doc, ())
    if not paths:
        return data.draw(hostile_json)
    path = data.draw(st.sampled_from(paths))
    copy = json.loads(json.dumps(doc))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()) and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = data.draw(
            hostile_json | st.sampled_from([None, True, -1, 1.5, "", [], {}, "sha256:" + "A" * 64])
        )
    return copy


@HEAVY
@given(any_model_doc, st.data())
def test_oci_models_damaged_documents_are_value_errors(
    case: tuple[type[Any], Any], data: st.DataObject
) -> None:
    tried("OCI model JSON")
    model, doc = case
    damaged = _damage(doc, data)
    for candidate in (model, *ALL_MODELS):
        parsed = value_error_or(candidate.from_json, damaged)
        if parsed is not None:
            assert candidate.from_json(parsed.to_json()) == parsed


@HEAVY
@given(
    st.one_of(
        st.binary(max_size=200),
        hostile_text,
        any_model_doc.map(lambda case: _as_text(case[1])).flatmap(
            lambda raw: mutated(st.just(raw.decode("utf-8", "replace")))
        ),
        st.integers(1, 200_000).map(lambda depth: "[" * depth + "]" * depth),
        st.integers(1, 200_000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
        st.sampled_from(["\ufeff{}", "NaN", '{"schemaVersion": 2e400}', "{" + '"a":1,' * 3 + "}"]),
        hostile_json,
    )
)
def test_oci_models_garbage_text_is_value_error(garbage: Any) -> None:
    tried("OCI model JSON")
    for model in ALL_MODELS:
        parsed = value_error_or(model.from_json, garbage)
        if parsed is not None:
            assert model.from_json(parsed.to_json()) == parsed


# ============================================================ manifest_result / payload
@HEAVY
@given(manifest_docs(), st.booleans(), st.sampled_from(["header", "none", "content-type"]))
def test_manifest_result_round_trips(
    case: tuple[type[Any], dict[str, Any]], by_digest: bool, announce: str
) -> None:
    tried("manifest_result")
    model, doc = case
    content = manifest_bytes(doc)
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    media_type = doc.get("mediaType") or model._MEDIA_TYPE
    result = manifest_result(
        content,
        digest if by_digest else "latest",
        digest if announce == "header" else None,
        media_type + "; charset=utf-8" if announce == "content-type" else None,
    )
    assert isinstance(result, GetManifestResult)
    assert result.digest == digest and result.content == content
    assert result.manifest == doc
    if announce == "content-type" or "mediaType" in doc or model is OciImageManifest:
        assert result.model == model.from_json(doc)


@HEAVY
@given(
    st.one_of(
        st.binary(max_size=200),
        hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
        manifest_docs().map(lambda case: _as_text(case[1])),
        hostile_json.map(_as_text),
    ),
    st.one_of(tags, digests, hostile_text),
    st.one_of(st.none(), digests, hostile_text),
    st.one_of(st.none(), st.sampled_from([m.value for m in KnownManifestMediaType]), hostile_text),
)
def test_manifest_result_garbage_is_value_error(
    content: bytes, requested: str, header_digest: Optional[str], content_type: Optional[str]
) -> None:
    tried("manifest_result")
    result = value_error_or(manifest_result, content, requested, header_digest, content_type)
    if result is not None:
        algorithm = result.digest.partition(":")[0]
        assert result.digest == f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"
        assert isinstance(result.manifest, dict) and result.content == content


@HEAVY
@given(
    st.one_of(
        manifest_docs().map(lambda case: case[1]),
        manifest_docs().map(lambda case: _as_text(case[1])),
        manifest_docs().map(lambda case: case[0].from_json(case[1])),
        st.binary(max_size=200),
        hostile_json,
        hostile_text,
        st.none(),
    ),
    st.one_of(st.none(), st.sampled_from([m.value for m in KnownManifestMediaType]), hostile_text),
)
def test_manifest_payload_garbage_is_value_or_type_error(manifest: Any, media_type: Any) -> None:
    tried("manifest_payload")
    try:
        content, kind = manifest_payload(manifest, media_type)
    except ValueError:
        return
    except TypeError:
        # Documented: a manifest that is none of model / dict / bytes / binary stream.
        assert not isinstance(manifest, (bytes, dict)) and not hasattr(manifest, "to_json")
        return
    assert isinstance(content, bytes) and len(content) <= MAX_MANIFEST_SIZE
    assert isinstance(kind, str) and kind
    if isinstance(manifest, bytes):
        assert content == manifest  # raw bytes go verbatim
    if media_type is not None:
        assert kind == media_type


_deep = st.integers(5_000, 200_000).map(lambda depth: b"[" * depth + b"]" * depth) | st.integers(
    5_000, 200_000
).map(lambda depth: b'{"mediaType":"a/b","x":' + b"[" * depth + b"]" * depth + b"}")


@given(_deep, st.booleans())
def test_deeply_nested_manifests_are_value_errors(content: bytes, received: bool) -> None:
    tried("manifest_result" if received else "manifest_payload")
    with pytest.raises(ValueError):
        if received:
            digest = "sha256:" + hashlib.sha256(content).hexdigest()
            manifest_result(content, digest, None, None)
        else:
            manifest_payload(content, None)


# ============================================================================ layer titles
_TITLE_PARTS = st.sampled_from(["..", ".", "", "a", "b.txt", "/", "\\", "\x00", "~", "%2e%2e"])


@FUZZ
@given(
    st.lists(_TITLE_PARTS, min_size=1, max_size=8).map("/".join)
    | st.lists(_TITLE_PARTS, min_size=1, max_size=8).map("".join)
    | st.text(max_size=40)
)
def test_layer_titles_never_leave_the_pull_directory(title: str) -> None:
    """A title (the file name pull_artifact writes) either is refused with ValueError or
    names a path strictly inside the directory."""
    import posixpath

    from azurecr._artifact_logic import check_title

    tried("layer titles")
    accepted = value_error_or(check_title, title)
    if accepted is not None:
        joined = posixpath.normpath(posixpath.join("/pull/dir", accepted))
        assert joined.startswith("/pull/dir/"), (title, joined)
        assert "\x00" not in accepted and "\\" not in accepted
