"""The ACR service's answers have the shape of real recorded ACR responses.

For every recorded /acr/v1 and /oauth2 exchange in ``<repo>/../shared/reference/recordings``
(or ``$AZURECR_RECORDINGS``) the same kind of request is made to the test bed, and the JSON
bodies are compared by structure: every recorded field must be present with the same JSON type
(recursively); fields the recording lacks are allowed only where the reference spec defines
them (or where another recording of the same kind has them). Skipped when the recordings are
absent.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from tests.reference import RECORDINGS_DIR
from tests.testbed import TestBed

from ._helpers import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_MANIFEST,
    Resp,
    digest_of,
    enc,
    form_post,
    image_manifest,
    parse_challenge,
    put_manifest,
    request,
)

RECORDINGS = Path(os.environ.get("AZURECR_RECORDINGS") or RECORDINGS_DIR)
SPEC = Path(
    os.environ.get("AZURECR_REFERENCE_SPEC") or RECORDINGS.parent / "acr-data-plane-2021-07-01.json"
)
REPO = "library/hello-world"
# Fields the service returns beyond the 2021-07-01 spec, on purpose (real ACR returns them).
ALLOWED_EXTRA = {"RepositoryAttributes.changeableAttributes.teleportEnabled"}
LINK = re.compile(r'^</acr/v1/[^>]*\?last=[^&>]+&n=\d+&orderby=[^&>]*>; rel="next"$')


# ------------------------------------------------------------------ recorded entries
def _entries() -> Iterator[tuple[str, dict[str, Any]]]:
    if not RECORDINGS.is_dir():
        return
    for path in sorted(RECORDINGS.rglob("*.json")):
        data = json.loads(path.read_text())
        for i, e in enumerate(data.get("Entries", [])):
            yield f"{path.relative_to(RECORDINGS)}#{i}", e
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:  # vcrpy cassettes need PyYAML; the same kinds exist in JSON form
        return
    for path in sorted(RECORDINGS.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for i, it in enumerate(data.get("interactions", [])):
            body = it["response"]["body"].get("string")
            try:
                body = json.loads(body) if body else None
            except ValueError:
                continue
            headers = {
                k: v[0] if isinstance(v, list) else v for k, v in it["response"]["headers"].items()
            }
            yield (
                f"{path.relative_to(RECORDINGS)}#{i}",
                {
                    "RequestUri": it["request"]["uri"],
                    "RequestMethod": it["request"]["method"],
                    "RequestBody": it["request"].get("body"),
                    "StatusCode": it["response"]["status"]["code"],
                    "ResponseHeaders": headers,
                    "ResponseBody": body,
                },
            )


def _kind(e: dict[str, Any]) -> str | None:
    path = urlsplit(e["RequestUri"]).path
    method, status = e["RequestMethod"], e["StatusCode"]
    if not isinstance(e.get("ResponseBody"), dict):
        return None
    if path == "/oauth2/exchange" and status == 200:
        return "exchange"
    if path == "/oauth2/token" and status == 200:
        return "token"
    if not path.startswith("/acr/v1/"):
        return None
    if status == 401:
        return "challenge"
    rest = path[len("/acr/v1/") :]
    if rest == "_catalog":
        return "catalog" if status == 200 else None
    segs = rest.split("/")
    if "_tags" in segs:
        i = segs.index("_tags")
        sub = "tag" if len(segs) > i + 1 else "tags"
    elif "_manifests" in segs:
        i = segs.index("_manifests")
        sub = "manifest" if len(segs) > i + 1 else "manifests"
    else:
        sub = "repository"
    if status == 404:
        return f"{sub}-404"
    if status in (200, 202):
        return f"{method.lower()}-{sub}"
    return None


CASES = [(eid, e) for eid, e in _entries() if _kind(e)]


# ------------------------------------------------------------------ structure comparison
def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def structure_problems(ours: Any, recorded: Any, path: str = "$") -> list[str]:
    if _jtype(ours) != _jtype(recorded):
        return [f"{path}: {_jtype(ours)} != recorded {_jtype(recorded)}"]
    out: list[str] = []
    if isinstance(recorded, dict):
        for k, v in recorded.items():
            if k not in ours:
                out.append(f"{path}.{k}: missing")
            else:
                out += structure_problems(ours[k], v, f"{path}.{k}")
    elif isinstance(recorded, list):
        for i, rv in enumerate(recorded):
            if not ours:
                out.append(f"{path}[]: empty, recorded has items")
                break
            best = min((structure_problems(o, rv, f"{path}[{i}]") for o in ours), key=len)
            out += best
    return out


def _spec() -> dict[str, Any] | None:
    if not SPEC.is_file():
        return None
    return json.loads(SPEC.read_text())  # type: ignore[no-any-return]


def _merge(items: list[Any]) -> Any:
    """The union of a recorded array's elements (for the "recorded has it" allowance)."""
    merged: dict[str, Any] = {}
    for it in items:
        if isinstance(it, dict):
            for k, v in it.items():
                merged.setdefault(k, v)
    return merged


