"""The fault proxy in front of the test bed: the token flow through it, cuts, stalls."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

import azurecr
from tests.faults import FaultProxy
from tests.integration._clients import RecordingTransport, TestbedCredential
from tests.testbed import TestBed
from tests.testbed_tests._helpers import admin_token, parse_challenge, push_blob

REPO = "faults/blobs"
SIZE = 400 * 1024
TRUNCATED = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)


@dataclass
class Blob:
    data: bytes
    digest: str
    token: str


@pytest.fixture(scope="module")
def blob(testbed: TestBed) -> Blob:
    token = admin_token(testbed, f"repository:{REPO}:pull,push")
    data = os.urandom(SIZE)
    digest = push_blob(testbed.endpoint, REPO, data, ctx=testbed.ssl_context(), token=token)
    return Blob(data, digest, token)


@pytest.fixture
def proxy(testbed: TestBed) -> Iterator[FaultProxy]:
    with FaultProxy.to(testbed.endpoint) as p:
        yield p


def _get(bed: TestBed, session: requests.Session, url: str, token: str) -> requests.Response:
    return session.get(
        url, headers={"Authorization": "Bearer " + token}, verify=bed.ca_path, timeout=10
    )


def test_token_flow_through_the_proxy(testbed: TestBed, proxy: FaultProxy) -> None:
    assert proxy.url == f"https://127.0.0.1:{proxy.port}" and proxy.port != 0
    with requests.Session() as s:
        r = s.get(proxy.url + "/v2/", verify=testbed.ca_path, timeout=10)
        assert r.status_code == 401
        ch = parse_challenge(r.headers["WWW-Authenticate"])
        # the registry's realm, rewritten to the origin the client used; same audience
        assert ch["realm"] == proxy.url + "/oauth2/token"
        assert ch["service"] == testbed.service
        r = s.get(
            ch["realm"],
            params={"service": ch["service"], "scope": "registry:catalog:*"},
            auth=(testbed.admin_username, testbed.admin_password),
            verify=testbed.ca_path,
            timeout=10,
        )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert _get(testbed, s, proxy.url + "/v2/", token).status_code == 200
        # the service's own challenges (/acr/v1) use the proxy's origin too
        r = s.get(proxy.url + "/acr/v1/_catalog", verify=testbed.ca_path, timeout=10)
        assert r.status_code == 401
        assert parse_challenge(r.headers["WWW-Authenticate"])["realm"] == (
            proxy.url + "/oauth2/token"
        )
        assert _get(testbed, s, proxy.url + "/acr/v1/_catalog", token).status_code == 200
    assert proxy.connections_accepted == 1  # one keep-alive connection carried it all
    (conn,) = proxy.connections
    assert conn.bytes_up > 0 and conn.bytes_down > 0 and conn.faults == []
    assert proxy.faults_fired == []
    # direct clients still get the service's own origin
    r = requests.get(testbed.endpoint + "/v2/", verify=testbed.ca_path, timeout=10)
    assert parse_challenge(r.headers["WWW-Authenticate"])["realm"] == (
        testbed.endpoint + "/oauth2/token"
    )


def test_azurecr_client_through_the_proxy(testbed: TestBed, proxy: FaultProxy) -> None:
    transport = RecordingTransport(connection_verify=testbed.ca_path)
    credential = TestbedCredential(testbed)
    with azurecr.ContainerRegistryClient(proxy.url, credential, transport=transport) as c:
        c.ping()
    assert [(m, p, s) for m, p, s, _ in transport.log] == [
        ("GET", "/v2/", 401),
        ("POST", "/oauth2/exchange", 200),
        ("POST", "/oauth2/token", 200),
        ("GET", "/v2/", 200),
    ]
    assert proxy.connections_accepted >= 1 and proxy.bytes_down > 0


def test_cut_down_truncates_a_download(testbed: TestBed, proxy: FaultProxy, blob: Blob) -> None:
    url = f"{proxy.url}/v2/{REPO}/blobs/{blob.digest}"
    with requests.Session() as s:
        assert _get(testbed, s, url, blob.token).content == blob.data  # warm connection
        (before,) = proxy.connections
        fault = proxy.cut_next("down", after_bytes=50_000)
        received = 0
        with pytest.raises(TRUNCATED):
            r = s.get(
                url,
                headers={"Authorization": "Bearer " + blob.token},
                verify=testbed.ca_path,
                timeout=10,
                stream=True,
            )
            for chunk in r.iter_content(16384):
                received += len(chunk)
        assert 0 < received < 50_000  # TLS overhead: less plaintext than raw bytes
        assert fault.hits == [before.id] and not fault.active
        (event,) = proxy.faults_fired
        assert (event.kind, event.direction, event.connection) == ("cut", "down", before.id)
        assert event.bytes_down == before.bytes_down + 50_000  # exactly N got through
        assert proxy.wait_for(lambda p: p.open_connections == 0, 2.0)
        (after,) = proxy.connections
        assert after.bytes_down == event.bytes_down and after.faults == ["cut-down"]
        assert not after.open
        # the rule is spent: the next download (new connection) is whole
        assert _get(testbed, s, url, blob.token).content == blob.data
    assert proxy.connections_accepted == 2


def test_cut_is_a_reset(testbed: TestBed, proxy: FaultProxy) -> None:
    proxy.cut_next("up", after_bytes=10)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"x" * 100)  # not TLS; only 10 bytes reach the service
        with pytest.raises(ConnectionResetError):
            while sock.recv(4096):
                pass
    (event,) = proxy.faults_fired
    assert (event.kind, event.direction, event.bytes_up) == ("cut", "up", 10)


def test_cut_up_during_an_upload(testbed: TestBed, proxy: FaultProxy, blob: Blob) -> None:
    with requests.Session() as s:
        r = s.post(
            f"{proxy.url}/v2/{REPO}/blobs/uploads/",
            headers={"Authorization": "Bearer " + blob.token},
            verify=testbed.ca_path,
            timeout=10,
        )
        assert r.status_code == 202
        location = proxy.url + r.headers["Location"]
        proxy.cut_next("up", after_bytes=100_000, min_bytes_up=1000)
        with pytest.raises(requests.exceptions.ConnectionError):
            s.patch(
                location,
                data=b"\0" * SIZE,
                headers={"Authorization": "Bearer " + blob.token},
                verify=testbed.ca_path,
                timeout=10,
            )
    (event,) = proxy.faults_fired
    assert event.direction == "up" and proxy.connections[0].faults == ["cut-up"]


def test_rules_select_connections(testbed: TestBed, proxy: FaultProxy, blob: Blob) -> None:
    url = f"{proxy.url}/v2/{REPO}/blobs/{blob.digest}"
    with requests.Session() as old, requests.Session() as new:
        assert _get(testbed, old, url, blob.token).status_code == 200  # connection 1
        fault = proxy.cut_next("down", after_bytes=1000, new_only=True)
        assert _get(testbed, old, url, blob.token).content == blob.data  # not new: spared
        with pytest.raises(TRUNCATED):
            _get(testbed, new, url, blob.token)  # connection 2
        assert fault.hits == [2]
        # connection=N: only that one
        fault = proxy.cut_next("down", after_bytes=0, connection=1)
        with requests.Session() as third:
            assert _get(testbed, third, url, blob.token).content == blob.data  # connection 3
        with pytest.raises(TRUNCATED):
            _get(testbed, old, url, blob.token)
        assert fault.hits == [1]
    assert [e.connection for e in proxy.faults_fired] == [2, 1]


def test_stall_and_refuse(testbed: TestBed, proxy: FaultProxy, blob: Blob) -> None:
    url = f"{proxy.url}/v2/{REPO}/blobs/{blob.digest}"
    with requests.Session() as s:
        assert _get(testbed, s, url, blob.token).status_code == 200
        proxy.stall("down", after_bytes=1000, seconds=0.3)
        t0 = time.monotonic()
        assert _get(testbed, s, url, blob.token).content == blob.data
        assert time.monotonic() - t0 >= 0.3
        # open-ended stall, released from the test
        proxy.stall("down", after_bytes=0)
        timer = threading.Timer(0.2, proxy.release)
        timer.start()
        assert _get(testbed, s, url, blob.token).content == blob.data
        timer.join()
    assert [e.kind for e in proxy.faults_fired] == ["stall", "stall"]
    proxy.refuse_next()
    with requests.Session() as s:
        with pytest.raises(requests.exceptions.ConnectionError):
            _get(testbed, s, url, blob.token)
        assert _get(testbed, s, url, blob.token).content == blob.data
    assert proxy.faults_fired[-1].kind == "refuse"
    proxy.delay(0.05)
    t0 = time.monotonic()
    requests.get(proxy.url + "/v2/", verify=testbed.ca_path, timeout=10)
    assert time.monotonic() - t0 >= 0.1  # at least one chunk each way
    proxy.reset()
    assert proxy.faults_fired == [] and proxy.bytes_down == 0


def test_storage_download_through_a_proxy(
    blob_redirect: TestBed, blob: Blob, proxy: FaultProxy
) -> None:
    bed = blob_redirect
    with FaultProxy.to(bed.storage_endpoint) as storage_proxy:
        bed.set_blob_redirect(True, origin=storage_proxy.origin("localhost"))
        bed.storage_traffic(clear=True)
        url = f"{proxy.url}/v2/{REPO}/blobs/{blob.digest}"
        with requests.Session() as s:
            r = _get(bed, s, url, blob.token)
            assert r.status_code == 200 and r.content == blob.data
            assert (
                r.history[0].headers["Location"].startswith(storage_proxy.origin("localhost") + "/")
            )
            storage_proxy.cut_next("down", after_bytes=20_000)
            with pytest.raises(TRUNCATED):
                _get(bed, s, url, blob.token)
        assert [e.kind for e in storage_proxy.faults_fired] == ["cut"]
        assert proxy.faults_fired == []
        recs = bed.storage_traffic()
        assert [r["status"] for r in recs] == [200, 200]
        assert recs[0]["complete"] and not recs[0]["authorization"]
