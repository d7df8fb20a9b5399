"""azurecr: a client for the Azure Container Registry data plane."""

from ._audience import ContainerRegistryAudience
from ._container_registry_client import ContainerRegistryClient
from ._models import (
    ArtifactArchitecture,
    ArtifactManifestOrder,
    ArtifactManifestProperties,
    ArtifactManifestReference,
    ArtifactOperatingSystem,
    ArtifactTagOrder,
    ArtifactTagProperties,
    RepositoryProperties,
)
from ._version import VERSION

__version__ = VERSION

__all__ = [
    "ArtifactArchitecture",
    "ArtifactManifestOrder",
    "ArtifactManifestProperties",
    "ArtifactManifestReference",
    "ArtifactOperatingSystem",
    "ArtifactTagOrder",
    "ArtifactTagProperties",
    "ContainerRegistryAudience",
    "ContainerRegistryClient",
    "RepositoryProperties",
]