def extra_problems(
    data: Any, schema: dict[str, Any], defs: dict[str, Any], path: str, recorded: Any = None
) -> list[str]:
    """Fields of ``data`` neither in the spec schema nor in the recorded body."""
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    out: list[str] = []
    rec = recorded if isinstance(recorded, dict) else {}
    if isinstance(data, dict):
        props = schema.get("properties")
        if props is None:
            return out  # free-form object
        for k, v in data.items():
            if k not in props and k not in rec:
                if f"{path}.{k}" not in ALLOWED_EXTRA:
                    out.append(f"{path}.{k}: neither in the spec nor recorded")
            else:
                out += extra_problems(v, props.get(k, {}), defs, f"{path}.{k}", rec.get(k))
    elif isinstance(data, list):
        rec_item = _merge(recorded) if isinstance(recorded, list) else None
        for v in data:
            out += extra_problems(v, schema.get("items", {}), defs, path, rec_item)
    return out


SCHEMA_OF = {
    "exchange": "RefreshToken",
    "token": "AccessToken",
    "catalog": "Repositories",
    "get-repository": "RepositoryAttributes",
    "patch-repository": "RepositoryAttributes",
    "delete-repository": "DeletedRepository",
    "get-tags": "TagList",
    "get-tag": "TagAttributes",
    "patch-tag": "TagAttributes",
    "get-manifests": "AcrManifests",
    "get-manifest": "ManifestAttributes",
    "patch-manifest": "ManifestAttributes",
}


# ------------------------------------------------------------------ test content
class Content:
    def __init__(self, bed: TestBed) -> None:
        self.bed = bed
        token = bed.mint_access_token(
            [f"repository:{r}:pull,push" for r in (REPO, "library/alpine", "library/busybox")]
        )
        ctx = bed.ssl_context()
        base = bed.endpoint
        refs = []
        for arch, os_ in (("amd64", "linux"), ("arm", "linux"), ("amd64", "windows")):
            m, mt = image_manifest(
                base,
                REPO,
                ctx=ctx,
                token=token,
                arch=arch,
                os_=os_,
                layer=arch.encode() + os_.encode(),
            )
            dg = digest_of(m)
            assert put_manifest(base, REPO, dg, m, mt, ctx=ctx, token=token).status == 201
            refs.append(
                {
                    "mediaType": mt,
                    "size": len(m),
                    "digest": dg,
                    "platform": {"architecture": arch, "os": os_},
                }
            )
        index = json.dumps(
            {"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": refs}
        ).encode()
        self.index_digest = digest_of(index)
        for tag in ("latest", "test1", "v1"):
            assert (
                put_manifest(base, REPO, tag, index, DOCKER_LIST, ctx=ctx, token=token).status
                == 201
            )
        # an OCI artifact-ish manifest with an empty config: architecture/os "unknown"
        m, mt = image_manifest(
            base, REPO, ctx=ctx, token=token, arch=None, os_=None, oci=True, layer=b"oci"
        )
        assert mt == OCI_MANIFEST
        assert put_manifest(base, REPO, "oci", m, mt, ctx=ctx, token=token).status == 201
        for r in ("library/alpine", "library/busybox"):
            m, mt = image_manifest(base, r, ctx=ctx, token=token)
            assert put_manifest(base, r, "latest", m, mt, ctx=ctx, token=token).status == 201
        assert DOCKER_MANIFEST


@pytest.fixture(scope="module")
def content(testbed: TestBed) -> Content:
    return Content(testbed)


# ------------------------------------------------------------------ replay
def _query(e: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(e["RequestUri"]).query, keep_blank_values=True))


def _form(e: dict[str, Any]) -> dict[str, str]:
    body = e.get("RequestBody")
    if isinstance(body, str):
        return dict(parse_qsl(body, keep_blank_values=True))
    return {}


def _our_path(e: dict[str, Any], content: Content) -> tuple[str, str]:
    """The recorded /acr/v1 path mapped onto our content (same shape of request)."""
    path = urlsplit(e["RequestUri"]).path
    rest = path[len("/acr/v1/") :]
    name = "catalog"
    if rest == "_catalog":
        ours = "/acr/v1/_catalog"
    else:
        segs = rest.split("/")
        name_end = next((i for i, s in enumerate(segs) if s in ("_tags", "_manifests")), len(segs))
        tail = segs[name_end:]
        if len(tail) == 2:
            tail[1] = "test1" if tail[0] == "_tags" else enc(content.index_digest)
        name = (
            "does-not-exist/" + unquote("/".join(segs[:name_end]))
            if e["StatusCode"] == 404
            else REPO
        )
        ours = "/acr/v1/" + "/".join([enc(name), *tail])
    q = _query(e)
    q.pop("last", None)
    q.setdefault("api-version", "2021-07-01")
    return ours + "?" + "&".join(f"{k}={v}" for k, v in q.items()), name


