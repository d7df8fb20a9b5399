"""The registry process itself (direct URL) enforces the tokens the service mints."""

from __future__ import annotations

from tests.testbed import TestBed
from tests.testbed.pki import libtrust_key_id, token_signer

from ._helpers import admin_token, parse_challenge, push_image, request


def test_libtrust_key_id_format(testbed: TestBed) -> None:
    signer = token_signer(testbed.state_dir)
    kid = libtrust_key_id(signer.key.public_key())
    groups = kid.split(":")
    assert len(groups) == 12 and all(len(g) == 4 for g in groups)
    assert kid == signer.kid


def test_unauthenticated_v2_is_challenged(testbed: TestBed) -> None:
    r = request(testbed.registry_url + "/v2/", ctx=testbed.ssl_context())
    assert r.status == 401
    ch = parse_challenge(r.header("WWW-Authenticate") or "")
    assert ch["realm"] == testbed.endpoint + "/oauth2/token"
    assert ch["service"] == testbed.service


def test_wrong_scope_is_insufficient(testbed: TestBed) -> None:
    token = testbed.mint_access_token(["repository:reg-a:pull"])
    r = request(
        testbed.registry_url + "/v2/reg-b/tags/list", ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 401
    ch = parse_challenge(r.header("WWW-Authenticate") or "")
    assert ch["error"] == "insufficient_scope"
    assert ch["scope"] == "repository:reg-b:pull"
    # push with a pull-only token is refused too
    r = request(
        testbed.registry_url + "/v2/reg-a/blobs/uploads/",
        "POST",
        ctx=testbed.ssl_context(),
        token=token,
        body=b"",
    )
    assert r.status == 401
    assert parse_challenge(r.header("WWW-Authenticate") or "")["error"] == "insufficient_scope"


def test_untrusted_signature_is_rejected(testbed: TestBed) -> None:
    from tests.testbed.pki import aad_signer

    # right claims, wrong key (the fake AAD key is not in the registry's bundle)
    good = testbed.mint_access_token(["repository:reg-a:pull"])
    from tests.testbed.pki import jwt_claims_unverified

    bad = aad_signer(testbed.state_dir).sign(jwt_claims_unverified(good))
    r = request(testbed.registry_url + "/v2/reg-a/tags/list", ctx=testbed.ssl_context(), token=bad)
    assert r.status == 401


def test_service_minted_token_accepted_by_registry(testbed: TestBed) -> None:
    token = admin_token(testbed, "repository:reg-ok:pull,push")
    dg = push_image(testbed, "reg-ok", "v1", token=token, via_service=False)
    r = request(
        testbed.registry_url + "/v2/reg-ok/tags/list", ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 200, r.body
    assert r.json() == {"name": "reg-ok", "tags": ["v1"]}
    r = request(
        testbed.registry_url + f"/v2/reg-ok/manifests/{dg}",
        "HEAD",
        ctx=testbed.ssl_context(),
        token=token,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert r.status == 200
    assert r.header("Docker-Content-Digest") == dg
