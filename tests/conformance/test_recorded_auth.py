"""Recorded real ACR authentication traffic, replayed to the client's pure auth logic.

Every 401 challenge in the recordings parses, and the scope the client predicts for the
request before sending it is the scope ACR announced; every challenge that the recording
answered with /oauth2 calls is answered by our token flow with the same form fields, and
the recorded responses give the client its tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from azurecr._auth_flow import AadTokenStep, HttpStep, TokenCache, token_flow
from azurecr._challenge import AuthChallenge, find_challenge
from azurecr._scopes import normalize_scope, scope_for_request
from tests.reference import RECORDINGS_DIR

RECORDINGS = sorted(RECORDINGS_DIR.rglob("*.json")) if RECORDINGS_DIR.is_dir() else []
pytestmark = pytest.mark.skipif(not RECORDINGS, reason=f"no recordings at {RECORDINGS_DIR}")


def entries(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["Entries"])


def header(entry: dict[str, Any], name: str) -> str | None:
    for k, v in entry["ResponseHeaders"].items():
        if k.lower() == name.lower():
            return str(v)
    return None


def is_acr_oauth(entry: dict[str, Any]) -> bool:
    path = urlsplit(entry["RequestUri"]).path
    return path in ("/oauth2/exchange", "/oauth2/token") and "azurecr.io" in entry["RequestUri"]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def challenges(path: Path) -> list[tuple[int, dict[str, Any], AuthChallenge]]:
    out = []
    for i, e in enumerate(entries(path)):
        c = find_challenge(header(e, "WWW-Authenticate"), "bearer")
        if e["StatusCode"] == 401 and c is not None:
            out.append((i, e, c))
    return out


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name[:60])
def test_predicted_scope_is_the_announced_scope(path: Path) -> None:
    found = challenges(path)
    for _, entry, challenge in found:
        assert challenge.realm and challenge.service
        predicted = scope_for_request(entry["RequestMethod"], entry["RequestUri"])
        assert predicted is not None, entry["RequestUri"]
        assert normalize_scope(predicted) == normalize_scope(" ".join(challenge.scopes))


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name[:60])
def test_token_flow_sends_the_recorded_forms_and_reads_the_recorded_tokens(path: Path) -> None:
    recorded = entries(path)
    kind = (
        "aad"
        if any(urlsplit(e["RequestUri"]).path == "/oauth2/exchange" for e in recorded)
        else "anonymous"
    )
    cache = TokenCache()
    answered = 0
    for index, entry, challenge in challenges(path):
        oauth = []
        for e in recorded[index + 1 :]:
            if "microsoftonline" in e["RequestUri"]:
                continue  # the credential's own AAD traffic
            if not is_acr_oauth(e):
                break
            oauth.append(e)
        if not oauth:
            continue
        # The recordings sanitise hosts independently (realm "fake_url", request
        # "REDACTED"); put the realm back on the request's origin, as it is in reality.
        endpoint = origin(entry["RequestUri"])
        realm = endpoint + urlsplit(challenge.realm or "").path
        params = dict(challenge.params, realm=realm)
        flow = token_flow(
            AuthChallenge("bearer", params),
            endpoint=endpoint,
            kind=kind,
            cache=cache,
            audience="https://containerregistry.azure.net",
        )
        pending = {urlsplit(e["RequestUri"]).path: e for e in reversed(oauth)}
        try:
            step = next(flow)
            while True:
                if isinstance(step, AadTokenStep):
                    step = flow.send("aad-token")
                    continue
                assert isinstance(step, HttpStep)
                rec = pending[urlsplit(step.url).path]
                sent = dict(parse_qsl(rec["RequestBody"]))
                assert step.method == rec["RequestMethod"]
                assert set(step.form or {}) == set(sent)
                assert (step.form or {})["grant_type"] == sent["grant_type"]
                assert (step.form or {}).get("scope") == sent.get("scope")
                step = flow.send((rec["StatusCode"], rec["ResponseBody"]))
        except StopIteration as done:
            token_entry = pending["/oauth2/token"]
            assert done.value == token_entry["ResponseBody"]["access_token"]
            answered += 1
    answerable = sum(
        1 for i, _, _ in challenges(path) if any(is_acr_oauth(e) for e in recorded[i + 1 : i + 4])
    )
    assert answered == answerable
