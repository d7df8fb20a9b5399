#!/usr/bin/env bash
# The README's demo: walks through azurecr with readable output (push an artifact and a
# multi-platform index, list, lock a tag and see its delete refused, pull back verified,
# a referrer, clean up). Every step checks what it shows; any failure exits non-zero.
#
#   scripts/demo.sh                           # against the embedded local test bed
#   scripts/demo.sh myregistry.azurecr.io     # against a real registry (DefaultAzureCredential,
#                                             # or --username/--password); see --help
#
# Installs what is missing first, as scripts/test.sh does (Debian's docker-registry when
# the test bed is needed, a venv with the package and its dev extras).
set -euo pipefail
cd "$(dirname "$0")/.."

# Is an endpoint given? (then the test bed, and docker-registry, are not needed)
endpoint=""
skip=0
for arg in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case $arg in
        --endpoint=*) endpoint=${arg#--endpoint=} ;;
        --endpoint) endpoint=next; skip=1 ;;
        --username|--password|--ca-bundle|--retries) skip=1 ;;
        -*) ;;
        *) endpoint=$arg ;;
    esac
done

. scripts/_setup.sh
if [ -z "$endpoint" ]; then
    azurecr_setup demo.sh registry
else
    azurecr_setup demo.sh
fi

exec "$VENV/bin/python" scripts/demo.py "$@"
