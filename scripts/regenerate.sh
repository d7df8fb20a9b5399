#!/usr/bin/env bash
# Regenerate src/azurecr/_generated from the project's OpenAPI description.
#
#   scripts/regenerate.sh [SPEC] [--output DIR]
#
# SPEC     OpenAPI 2.0 file to generate from (default: swagger/containerregistry.json).
#          The AutoRest configuration always comes from swagger/README.md.
# --output write the generated package to DIR instead of src/azurecr/_generated.
#
# AutoRest and its extensions come only from scripts/codegen/node_modules (pinned by
# scripts/codegen/package-lock.json); AutoRest is never allowed to fetch extensions.
# Running the script twice on an unchanged description changes no byte.
set -euo pipefail

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "regenerate.sh: '$tool' not found on PATH; install Node.js 20+ (with npm) to regenerate." >&2
    exit 2
  }
done

case "${BASH_SOURCE[0]}" in */*) HERE="${BASH_SOURCE[0]%/*}" ;; *) HERE=. ;; esac
ROOT="$(cd "$HERE/.." && pwd)"
CODEGEN="$ROOT/scripts/codegen"
NM="$CODEGEN/node_modules"

usage() { echo "usage: scripts/regenerate.sh [SPEC] [--output DIR]" >&2; exit 2; }

SPEC="$ROOT/swagger/containerregistry.json"
OUT="$ROOT/src/azurecr/_generated"
spec_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --output) [ $# -ge 2 ] || usage; OUT="$2"; shift 2 ;;
    --output=*) OUT="${1#--output=}"; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "regenerate.sh: unknown option $1" >&2; usage ;;
    *) [ "$spec_given" = 0 ] || usage; SPEC="$1"; spec_given=1; shift ;;
  esac
done

[ -f "$SPEC" ] || { echo "regenerate.sh: spec file not found: $SPEC" >&2; exit 2; }
SPEC="$(cd "$(dirname "$SPEC")" && pwd)/$(basename "$SPEC")"
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"

# 1. Toolchain: npm ci, unless node_modules was installed from this very lockfile.
lock_hash="$(sha256sum "$CODEGEN/package-lock.json" | cut -d' ' -f1)"
stamp="$NM/.azurecr-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "regenerate.sh: installing the pinned AutoRest toolchain (npm ci)..." >&2
  (cd "$CODEGEN" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_hash" > "$stamp"
fi

# 2. Generate into a scratch folder; the real output folder is only touched on success.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/azurecr-regen.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# AutoRest resolves input-file relative to the configuration file: give it a copy of the
# README next to a copy of the spec, so any SPEC path works and no absolute path leaks out.
cp "$ROOT/swagger/README.md" "$WORK/README.md"
cp "$SPEC" "$WORK/containerregistry.json"
GEN="$WORK/out"

export AUTOREST_HOME="$CODEGEN/.autorest"
mkdir -p "$AUTOREST_HOME"
# PYTHONUNBUFFERED makes the Python generator write to the JSON-RPC pipe before its server
# starts ("Header must provide a Content-Length property"); drop it for this run.
if ! (cd "$WORK" && env -u PYTHONUNBUFFERED node "$NM/autorest/entrypoints/app.js" \
      --version="$NM/@autorest/core" \
      --use="$NM/@autorest/modelerfour" \
      --use="$NM/@autorest/python" \
      "$WORK/README.md" \
      --output-folder="$GEN" \
      >"$WORK/autorest.log" 2>&1); then
  cat "$WORK/autorest.log" >&2
  echo "regenerate.sh: AutoRest failed; $OUT left unchanged." >&2
  exit 1
fi
if [ ! -f "$GEN/__init__.py" ] || [ ! -d "$GEN/aio" ]; then
  cat "$WORK/autorest.log" >&2
  echo "regenerate.sh: AutoRest produced no package; $OUT left unchanged." >&2
  exit 1
fi

# 3. Nothing but the package goes into the output; hand-written _patch.py hooks of the
#    committed package replace the generator's empty ones (the only customisation point).
find "$GEN" -name '__pycache__' -prune -exec rm -rf {} +
COMMITTED="$ROOT/src/azurecr/_generated"
if [ -d "$COMMITTED" ]; then
  (cd "$COMMITTED" && find . -name '_patch.py' -type f) | while read -r patch; do
    if [ -d "$(dirname "$GEN/$patch")" ]; then cp "$COMMITTED/$patch" "$GEN/$patch"; fi
  done
fi

# 4. Swap the new package in (rename within one filesystem, so near-atomic).
STAGE="$(mktemp -d "$(dirname "$OUT")/.regen.XXXXXX")"
mv "$GEN" "$STAGE/new"
if [ -e "$OUT" ]; then mv "$OUT" "$STAGE/old"; fi
mv "$STAGE/new" "$OUT"
rm -rf "$STAGE"
echo "regenerate.sh: wrote $OUT" >&2
