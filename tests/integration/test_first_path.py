"""The first end-to-end path: ``ping()`` (the generated ``GET /v2/`` check) through the
whole stack — TLS with the test CA, the registry's own 401 challenge, a token from the
ACR-compatible service that the registry verifies."""

from __future__ import annotations

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


def test_ping_with_aad_credential_goes_through_challenge_and_exchange(testbed: TestBed) -> None:
    transport = RecordingTransport(connection_verify=testbed.ca_path)
    credential = TestbedCredential(testbed)
    with azurecr.ContainerRegistryClient(testbed.endpoint, credential, transport=transport) as c:
        c.ping()
        assert transport.log == [
            ("GET", "/v2/", 401, ""),
            ("POST", "/oauth2/exchange", 200, ""),
            ("POST", "/oauth2/token", 200, ""),
            ("GET", "/v2/", 200, "Bearer"),
        ]
        assert credential.requested == ["https://containerregistry.azure.net/.default"]
        transport.log.clear()
        for _ in range(3):
            c.ping()
        # Warm cache: the token goes with the first attempt, one request per call.
        assert transport.log == [("GET", "/v2/", 200, "Bearer")] * 3
        assert len(credential.requested) == 1


def test_ping_with_admin_username_and_password(testbed: TestBed) -> None:
    transport = RecordingTransport(connection_verify=testbed.ca_path)
    credential = AzureNamedKeyCredential(testbed.admin_username, testbed.admin_password)
    with azurecr.ContainerRegistryClient(testbed.endpoint, credential, transport=transport) as c:
        c.ping()
    assert transport.log == [
        ("GET", "/v2/", 401, ""),
        ("GET", "/oauth2/token", 200, "Basic"),
        ("GET", "/v2/", 200, "Bearer"),
    ]


def test_wrong_password_is_an_authentication_error(testbed: TestBed) -> None:
    credential = AzureNamedKeyCredential(testbed.admin_username, "not-the-password")
    with (
        azurecr.ContainerRegistryClient(
            testbed.endpoint, credential, connection_verify=testbed.ca_path
        ) as c,
        pytest.raises(ClientAuthenticationError),
    ):
        c.ping()


def test_aad_token_for_another_audience_is_refused_by_the_exchange(testbed: TestBed) -> None:
    with (
        azurecr.ContainerRegistryClient(
            testbed.endpoint,
            TestbedCredential(testbed),
            audience="https://vault.azure.net",
            connection_verify=testbed.ca_path,
        ) as c,
        pytest.raises(ClientAuthenticationError, match="exchange"),
    ):
        c.ping()


def test_anonymous_ping_needs_anonymous_pull(testbed: TestBed) -> None:
    with azurecr.ContainerRegistryClient(testbed.endpoint, connection_verify=testbed.ca_path) as c:
        with pytest.raises(ClientAuthenticationError):
            c.ping()
        testbed.set_anonymous_pull(True)
        try:
            c.ping()
        finally:
            testbed.set_anonymous_pull(False)


def test_the_test_ca_is_required(testbed: TestBed) -> None:
    from azure.core.exceptions import ServiceRequestError

    with azurecr.ContainerRegistryClient(testbed.endpoint, TestbedCredential(testbed)) as c:
        with pytest.raises(ServiceRequestError, match="(?i)certificate"):
            c.ping()


async def test_async_ping_with_aad_credential(testbed: TestBed) -> None:
    transport = AsyncRecordingTransport(connection_verify=testbed.ca_path)
    async with azurecr.aio.ContainerRegistryClient(
        testbed.endpoint, AsyncTestbedCredential(testbed), transport=transport
    ) as c:
        await c.ping()
    assert transport.log == [
        ("GET", "/v2/", 401, ""),
        ("POST", "/oauth2/exchange", 200, ""),
        ("POST", "/oauth2/token", 200, ""),
        ("GET", "/v2/", 200, "Bearer"),
    ]


async def test_async_ping_with_admin_and_anonymous(testbed: TestBed) -> None:
    credential = AzureNamedKeyCredential(testbed.admin_username, testbed.admin_password)
    async with azurecr.aio.ContainerRegistryClient(
        testbed.endpoint, credential, connection_verify=testbed.ca_path
    ) as c:
        await c.ping()
    async with azurecr.aio.ContainerRegistryClient(
        testbed.endpoint, connection_verify=testbed.ca_path
    ) as c:
        with pytest.raises(ClientAuthenticationError):
            await c.ping()


def test_bad_constructor_arguments_fail_before_any_request() -> None:
    with pytest.raises(ValueError, match="2021-07-01"):
        azurecr.ContainerRegistryClient("r.azurecr.io", api_version="2019-08-15")
    with pytest.raises(ValueError, match="path"):
        azurecr.ContainerRegistryClient("https://r.azurecr.io/v2/")
    with pytest.raises(TypeError, match="credential"):
        azurecr.ContainerRegistryClient("r.azurecr.io", "password")
    assert azurecr.ContainerRegistryClient("r.azurecr.io").endpoint == "https://r.azurecr.io"