def _replay(bed: TestBed, content: Content, kind: str, e: dict[str, Any]) -> Resp:
    ctx = bed.ssl_context()
    form = _form(e)
    if kind == "exchange":
        return form_post(
            bed,
            "/oauth2/exchange?api-version=2021-07-01",
            [
                ("grant_type", "access_token"),
                ("service", bed.service),
                ("access_token", bed.mint_aad_token()),
            ],
        )
    if kind == "token":
        scope = form.get("scope", "registry:catalog:*")
        if form.get("grant_type") == "password" and not form.get("username"):
            bed.set_anonymous_pull(True)
            try:
                return form_post(
                    bed,
                    "/oauth2/token?api-version=2021-07-01",
                    [("grant_type", "password"), ("service", bed.service), ("scope", scope)],
                )
            finally:
                bed.set_anonymous_pull(False)
        return form_post(
            bed,
            "/oauth2/token?api-version=2021-07-01",
            [
                ("grant_type", "refresh_token"),
                ("service", bed.service),
                ("scope", scope),
                ("refresh_token", bed.mint_refresh_token()),
            ],
        )
    path, name = _our_path(e, content)
    method = e["RequestMethod"]
    body = e.get("RequestBody") if method == "PATCH" else None
    data = json.dumps(body).encode() if isinstance(body, dict) else None
    headers = {"Content-Type": "application/json"} if data else {}
    if kind == "challenge":
        challenge = e["ResponseHeaders"].get("WWW-Authenticate", "")
        token = None
        if 'error="insufficient_scope"' in challenge:
            token = bed.mint_access_token(["repository:someone-else:pull"])
        return request(
            bed.endpoint + path, method, ctx=ctx, body=data, headers=headers, token=token
        )
    token = bed.mint_access_token(
        ["registry:catalog:*", f"repository:{name}:metadata_read,metadata_write,delete"]
    )
    try:
        return request(
            bed.endpoint + path, method, ctx=ctx, body=data, headers=headers, token=token
        )
    finally:
        if method == "PATCH":  # restore defaults for the other cases
            request(
                bed.endpoint + path,
                "PATCH",
                ctx=ctx,
                token=token,
                headers={"Content-Type": "application/json"},
                body=json.dumps(
                    dict.fromkeys(
                        ("deleteEnabled", "writeEnabled", "readEnabled", "listEnabled"), True
                    )
                ).encode(),
            )


@pytest.mark.skipif(not CASES, reason=f"no recordings at {RECORDINGS}")
@pytest.mark.parametrize(("eid", "entry"), CASES, ids=[c[0] for c in CASES])
def test_recorded_shape(
    testbed: TestBed, content: Content, eid: str, entry: dict[str, Any]
) -> None:
    kind = _kind(entry)
    assert kind
    r = _replay(testbed, content, kind, entry)
    assert r.status == entry["StatusCode"], (r.status, r.body)
    recorded = entry["ResponseBody"]
    ours = r.json()
    problems = structure_problems(ours, recorded)
    assert not problems, f"{kind}: {problems}\nours={ours}\nrecorded={recorded}"

    rec_headers = {k.lower(): v for k, v in entry["ResponseHeaders"].items()}
    if "content-type" in rec_headers:
        assert r.header("Content-Type") == rec_headers["content-type"]
    if "link" in rec_headers:
        assert LINK.match(rec_headers["link"]), rec_headers["link"]
        assert r.header("Link") and LINK.match(r.header("Link") or ""), r.header("Link")
    if kind == "challenge":
        rec = parse_challenge(rec_headers["www-authenticate"])
        got = parse_challenge(r.header("WWW-Authenticate") or "")
        assert set(rec) - {"error"} <= set(got), (got, rec)
        if rec.get("error") == "insufficient_scope":
            assert got.get("error") == "insufficient_scope", got
        assert got["realm"] == testbed.endpoint + "/oauth2/token"
        assert got["service"] == testbed.service
        if rec.get("scope") != "fake_scope":
            recorded_scope = rec["scope"].split(":")
            assert got["scope"].split(":")[0] == recorded_scope[0]
            assert got["scope"].split(":")[-1] == recorded_scope[-1]

    spec = _spec()
    if spec is not None:
        schema_name = SCHEMA_OF.get(kind) or ("AcrErrors" if "errors" in ours else None)
        if schema_name:
            extras = extra_problems(
                ours,
                {"$ref": f"#/definitions/{schema_name}"},
                spec["definitions"],
                schema_name,
                recorded,
            )
            assert not extras, extras


def test_structure_comparison_itself() -> None:
    assert structure_problems({"a": 1, "b": [{"x": "s"}]}, {"a": 2, "b": [{"x": "t"}]}) == []
    assert structure_problems({"a": "1"}, {"a": 1}) == ["$.a: string != recorded number"]
    assert structure_problems({}, {"a": 1}) == ["$.a: missing"]
    assert structure_problems({"b": [{"y": 1}, {"x": "s"}]}, {"b": [{"x": "t"}]}) == []
