"""azurecr: a client for the Azure Container Registry data plane."""

from ._artifact_logic import ArtifactFile, PulledArtifact, PulledFile
from ._artifacts import copy_artifact
from ._audience import ContainerRegistryAudience
from ._container_registry_client import ContainerRegistryClient
from ._digest import Digest
from ._download_stream import DownloadBlobStream
from ._errors import BlobUploadError, DigestValidationError, ManifestTooLargeError
from ._manifest_logic import GetManifestResult
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
from ._oci_models import (
    DockerManifest,
    DockerManifestList,
    KnownManifestMediaType,
    OciAnnotations,
    OciDescriptor,
    OciImageIndex,
    OciImageManifest,
    OciPlatform,
)
from ._reference import Reference
from ._version import VERSION

__version__ = VERSION

__all__ = [
    "ArtifactFile",
    "ArtifactArchitecture",
    "ArtifactManifestOrder",
    "ArtifactManifestProperties",
    "ArtifactManifestReference",
    "ArtifactOperatingSystem",
    "ArtifactTagOrder",
    "ArtifactTagProperties",
    "BlobUploadError",
    "ContainerRegistryAudience",
    "ContainerRegistryClient",
    "Digest",
    "DigestValidationError",
    "DockerManifest",
    "DockerManifestList",
    "DownloadBlobStream",
    "GetManifestResult",
    "KnownManifestMediaType",
    "ManifestTooLargeError",
    "OciAnnotations",
    "OciDescriptor",
    "OciImageIndex",
    "OciImageManifest",
    "OciPlatform",
    "PulledArtifact",
    "PulledFile",
    "Reference",
    "RepositoryProperties",
    "copy_artifact",
]
