#!/usr/bin/env bash
# Stops the cluster scripts/k8s/up.sh started and removes what it made: each node's pods (their containers,
# network namespaces and mounts), kubelet, containerd, chains, bridge and cgroup (scripts/k8s/node.sh stop), the
# processes it recorded by PID, kube-proxy's and the kubelet's iptables chains, our forward chain, the control
# plane's bridge, leftover mounts under the state directory. --purge also deletes the state
# (certificates, etcd data, volumes, images in containerd); the build caches outside stay.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
[ -d "$K8S_STATE" ] || exit 0
export PATH="$K8S_BIN:$PATH"
K="kubectl --kubeconfig $K8S_STATE/admin.kubeconfig --request-timeout=10s"
alive() { [ -f "$K8S_STATE/run/$1.pid" ] && kill -0 "$(cat "$K8S_STATE/run/$1.pid")" 2>/dev/null; }
stop() { # name [seconds]
  local pid; [ -f "$K8S_STATE/run/$1.pid" ] || return 0
  pid=$(cat "$K8S_STATE/run/$1.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 $(( ${2:-15} * 5 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$K8S_STATE/run/$1.pid"
}
# NetworkPolicy enforcement a test left running (its chains and ipsets too)
bash "$here/netpol.sh" stop >/dev/null 2>&1
stop kube-controller-manager; stop kube-scheduler
# a single-node cluster of an older checkout: its kubelet and containerd (its pods die with their shims below)
stop kubelet 20; stop containerd 20
for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address /run/pgtide-k8s/containerd.sock" 2>/dev/null); do
  kill -KILL "$pid" 2>/dev/null || true
done
# every node the state directory knows (a cluster made with more nodes than this run's NODES, too)
for f in "$K8S_STATE"/run/kubelet-*.pid "$K8S_STATE"/run/containerd-*.pid; do
  [ -f "$f" ] && basename "$f" .pid | sed 's/.*-//'
done | sort -un | while read -r i; do
  PGTIDE_K8S_NODES=$(( i > NODES ? i : NODES )) bash "$here/node.sh" stop "$i"
done
for i in $(seq 1 "$NODES"); do
  ip link show "$(node_bridge "$i")" >/dev/null 2>&1 && bash "$here/node.sh" stop "$i"
done
# network namespaces the CNI made for our pods (named cni-*, listed in containerd's state for this sock)
for ns in $(ls /var/run/netns 2>/dev/null | grep '^cni-'); do
  if ip netns exec "$ns" ip -o addr 2>/dev/null | grep -q ' 10\.213\.'; then
    ip netns delete "$ns" 2>/dev/null || umount "/var/run/netns/$ns" 2>/dev/null; rm -f "/var/run/netns/$ns"
  fi
done
if [ -x "$K8S_BIN/kube-proxy" ]; then
  stop kube-proxy
  kube-proxy --cleanup >/dev/null 2>&1 || true
fi
stop coredns; stop kube-apiserver 20; stop etcd
# kubelet's own chains (it makes them in every table it touches)
for t in filter nat mangle; do
  for ch in $(iptables -t "$t" -S 2>/dev/null | awk '/^-N KUBE-/{print $2}'); do
    iptables -t "$t" -F "$ch" 2>/dev/null
  done
  for rule in $(iptables -t "$t" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | sed 's/^-A/-D/' | tr ' ' '\a'); do
    iptables -t "$t" $(echo "$rule" | tr '\a' ' ') 2>/dev/null
  done
  for ch in $(iptables -t "$t" -S 2>/dev/null | awk '/^-N KUBE-/{print $2}'); do
    iptables -t "$t" -X "$ch" 2>/dev/null
  done
done
iptables -D FORWARD -j PGTIDE-K8S-FWD 2>/dev/null; iptables -F PGTIDE-K8S-FWD 2>/dev/null; iptables -X PGTIDE-K8S-FWD 2>/dev/null
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
for v in $(ip -o link show type veth 2>/dev/null | awk -F'[ :@]+' '{print $2}'); do
  ip -d link show "$v" 2>/dev/null | grep -qE "master pgtide[0-9]+ " && ip link delete "$v" 2>/dev/null
done
[ -f "$K8S_STATE/run/ip_forward.before" ] && cat "$K8S_STATE/run/ip_forward.before" > /proc/sys/net/ipv4/ip_forward
[ -f "$K8S_STATE/run/bridge-nf.before" ] && cat "$K8S_STATE/run/bridge-nf.before" > /proc/sys/net/bridge/bridge-nf-call-iptables
rm -f "$K8S_STATE/run/ip_forward.before" "$K8S_STATE/run/bridge-nf.before"
# mounts left under our directories (kubelet volumes, containerd rootfs, shm), deepest first
for m in $(awk '{print $2}' /proc/mounts | grep -E "^($K8S_STATE|/run/pgtide-k8s)" | sort -r); do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
done
# the nodes' cgroups (their pods' under them), deepest first
for ctl in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
  for d in "${ctl}"pgtide-node-* "${ctl}kubepods"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done
rm -rf /run/pgtide-k8s
if [ "${1:-}" = "--purge" ]; then rm -rf "$K8S_STATE"; fi
log "down"
