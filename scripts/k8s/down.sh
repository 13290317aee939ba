#!/usr/bin/env bash
# Stops the single-node cluster scripts/k8s/up.sh started and removes what it made: pods (their containers,
# network namespaces and mounts), the processes it recorded by PID, kube-proxy's and the kubelet's iptables chains,
# our forward chain, the bridge, leftover mounts under the state directory. --purge also deletes the state
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
# the kubelet stops controllers' pods only when asked; stop every sandbox through the runtime instead
sock=/run/pgtide-k8s/containerd.sock
stop kube-controller-manager; stop kube-scheduler; stop kubelet 20
if alive containerd && [ -x /usr/bin/crictl ]; then :; fi
if alive containerd; then
  for task in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 50); do
    [ -z "$(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null)" ] && break; sleep 0.2
  done
  for task in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1 || true
  done
  for c in $(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
  done
fi
stop containerd 20
# containerd's shims outlive it by design; they run under our state directory
for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address /run/pgtide-k8s/containerd.sock" 2>/dev/null); do
  kill -KILL "$pid" 2>/dev/null || true
done
# network namespaces the CNI made for our pods (named cni-*, listed in containerd's state for this sock)
for ns in $(ls /var/run/netns 2>/dev/null | grep '^cni-'); do
  if ip netns exec "$ns" ip -o addr 2>/dev/null | grep -q ' 10\.213\.0\.'; then
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
  ip -d link show "$v" 2>/dev/null | grep -q "master $BRIDGE" && ip link delete "$v" 2>/dev/null
done
[ -f "$K8S_STATE/run/ip_forward.before" ] && cat "$K8S_STATE/run/ip_forward.before" > /proc/sys/net/ipv4/ip_forward
[ -f "$K8S_STATE/run/bridge-nf.before" ] && cat "$K8S_STATE/run/bridge-nf.before" > /proc/sys/net/bridge/bridge-nf-call-iptables
# mounts left under our directories (kubelet volumes, containerd rootfs, shm), deepest first
for m in $(awk '{print $2}' /proc/mounts | grep -E "^($K8S_STATE|/run/pgtide-k8s)" | sort -r); do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
done
# the pods' cgroups under the kubelet's kubepods hierarchy
for ctl in /sys/fs/cgroup/*/; do
  [ -d "${ctl}kubepods" ] && find "${ctl}kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
done
rm -rf /run/pgtide-k8s
if [ "${1:-}" = "--purge" ]; then rm -rf "$K8S_STATE"; fi
log "down"
