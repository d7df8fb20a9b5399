"""How the samples find their registry: environment variables, as in the Azure SDK samples.

CONTAINER_REGISTRY_ENDPOINT   the login server, e.g. myregistry.azurecr.io (required)
CONTAINER_REGISTRY_USERNAME   with _PASSWORD: admin user or repository-scoped token;
CONTAINER_REGISTRY_PASSWORD   without them, DefaultAzureCredential (AAD) is used
CONTAINER_REGISTRY_CA_BUNDLE  a CA bundle to trust (private or test registries only)
"""

from __future__ import annotations

import os
from typing import Any


def client_arguments() -> tuple[str, Any, dict[str, Any]]:
    endpoint = os.environ["CONTAINER_REGISTRY_ENDPOINT"]
    username = os.environ.get("CONTAINER_REGISTRY_USERNAME")
    if username:
        from azure.core.credentials import AzureNamedKeyCredential

        credential: Any = AzureNamedKeyCredential(
            username, os.environ["CONTAINER_REGISTRY_PASSWORD"]
        )
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    options: dict[str, Any] = {}
    if os.environ.get("CONTAINER_REGISTRY_CA_BUNDLE"):
        options["connection_verify"] = os.environ["CONTAINER_REGISTRY_CA_BUNDLE"]
    return endpoint, credential, options
