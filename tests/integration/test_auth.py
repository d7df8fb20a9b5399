"""Authentication behaviour a user can observe: request counts with a warm cache, one
refresh under concurrency, credentials that stay on the registry's origin, logs without
tokens, anonymous access that is read-only."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import ClientAuthenticationError

import azurecr
import azurecr.aio
from tests.testbed import TestBed

from ._clients import (
    AsyncRecordingTransport,
    AsyncTestbedCredential,
    RecordingTransport,
    TestbedCredential,
)

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")


def token_requests(log: list[tuple[str, str, int, str]]) -> list[str]:
    return [path for _, path, _, _ in log if path.startswith("/oauth2/")]


def test_sixteen_threads_cold_cache_share_one_exchange(testbed: TestBed) -> None:
    transport = RecordingTransport(connection_verify=testbed.ca_path)
    credential = TestbedCredential(testbed)
    with azurecr.ContainerRegistryClient(testbed.endpoint, credential, transport=transport) as c:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: c.ping(), range(16)))
    assert token_requests(transport.log) == ["/oauth2/exchange", "/oauth2/token"]
    assert len(credential.requested) == 1


async def test_sixteen_tasks_cold_cache_share_one_exchange(testbed: TestBed) -> None:
    transport = AsyncRecordingTransport(connection_verify=testbed.ca_path)
    async with azurecr.aio.ContainerRegistryClient(
        testbed.endpoint, AsyncTestbedCredential(testbed), transport=transport
    ) as c:
        await asyncio.gather(*(c.ping() for _ in range(16)))
        transport.log.clear()
        await c.ping()
    assert token_requests(transport.log) == []
    assert transport.log == [("GET", "/v2/", 200, "Bearer")]


def test_debug_logs_with_logging_enable_carry_no_token(
    testbed: TestBed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    credential = AzureNamedKeyCredential(testbed.admin_username, testbed.admin_password)
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, credential, connection_verify=testbed.ca_path, logging_enable=True
    ) as c:
        c.ping()
        c.ping()
    with azurecr.ContainerRegistryClient(
        testbed.endpoint,
        TestbedCredential(testbed),
        connection_verify=testbed.ca_path,
        logging_enable=True,
    ) as c:
        c.ping()
    text = caplog.text
    assert "Request URL" in text  # the trace is on, and it logged the requests
    assert "REDACTED" in text
    assert not JWT.search(text)
    assert testbed.admin_password not in text


class _Origin:
    """A plain-http server on loopback that records the requests it receives."""

    def __init__(self, handler: Any) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                origin.seen.append(("GET", self.path, self.headers.get("Authorization")))
                handler(self, origin)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _reply(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@pytest.fixture
def registry_and_storage() -> Iterator[tuple[_Origin, _Origin]]:
    """A registry that challenges, mints a token and redirects to a second origin, like
    ACR's 307 of a blob GET to blob storage."""
    storage = _Origin(lambda h, o: _reply(h, 200, {}, b"{}"))

    def registry(h: BaseHTTPRequestHandler, o: _Origin) -> None:
        if h.path.startswith("/oauth2/token"):
            _reply(h, 200, {}, json.dumps({"access_token": "registry-token"}).encode())
        elif h.headers.get("Authorization") != "Bearer registry-token":
            challenge = f'Bearer realm="{o.url}/oauth2/token",service="reg"'
            _reply(h, 401, {"WWW-Authenticate": challenge}, b"{}")
        else:
            _reply(h, 307, {"Location": storage.url + "/blob?sig=x"}, b"")

    reg = _Origin(registry)
    try:
        yield reg, storage
    finally:
        reg.close()
        storage.close()


def test_token_does_not_follow_a_cross_origin_redirect(
    registry_and_storage: tuple[_Origin, _Origin],
) -> None:
    reg, storage = registry_and_storage
    credential = AzureNamedKeyCredential("user", "secret")
    with azurecr.ContainerRegistryClient(reg.url, credential, allow_insecure_http=True) as c:
        c.ping()
    assert ("GET", "/v2/", "Bearer registry-token") in reg.seen
    assert storage.seen == [("GET", "/blob?sig=x", None)]


