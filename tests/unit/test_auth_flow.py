"""The token flow's decisions, driven step by step without I/O."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError

from azurecr._auth_flow import (
    AadTokenStep,
    HttpStep,
    TokenCache,
    credential_kind,
    jwt_expiry,
    token_flow,
)
from azurecr._challenge import parse_www_authenticate

ENDPOINT = "https://reg.example.io"


def jwt(claims: dict[str, Any]) -> str:
    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'RS256'})}.{b64(claims)}.c2ln"


def challenge(realm: str = ENDPOINT + "/oauth2/token", scope: str = "repository:a/b:pull"):
    (c,) = parse_www_authenticate(
        f'Bearer realm="{realm}",service="reg.example.io",scope="{scope}"'
    )
    return c


def run(flow, answers: dict[str, Any]) -> tuple[list[Any], str]:
    """Drive a flow, answering each step from ``answers`` keyed by URL path or 'aad'."""
    steps: list[Any] = []
    try:
        step = next(flow)
        while True:
            steps.append(step)
            if isinstance(step, AadTokenStep):
                step = flow.send(answers["aad"])
            else:
                step = flow.send(answers[step.url.split("?")[0].rsplit("/", 1)[-1]])
    except StopIteration as done:
        return steps, done.value


def test_aad_flow_exchanges_then_caches_refresh_token_per_service() -> None:
    cache = TokenCache()
    refresh = jwt({"exp": 4_000_000_000})
    answers = {
        "aad": "aad-token",
        "exchange": (200, {"refresh_token": refresh}),
        "token": (200, {"access_token": "acc-1"}),
    }
    steps, token = run(
        token_flow(challenge(), endpoint=ENDPOINT, kind="aad", cache=cache, audience="https://aud"),
        answers,
    )
    assert token == "acc-1"
    assert steps[0] == AadTokenStep(scope="https://aud/.default")
    assert isinstance(steps[1], HttpStep) and steps[1].url == ENDPOINT + "/oauth2/exchange"
    assert steps[1].form == {
        "grant_type": "access_token",
        "service": "reg.example.io",
        "access_token": "aad-token",
    }
    assert steps[2].form == {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "service": "reg.example.io",
        "scope": "repository:a/b:pull",
    }
    assert cache.get_access_token("reg.example.io", "repository:a/b:pull") == "acc-1"
    # A second scope reuses the refresh token: no AAD call, no exchange.
    steps, _ = run(
        token_flow(
            challenge(scope="repository:a/b:push"),
            endpoint=ENDPOINT,
            kind="aad",
            cache=cache,
            audience="https://aud",
        ),
        answers,
    )
    assert [s.url for s in steps] == [ENDPOINT + "/oauth2/token"]


def test_credentials_never_go_to_another_origin() -> None:
    flow = token_flow(
        challenge(realm="https://evil.example.com/oauth2/token"),
        endpoint=ENDPOINT,
        kind="aad",
        cache=TokenCache(),
        audience="https://aud",
    )
    with pytest.raises(ClientAuthenticationError, match="another origin"):
        next(flow)


def test_no_credentials_over_plain_http_without_opt_in() -> None:
    def flow(opt_in: bool):
        return token_flow(
            challenge(realm="http://reg.example.io/oauth2/token"),
            endpoint="http://reg.example.io",
            kind="basic",
            cache=TokenCache(),
            audience="https://aud",
            username="u",
            password="p",
            allow_insecure_http=opt_in,
        )

    with pytest.raises(ClientAuthenticationError, match="plain http"):
        next(flow(False))
    step = next(flow(True))
    assert step.method == "GET" and step.headers["Authorization"] == "Basic dTpw"
    assert (
        step.url
        == "http://reg.example.io/oauth2/token?service=reg.example.io&scope=repository%3Aa%2Fb%3Apull"
    )


def test_anonymous_may_follow_an_https_realm_elsewhere() -> None:
    steps, token = run(
        token_flow(
            challenge(realm="https://auth.example.com/token"),
            endpoint=ENDPOINT,
            kind="anonymous",
            cache=TokenCache(),
            audience="https://aud",
        ),
        {"token": (200, {"access_token": "anon"})},
    )
    assert token == "anon"
    assert steps == [
        HttpStep(
            "POST",
            "https://auth.example.com/token",
            form={
                "grant_type": "password",
                "service": "reg.example.io",
                "scope": "repository:a/b:pull",
            },
        )
    ]


def test_failed_token_request_is_an_authentication_error() -> None:
    with pytest.raises(ClientAuthenticationError, match="401"):
        run(
            token_flow(
                challenge(), endpoint=ENDPOINT, kind="anonymous", cache=TokenCache(), audience="a"
            ),
            {"token": (401, {"errors": []})},
        )


def test_jwt_expiry_reads_base64url_payloads() -> None:
    # A payload whose base64url form needs '-' / '_' and padding restored.
    claims = {"exp": 1_700_000_000, "sub": "??>>~~"}
    assert jwt_expiry(jwt(claims)) == 1_700_000_000.0
    assert jwt_expiry("not-a-jwt") is None
    assert jwt_expiry("a.!!!.c") is None


def test_cache_renews_before_expiry() -> None:
    cache = TokenCache()
    cache.put_refresh_token("svc", jwt({"exp": 10_000}), now=0)
    assert cache.get_refresh_token("svc", now=10_000 - 301) is not None
    assert cache.get_refresh_token("svc", now=10_000 - 299) is None
    cache.put_access_token("svc", "s", jwt({"exp": 1_000}), now=0)
    assert cache.get_access_token("svc", "s", now=900) is not None
    assert cache.get_access_token("svc", "s", now=950) is None
    assert cache.get_access_token("svc", "other", now=0) is None


def test_short_lived_tokens_are_used_for_most_of_their_life() -> None:
    cache = TokenCache()
    cache.put_access_token("svc", "s", jwt({"iat": 1_000, "exp": 1_010}), now=1_000)
    assert cache.get_access_token("svc", "s", now=1_007.9) is not None
    assert cache.get_access_token("svc", "s", now=1_008.1) is None
    cache.put_refresh_token("svc", jwt({"iat": 0, "exp": 10_800}), now=0)
    assert cache.get_refresh_token("svc", now=10_800 - 301) is not None
    assert cache.get_refresh_token("svc", now=10_800 - 299) is None


def test_credential_kinds() -> None:
    from azure.core.credentials import AccessToken, AzureNamedKeyCredential

    class Cred:
        def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
            return AccessToken("t", 0)

    assert credential_kind(None) == "anonymous"
    assert credential_kind(Cred()) == "aad"
    assert credential_kind(AzureNamedKeyCredential("u", "p")) == "basic"
    with pytest.raises(TypeError, match="credential must be"):
        credential_kind("secret")
