#!/usr/bin/env bash
# NetworkPolicy enforcement on one node of the test cluster, started and removed by the test that needs it:
#   start I   kube-router's network policy controller (nothing else of kube-router) enforcing for node I's pods
#   stop      stopped by its PID; its iptables chains and ipsets removed by the names it gives them
# One node only: the test nodes share the host's network namespace, and kube-router both enforces only the pods of
# the node it is told it runs on and owns the chains it writes (a second instance would remove the first one's).
# The NetworkPolicy test therefore puts the pods it checks on that node. Not left running for the other tests: its
# FORWARD rule accepts policy-compliant packets before node.sh's partition rules would drop them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
pidfile="$K8S_STATE/run/kube-router.pid"
prefixes='^(KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-|KUBE-SRC-|KUBE-DST-)'

stop() {
  if [ -f "$pidfile" ]; then
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
  # the jumps into its chains first, then the chains (flushed, so no chain refers to another), then its ipsets
  local rule
  local jumps; jumps=$(iptables -t filter -S | grep -E "^-A (INPUT|FORWARD|OUTPUT) .*-j KUBE-ROUTER-" | sed 's/^-A/-D/' || true)
  while read -r rule; do [ -z "$rule" ] || eval "iptables -t filter $rule" 2>/dev/null || true; done <<< "$jumps"
  local chains; chains=$(iptables -t filter -S | awk '/^-N /{print $2}' | grep -E "$prefixes" || true)
  for c in $chains; do iptables -t filter -F "$c" 2>/dev/null || true; done
  for c in $chains; do iptables -t filter -X "$c" 2>/dev/null || true; done
  local s
  for s in $(ipset list -n 2>/dev/null | grep -E '^(inet6:)?(KUBE-|kube-router-)' || true); do
    ipset destroy "$s" 2>/dev/null || true
  done
}

case "${1:-}" in
  start)
    i=${2:-}
    [[ "$i" =~ ^[1-9][0-9]*$ ]] && [ "$i" -le "$NODES" ] || die "usage: netpol.sh start NODE (1..$NODES)"
    [ -x "$KUBE_ROUTER_BIN/kube-router" ] || die "kube-router not built: run scripts/k8s/up.sh"
    command -v ipset >/dev/null || die "ipset is not installed: run scripts/k8s/up.sh"
    stop
    run kube-router "$KUBE_ROUTER_BIN/kube-router" --run-firewall=true --run-router=false --run-service-proxy=false \
      --enable-cni=false --enable-ipv6=false --health-port=0 --metrics-port=0 \
      --kubeconfig="$K8S_STATE/admin.kubeconfig" --hostname-override="$(node_name "$i")" \
      --service-cluster-ip-range="$SERVICE_CIDR" -v=1
    # programmed once its forward chain is hooked in; the policies themselves follow within a sync
    wait_for "kube-router's chains" 60 bash -c "iptables -t filter -S FORWARD | grep -q KUBE-ROUTER-FORWARD"
    kill -0 "$(cat "$pidfile")" 2>/dev/null || die "kube-router exited (log: $K8S_STATE/logs/kube-router.log)"
    log "NetworkPolicies enforced for $(node_name "$i")'s pods (kube-router $KUBE_ROUTER_VERSION, PID $(cat "$pidfile"))"
    ;;
  stop) stop; log "NetworkPolicy enforcement removed" ;;
  *) die "usage: netpol.sh start NODE | stop" ;;
esac