def test_plain_http_with_a_credential_is_refused_unless_allowed(
    registry_and_storage: tuple[_Origin, _Origin],
) -> None:
    reg, _ = registry_and_storage
    credential = AzureNamedKeyCredential("user", "secret")
    with azurecr.ContainerRegistryClient(reg.url, credential) as c:
        with pytest.raises(ClientAuthenticationError, match="plain http"):
            c.ping()
    assert not any(path.startswith("/oauth2") for _, path, _ in reg.seen)


def test_anonymous_write_is_refused_with_a_clear_error(anonymous_pull: TestBed) -> None:
    bed = anonymous_pull
    with azurecr.ContainerRegistryClient(bed.endpoint, connection_verify=bed.ca_path) as c:
        c.ping()
        # Starting an upload needs push: the generated operation, through the client's pipeline.
        with pytest.raises(ClientAuthenticationError, match="anonymous access is read-only"):
            c._client.container_registry_blob.start_upload("anon/write")


def test_short_lived_tokens_are_renewed_before_they_fail(testbed: TestBed) -> None:
    testbed.set_token_lifetimes(access=3, refresh=6)
    transport = RecordingTransport(connection_verify=testbed.ca_path)
    try:
        with azurecr.ContainerRegistryClient(
            testbed.endpoint, TestbedCredential(testbed), transport=transport
        ) as c:
            catalog = c._client.container_registry.get_repositories
            catalog()  # the handshake: 401, exchange, token
            transport.log.clear()
            time.sleep(3.3)  # the access token has expired; the refresh token has not
            catalog()
            assert transport.log == [
                ("POST", "/oauth2/token", 200, ""),
                ("GET", "/acr/v1/_catalog", 200, "Bearer"),
            ]
            transport.log.clear()
            time.sleep(3.3)  # now the refresh token is past its renewal time too
            catalog()
            assert transport.log == [
                ("POST", "/oauth2/exchange", 200, ""),
                ("POST", "/oauth2/token", 200, ""),
                ("GET", "/acr/v1/_catalog", 200, "Bearer"),
            ]
    finally:
        testbed.set_token_lifetimes()


def test_explicit_arm_audience_is_requested_and_accepted(testbed: TestBed) -> None:
    credential = TestbedCredential(testbed)
    with azurecr.ContainerRegistryClient(
        testbed.endpoint,
        credential,
        audience=azurecr.ContainerRegistryAudience.AZURE_RESOURCE_MANAGER_PUBLIC_CLOUD,
        connection_verify=testbed.ca_path,
    ) as c:
        c.ping()
    assert credential.requested == ["https://management.azure.com/.default"]


def test_each_upload_chunk_is_sent_once(testbed: TestBed) -> None:
    """upload_blob of 20 MiB in 4 MiB chunks on a fresh client: one handshake (on the
    HEAD that checks whether the registry already has the blob), then POST, 4 PATCHes and
    the closing PUT carrying the last chunk. Each chunk goes over the wire exactly once:
    PATCH + PUT bodies add up to 20 MiB and no chunk is answered 401 and sent again."""
    import hashlib
    import os

    data = os.urandom(20 * 1024 * 1024)
    chunk = 4 * 1024 * 1024
    digest = "sha256:" + hashlib.sha256(data).hexdigest()

    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        testbed.traffic(clear=True)
        assert c.upload_blob("auth/chunks", data, chunk_size=chunk) == (digest, len(data))
    traffic = testbed.traffic(clear=True)
    registry = [
        (t["method"], t["status"], t["body_bytes"])
        for t in traffic
        if not t["path"].startswith("/oauth2/")
    ]
    assert registry == [
        ("HEAD", 401, 0),  # the handshake: exchange + token follow
        ("HEAD", 404, 0),
        ("POST", 202, 0),  # the push scope's token was fetched without a challenge
        *[("PATCH", 202, chunk)] * 4,
        ("PUT", 201, chunk),
    ]
    bodies = [t for t in traffic if t["method"] in ("PATCH", "PUT")]
    assert sum(t["body_bytes"] for t in bodies) == len(data)
    assert [t for t in traffic if t["status"] == 401] == [traffic[0]]


