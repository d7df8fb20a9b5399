"""Where the shared reference material (published spec, recorded ACR traffic) lives.

``$AZURECR_SHARED_REFERENCE`` when set; else the first ``shared/reference`` folder found
beside the checkout or beside one of its parents (the workspace keeps it at
``<checkout>/../shared/reference``). Tests that need it skip only when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find() -> Path:
    env = os.environ.get("AZURECR_SHARED_REFERENCE")
    if env:
        return Path(env)
    for parent in REPO_ROOT.parents:
        candidate = parent / "shared" / "reference"
        if candidate.is_dir():
            return candidate
    return REPO_ROOT.parent / "shared" / "reference"


REFERENCE_DIR = _find()
RECORDINGS_DIR = REFERENCE_DIR / "recordings"
REFERENCE_SPEC = REFERENCE_DIR / "acr-data-plane-2021-07-01.json"
