"""Audience choice: the caller's, else inferred from a national cloud's login server."""

from __future__ import annotations

import io
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse

import azurecr
from azurecr import ContainerRegistryAudience
from azurecr._audience import DEFAULT_AUDIENCE, audience_for


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("https://r.azurecr.io", DEFAULT_AUDIENCE),
        ("https://r.azurecr.cn", "https://management.chinacloudapi.cn"),
        ("https://R.AzureCR.US", "https://management.usgovcloudapi.net"),
        ("https://r.azurecr.us.example.com", DEFAULT_AUDIENCE),
        ("https://127.0.0.1:5000", DEFAULT_AUDIENCE),
    ],
)
def test_inferred_audience(endpoint: str, expected: str) -> None:
    assert audience_for(endpoint, None) == expected


def test_explicit_audience_wins() -> None:
    explicit = ContainerRegistryAudience.AZURE_RESOURCE_MANAGER_PUBLIC_CLOUD
    assert audience_for("https://r.azurecr.cn", explicit) == "https://management.azure.com"
    assert audience_for("https://r.azurecr.cn", "https://custom") == "https://custom"


class _Challenging(HttpTransport[HttpRequest, HttpResponse]):
    """Answers every request with the ACR challenge and fails the exchange: enough to see
    which AAD scope the client asks its credential for. (No network can reach *.azurecr.cn
    here; the flow itself is tested against the real test bed.)"""

    def __enter__(self) -> _Challenging:
        return self

    def __exit__(self, *args: Any) -> None:
        return None

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        from azure.core.rest._requests_basic import RestRequestsTransportResponse
        from requests import Response

        raw = Response()
        raw.status_code = 401
        raw.headers["WWW-Authenticate"] = (
            'Bearer realm="https://r.azurecr.cn/oauth2/token",service="r.azurecr.cn"'
        )
        raw.raw = io.BytesIO(b"{}")
        return RestRequestsTransportResponse(request=request, internal_response=raw)


class _Recorder:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken("aad", 0)


def test_china_cloud_client_asks_aad_for_the_china_audience() -> None:
    credential = _Recorder()
    with (
        azurecr.ContainerRegistryClient(
            "r.azurecr.cn", credential, transport=_Challenging(), retry_total=0
        ) as client,
        pytest.raises(ClientAuthenticationError),
    ):
        client.ping()
    assert credential.scopes == ["https://management.chinacloudapi.cn/.default"]