def test_warm_metadata_calls_are_one_request_each_and_scopes_escalate(testbed: TestBed) -> None:
    from ._content import push_image, unique_repository

    repo = unique_repository("auth")
    push_image(testbed, repo, "v1", "v2")
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        testbed.traffic(clear=True)
        c.get_tag_properties(repo, "v1")  # handshake: 401, exchange, token, retry
        handshake = testbed.traffic(clear=True)
        assert [(t["method"], t["path"], t["status"]) for t in handshake] == [
            ("GET", f"/acr/v1/{repo}/_tags/v1", 401),
            ("POST", "/oauth2/exchange", 200),
            ("POST", "/oauth2/token", 200),
            ("GET", f"/acr/v1/{repo}/_tags/v1", 200),
        ]
        for _ in range(10):
            c.get_tag_properties(repo, "v1")
        warm = testbed.traffic(clear=True)
        assert len(warm) == 10
        assert {(t["path"], t["status"], t["authorization"]) for t in warm} == {
            (f"/acr/v1/{repo}/_tags/v1", 200, "Bearer")
        }
        # Escalation: metadata_write, then delete, on the same client. The realm is known,
        # so each new scope costs one token request and no 401.
        c.update_tag_properties(repo, "v1", can_list=True)
        c.delete_tag(repo, "v2")
        escalated = testbed.traffic(clear=True)
        assert [(t["method"], t["status"]) for t in escalated] == [
            ("POST", 200),
            ("PATCH", 200),
            ("POST", 200),
            ("DELETE", 202),
        ]
        assert all(t["path"] == "/oauth2/token" for t in escalated if t["method"] == "POST")
        assert [t.name for t in c.list_tag_properties(repo)] == ["v1"]


def test_basic_challenge_is_answered_with_the_named_key() -> None:
    """A registry with htpasswd auth (distribution's Basic) gets Basic up front once known."""
    expected = "Basic dXNlcjpzZWNyZXQ="  # user:secret

    def registry(h: BaseHTTPRequestHandler, o: _Origin) -> None:
        if h.headers.get("Authorization") == expected:
            _reply(h, 200, {}, b"{}")
        else:
            _reply(h, 401, {"WWW-Authenticate": 'Basic realm="Registry Realm"'}, b"{}")

    reg = _Origin(registry)
    try:
        credential = AzureNamedKeyCredential("user", "secret")
        with azurecr.ContainerRegistryClient(reg.url, credential, allow_insecure_http=True) as c:
            c.ping()
            c.ping()
    finally:
        reg.close()
    assert reg.seen == [("GET", "/v2/", None), ("GET", "/v2/", expected), ("GET", "/v2/", expected)]


async def test_async_escalation_and_anonymous_write(testbed: TestBed) -> None:
    from ._content import push_image, unique_repository

    repo = unique_repository("auth")
    push_image(testbed, repo, "v1", "v2")
    async with azurecr.aio.ContainerRegistryClient(
        testbed.endpoint, AsyncTestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        await c.get_tag_properties(repo, "v1")
        testbed.traffic(clear=True)
        await c.get_tag_properties(repo, "v1")
        await c.update_tag_properties(repo, "v1", can_list=True)
        await c.delete_tag(repo, "v2")
        traffic = testbed.traffic(clear=True)
    assert [(t["method"], t["status"]) for t in traffic] == [
        ("GET", 200),
        ("POST", 200),
        ("PATCH", 200),
        ("POST", 200),
        ("DELETE", 202),
    ]
    testbed.set_anonymous_pull(True)
    try:
        async with azurecr.aio.ContainerRegistryClient(
            testbed.endpoint, connection_verify=testbed.ca_path
        ) as anon:
            assert (await anon.get_tag_properties(repo, "v1")).name == "v1"
            with pytest.raises(ClientAuthenticationError, match="anonymous access is read-only"):
                await anon.delete_tag(repo, "v1")
    finally:
        testbed.set_anonymous_pull(False)


async def test_async_debug_logs_carry_no_token(
    testbed: TestBed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with azurecr.aio.ContainerRegistryClient(
        testbed.endpoint,
        AsyncTestbedCredential(testbed),
        connection_verify=testbed.ca_path,
        logging_enable=True,
    ) as c:
        await c.ping()
        await c.ping()
    assert "Request URL" in caplog.text and "REDACTED" in caplog.text
    assert not JWT.search(caplog.text)
