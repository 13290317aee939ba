#!/usr/bin/env bash
# The README's first command: set up, build, and run the sample cluster in local mode (Ctrl-C stops it all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mvn -B -q -DskipTests package
exec java -jar cli/target/pgtide.jar local up -f "${1:-manifests/samples/local-cluster.yaml}" "${@:2}"
