#!/usr/bin/env bash
# The README's second command: set up and run every test tier (unit, IT, MockTest, E2E) with real processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mvn -B -ntp verify "$@"
