"""WWW-Authenticate parsing (RFC 7235), as the auth policy sees registries answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azurecr._challenge import find_challenge, parse_www_authenticate


def test_acr_bearer_challenge_from_recording() -> None:
    header = (
        'Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io",'
        'scope="repository:library/hello-world:metadata_write",error="insufficient_scope"'
    )
    (challenge,) = parse_www_authenticate(header)
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://r.azurecr.io/oauth2/token"
    assert challenge.service == "r.azurecr.io"
    assert challenge.scopes == ["repository:library/hello-world:metadata_write"]
    assert challenge.error == "insufficient_scope"


def test_quoted_commas_escapes_and_several_scopes() -> None:
    header = (
        r'Bearer realm="https://h/t?a=1,b=2", '
        r'scope="repository:a:pull repository:b:pull,push", x="say \"hi\""'
    )
    (challenge,) = parse_www_authenticate(header)
    assert challenge.realm == "https://h/t?a=1,b=2"
    assert challenge.scopes == ["repository:a:pull", "repository:b:pull,push"]
    assert challenge.params["x"] == 'say "hi"'


def test_several_challenges_in_one_header() -> None:
    header = 'Basic realm="reg", Bearer realm="https://h/token",service="h" , Negotiate abc=='
    challenges = parse_www_authenticate(header)
    assert [c.scheme for c in challenges] == ["basic", "bearer", "negotiate"]
    assert challenges[0].realm == "reg"
    assert challenges[1].service == "h"
    assert challenges[2].token68 == "abc=="
    assert find_challenge(header, "BEARER") == challenges[1]


def test_bare_scheme_and_token_values() -> None:
    (basic, bearer) = parse_www_authenticate("Basic, Bearer realm=tok,service=svc")
    assert basic.scheme == "basic" and basic.params == {}
    assert bearer.params == {"realm": "tok", "service": "svc"}


@pytest.mark.parametrize("bad", ['Bearer realm="unterminated', "=oops", 'Bearer realm="a" junk'])
def test_malformed_headers_raise_and_find_returns_none(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_www_authenticate(bad)
    assert find_challenge(bad, "bearer") is None


def test_find_challenge_absent() -> None:
    assert find_challenge(None, "bearer") is None
    assert find_challenge('Basic realm="x"', "bearer") is None


_scheme = st.from_regex(r"[A-Za-z][A-Za-z0-9_\-]{0,8}", fullmatch=True)
_name = st.from_regex(r"[a-z][a-z0-9_\-]{0,8}", fullmatch=True)
_value = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@given(
    st.lists(st.tuples(_scheme, st.dictionaries(_name, _value, max_size=4)), min_size=1, max_size=3)
)
def test_round_trip_of_quoted_params(challenges: list[tuple[str, dict[str, str]]]) -> None:
    def quote(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    header = ", ".join(
        scheme + (" " + ", ".join(f"{k}={quote(v)}" for k, v in params.items()) if params else "")
        for scheme, params in challenges
    )
    parsed = parse_www_authenticate(header)
    assert [(c.scheme, c.params) for c in parsed] == [(s.lower(), p) for s, p in challenges]
