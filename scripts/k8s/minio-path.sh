#!/usr/bin/env bash
# Prints where build-binaries.sh puts the MinIO server the backup tests start (keyed by its version and Go's).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
echo "$MINIO_BIN/minio"
