#!/usr/bin/env bash
# One node of the test cluster, by number (1..$NODES):
#   up I      its bridge and pod range, its containerd (images imported) and kubelet, in a cgroup of its own
#   freeze I  lost with nothing graceful: every process of the node (kubelet, containerd, shims, pods) frozen in its
#             cgroup and every packet to or from it dropped, the host's included
#   thaw I    back: the packets flow again, the processes resume where they stopped
#   cut I     partitioned: the node's kubelet and pods cannot reach the API server, CoreDNS or the other nodes' pods,
#             and nothing from there reaches its pods; its processes keep running, and the host (a test's own
#             client) still reaches its pods directly
#   heal I    the partition is gone
#   stop I    kubelet and containerd stopped, the node's containers killed (down.sh uses it)
# Every rule lives in the chains PGTIDE-NODE-<I> (filter) and PGTIDE-NODE-<I>-API (nat), made and removed here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
export PATH="$K8S_BIN:$PATH"
[ $# -eq 2 ] || die "usage: node.sh up|freeze|thaw|cut|heal|stop NODE"
cmd=$1; i=$2
[[ "$i" =~ ^[1-9][0-9]*$ ]] && [ "$i" -le "$NODES" ] || die "no node $i (the cluster has $NODES)"
name=$(node_name "$i"); ip=$(node_ip "$i"); cidr=$(node_cidr "$i"); br=$(node_bridge "$i")
sock=$(node_sock "$i"); dir=$(node_dir "$i"); cg=$(node_cgroup "$i")
chain="PGTIDE-NODE-$i"

# the node's cgroup in every hierarchy (cgroup v1) or in the one tree (v2)
cgroup_dirs() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup/$cg"
  else
    for h in /sys/fs/cgroup/*/; do
      [ -L "${h%/}" ] && continue
      [ -f "${h}cgroup.procs" ] && echo "${h}$cg"
    done
  fi
}

make_cgroups() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p "/sys/fs/cgroup/$cg"
    # the kubelet's pods get every controller; its own processes sit in a leaf beside them (no internal processes)
    for c in $(cat /sys/fs/cgroup/cgroup.subtree_control); do echo "+$c" > "/sys/fs/cgroup/$cg/cgroup.subtree_control" 2>/dev/null || true; done
    mkdir -p "/sys/fs/cgroup/$cg/system"
  else
    for d in $(cgroup_dirs); do
      mkdir -p "$d/system"
      if [ -f "$d/cpuset.cpus" ]; then # a new cpuset is empty until told which CPUs and memory nodes it has
        for f in cpuset.cpus cpuset.mems; do
          [ -n "$(cat "$d/$f")" ] || cat "$(dirname "$d")/$f" > "$d/$f"
          [ -n "$(cat "$d/system/$f")" ] || cat "$d/$f" > "$d/system/$f"
        done
      fi
    done
  fi
}

# the argv prefix that runs a command among the node's processes: its cgroup's system leaf
node_exec() {
  local dirs; dirs=$(cgroup_dirs | sed 's#$#/system#' | tr '\n' ' ')
  printf '%s\0' bash -c 'for d in '"$dirs"'; do echo $$ > "$d/cgroup.procs"; done; exec "$@"' in-node
}

node_up() {
  mkdir -p "$dir"/{containerd,kubelet,pod-logs,cni/net.d,cni/ipam} "/run/pgtide-k8s/node-$i"
  if ! ip link show "$br" >/dev/null 2>&1; then
    ip link add "$br" type bridge
    ip addr add "$ip/24" dev "$br"
    ip link set "$br" up
  fi
  put "$dir/cni/net.d/10-pgtide.conflist" <<CNI
{"cniVersion": "0.4.0", "name": "pgtide-$i", "plugins": [
  {"type": "bridge", "bridge": "$br", "isGateway": true, "isDefaultGateway": false, "ipMasq": false,
   "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr", "rangeStart": "10.213.$i.10", "gateway": "$ip"}]],
            "routes": [{"dst": "$SERVICE_CIDR"}, {"dst": "$CLUSTER_CIDR"}], "dataDir": "$dir/cni/ipam"}},
  {"type": "loopback"}
]}
CNI
  # the kubelet reaches the API server through this node's own address, so one rule cuts this node off
  iptables -t nat -N "$chain-API" 2>/dev/null || iptables -t nat -F "$chain-API"
  iptables -t nat -A "$chain-API" -d "$ip" -p tcp --dport "$API_PORT" -j DNAT --to-destination "$NODE_IP:$API_PORT"
  iptables -t nat -C OUTPUT -j "$chain-API" 2>/dev/null || iptables -t nat -I OUTPUT 1 -j "$chain-API"
  iptables -N "$chain" 2>/dev/null || true
  for hook in INPUT OUTPUT FORWARD; do
    iptables -C "$hook" -j "$chain" 2>/dev/null || iptables -I "$hook" 1 -j "$chain"
  done
  make_cgroups

  put "$dir/containerd.toml" <<CT
version = 2
root = "$dir/containerd"
state = "/run/pgtide-k8s/node-$i/containerd"
[grpc]
  address = "$sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pgtide/pause:2"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
CT
  local prefix; mapfile -d '' prefix < <(node_exec)
  run "containerd-$i" "${prefix[@]}" containerd --config "$dir/containerd.toml"
  wait_for "containerd of $name" 60 ctr --address "$sock" version
  # up.sh imports into every node at once after they are all up (PGTIDE_NODE_IMPORT=later)
  [ "${PGTIDE_NODE_IMPORT:-now}" = later ] || PGTIDE_CONTAINERD_SOCK="$sock" bash "$here/build-images.sh" import

  cert "kubelet-$i" "system:node:$name" system:nodes "IP:$ip,DNS:$name"
  kubeconfig "kubelet-$i" "kubelet-$i" "$ip"
  put "$dir/kubelet.yaml" <<KL
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
port: 10250
readOnlyPort: 0
healthzPort: 0
authentication:
  x509: {clientCAFile: "$pki/ca.crt"}
  webhook: {enabled: true}
  anonymous: {enabled: false}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet-$i.crt"
tlsPrivateKeyFile: "$pki/kubelet-$i.key"
cgroupDriver: cgroupfs
cgroupRoot: /$cg
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$sock
podLogsDir: "$dir/pod-logs"
clusterDNS: ["$NODE_IP"]
clusterDomain: cluster.local
resolvConf: "$K8S_STATE/resolv.conf"
maxPods: 40
serializeImagePulls: false
evictionHard: {"memory.available": "200Mi", "nodefs.available": "1%", "imagefs.available": "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
# a mounted Secret or ConfigMap changes when the kubelet next syncs the pod (syncFrequency, 1m by default, plus
# jitter): certificate rotation, custom queries and the standby's archive Secret each waited 60-90 s for it
syncFrequency: 10s
KL
  run "kubelet-$i" "${prefix[@]}" kubelet --config "$dir/kubelet.yaml" --kubeconfig "$K8S_STATE/kubelet-$i.kubeconfig" \
    --root-dir "$dir/kubelet" --hostname-override "$name" --node-ip "$ip"
}

freezer_state() { # FROZEN|THAWED
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "$([ "$1" = FROZEN ] && echo 1 || echo 0)" > "/sys/fs/cgroup/$cg/cgroup.freeze"
  else
    echo "$1" > "/sys/fs/cgroup/freezer/$cg/freezer.state"
  fi
}

rules() { # what: cut (the node's pods and kubelet lose the cluster) or lost (the host too)
  # first in each hook: kube-proxy's and the kubelet's chains accept established flows, which must stop here too
  for hook in INPUT OUTPUT FORWARD; do
    iptables -D "$hook" -j "$chain" 2>/dev/null || true
    iptables -I "$hook" 1 -j "$chain"
  done
  iptables -F "$chain"
  # the kubelet's connection to the API server (DNATed from this node's address) and the API server's to the kubelet
  iptables -A "$chain" -p tcp -m conntrack --ctorigdst "$ip" --ctorigdstport "$API_PORT" -j DROP
  iptables -A "$chain" -d "$ip" -p tcp --dport 10250 -j DROP
  # pods of this node among themselves: as before
  iptables -A "$chain" -s "$cidr" -d "$cidr" -j RETURN
  if [ "$1" = cut ]; then
    # connections the host itself opened into the node's pods (a test's client) keep working, both ways
    iptables -A "$chain" -d "$cidr" -m addrtype --src-type LOCAL -m conntrack --ctdir ORIGINAL -j RETURN
    iptables -A "$chain" -s "$cidr" -m addrtype --dst-type LOCAL -m conntrack --ctdir REPLY -j RETURN
  fi
  iptables -A "$chain" -s "$cidr" -j DROP
  iptables -A "$chain" -d "$cidr" -j DROP
}

case "$cmd" in
  up) node_up ;;
  freeze) rules lost; freezer_state FROZEN; log "$name lost (frozen, cut off)" ;;
  thaw) freezer_state THAWED; iptables -F "$chain"; log "$name back" ;;
  cut) rules cut; log "$name partitioned" ;;
  heal) iptables -F "$chain"; log "$name healed" ;;
  stop)
    pid_of() { cat "$K8S_STATE/run/$1.pid" 2>/dev/null || true; }
    freezer_state THAWED 2>/dev/null || true
    iptables -F "$chain" 2>/dev/null || true
    stop_pid() { local p; p=$(pid_of "$1"); [ -n "$p" ] || return 0
      if kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; kill -KILL "$p" 2>/dev/null || true; fi
      rm -f "$K8S_STATE/run/$1.pid"; }
    stop_pid "kubelet-$i"
    if [ -n "$(pid_of "containerd-$i")" ] && kill -0 "$(pid_of "containerd-$i")" 2>/dev/null; then
      for task in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
        ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
      done
      for _ in $(seq 1 50); do [ -z "$(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null)" ] && break; sleep 0.2; done
      for task in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
        ctr --address "$sock" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1 || true
      done
      for c in $(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
        ctr --address "$sock" -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
      done
    fi
    stop_pid "containerd-$i"
    # containerd's shims outlive it by design; they run with this node's socket
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    for hook in INPUT OUTPUT FORWARD; do iptables -D "$hook" -j "$chain" 2>/dev/null || true; done
    iptables -X "$chain" 2>/dev/null || true
    iptables -t nat -D OUTPUT -j "$chain-API" 2>/dev/null || true
    iptables -t nat -F "$chain-API" 2>/dev/null || true; iptables -t nat -X "$chain-API" 2>/dev/null || true
    ip link show "$br" >/dev/null 2>&1 && ip link delete "$br"
    ;;
  *) die "usage: node.sh up|freeze|thaw|cut|heal|stop NODE" ;;
esac
