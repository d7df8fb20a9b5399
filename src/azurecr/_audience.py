"""AAD audiences of the container registry service in each Azure cloud (no I/O)."""

from __future__ import annotations

from enum import Enum
from typing import Optional
from urllib.parse import urlsplit

from azure.core import CaseInsensitiveEnumMeta

__all__ = ["ContainerRegistryAudience", "DEFAULT_AUDIENCE", "audience_for"]


class ContainerRegistryAudience(str, Enum, metaclass=CaseInsensitiveEnumMeta):
    """The AAD audience a registry's cloud accepts for the token exchange."""

    #: The data-plane audience every cloud accepts (the default).
    AZURE_RESOURCE_MANAGER_PUBLIC_CLOUD = "https://management.azure.com"
    AZURE_RESOURCE_MANAGER_CHINA = "https://management.chinacloudapi.cn"
    AZURE_RESOURCE_MANAGER_US_GOVERNMENT = "https://management.usgovcloudapi.net"


DEFAULT_AUDIENCE = "https://containerregistry.azure.net"

_SUFFIX_AUDIENCES = (
    (".azurecr.cn", ContainerRegistryAudience.AZURE_RESOURCE_MANAGER_CHINA.value),
    (".azurecr.us", ContainerRegistryAudience.AZURE_RESOURCE_MANAGER_US_GOVERNMENT.value),
)


def audience_for(endpoint: str, audience: Optional[str]) -> str:
    """The audience to use: the caller's, else one inferred from the login server's
    suffix for national clouds, else :data:`DEFAULT_AUDIENCE`.

    :param str endpoint: the normalised registry endpoint.
    :param audience: the audience the caller gave, if any.
    :type audience: str or None
    :rtype: str
    """
    if audience:
        return str(audience.value if isinstance(audience, Enum) else audience)
    host = (urlsplit(endpoint).hostname or "").lower()
    for suffix, value in _SUFFIX_AUDIENCES:
        if host.endswith(suffix):
            return value
    return DEFAULT_AUDIENCE
