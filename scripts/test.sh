#!/usr/bin/env bash
# The README's second command: set up and run every test tier (unit, IT, MockTest, E2E, K8sE2E) with real processes.
set -euo pipefail
cd "$(dirname "$0")/.."

# at the end, pass or fail: how many tests ran per module and tier, so a skipped tier cannot pass unseen
summary() {
  local status=$?
  echo "pgtide tests (from */target/surefire-reports; minutes are the test classes' own, set-up included):"
  for reports in */target/surefire-reports; do
    [ -d "$reports" ] || continue
    cat "$reports"/TEST-*.xml 2>/dev/null | grep -o '<testsuite [^>]*>' | awk -v module="${reports%%/*}" '
      { name = $0; sub(/.* name="/, "", name); sub(/".*/, "", name)
        tier = name ~ /K8sE2E$/ ? "K8sE2E" : name ~ /MockTest$/ ? "MockTest" : name ~ /E2E$/ ? "E2E" \
             : name ~ /IT$/ ? "IT" : "Test"
        for (f = 1; f <= NF; f++) {
          split($f, kv, "=")
          gsub(/"/, "", kv[2])
          if (kv[1] == "tests") run[tier] += kv[2]
          if (kv[1] == "failures" || kv[1] == "errors") failed[tier] += kv[2]
          if (kv[1] == "skipped") skipped[tier] += kv[2]
          if (kv[1] == "time") secs[tier] += kv[2]
        } }
      END { for (t in run) printf "  %-10s %-8s %4d run, %d failed, %d skipped, %5.1f min\n", module, t, run[t], \
              failed[t], skipped[t], secs[t] / 60 }'
  done
  exit "$status"
}
trap summary EXIT

bash scripts/setup.sh
mvn -B -ntp verify "$@"
