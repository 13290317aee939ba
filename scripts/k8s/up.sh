#!/usr/bin/env bash
# Starts a Kubernetes of $NODES nodes (3 unless PGTIDE_K8S_NODES says otherwise) on this machine for the *K8sE2E tier:
# etcd, kube-apiserver (RBAC, audit log), kube-controller-manager, kube-scheduler, CoreDNS for Service names and
# kube-proxy; then per node (scripts/k8s/node.sh) a bridge and pod range of its own, its own containerd and kubelet
# in a cgroup of its own, and local volumes that only that node can mount. Private ranges with no route out.
# Every process is recorded by PID under $K8S_STATE/run; scripts/k8s/down.sh removes all of it.
# Prints the kubeconfig path on success. Idempotent: does nothing when the cluster already answers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
[ "$(id -u)" -eq 0 ] || die "the Kubernetes tier runs as root (containerd, kubelet, network namespaces)"
export PATH="$K8S_BIN:$PATH"
KUBECONFIG_ADMIN="$K8S_STATE/admin.kubeconfig"

all_alive=1
for c in etcd kube-apiserver kube-controller-manager kube-scheduler coredns kube-proxy \
         $(for i in $(seq 1 "$NODES"); do echo "containerd-$i kubelet-$i"; done); do
  { [ -f "$K8S_STATE/run/$c.pid" ] && kill -0 "$(cat "$K8S_STATE/run/$c.pid")" 2>/dev/null; } || all_alive=0
done
if [ $all_alive = 1 ] && kubectl --kubeconfig "$KUBECONFIG_ADMIN" get --raw /readyz >/dev/null 2>&1; then
  echo "$KUBECONFIG_ADMIN"; exit 0
fi
apt_install containerd runc containernetworking-plugins conntrack iptables ipset iproute2 openssl curl
bash "$here/build-binaries.sh"
bash "$here/build-images.sh" system
mkdir -p "$K8S_STATE"/{run,logs,pki,etcd,containerd,kubelet,volumes,cni/net.d} /run/pgtide-k8s
start=$(date +%s)

# --- certificates (once per state directory) -------------------------------------------------------------------
if [ ! -f "$pki/ca.crt" ]; then
  openssl genrsa -out "$pki/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=pgtide-test-kubernetes-ca" -days 3650 -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
# each kubelet reaches the API server through its own node's address (DNAT in node.sh): cutting one node off is one rule
node_sans=$(for i in $(seq 1 "$NODES"); do printf ',IP:%s' "$(node_ip "$i")"; done)
cert apiserver kube-apiserver "" "IP:$NODE_IP,IP:127.0.0.1,IP:$API_SERVICE_IP$node_sans,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert admin pgtide-test-admin system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kube-proxy system:kube-proxy ""
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters

for c in admin controller-manager scheduler kube-proxy; do kubeconfig "$c" "$c"; done

# --- network: bridges on private ranges, no masquerade, no route out --------------------------------------------
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
fi
[ -f "$K8S_STATE/run/ip_forward.before" ] || cat /proc/sys/net/ipv4/ip_forward > "$K8S_STATE/run/ip_forward.before" 2>/dev/null || true
modprobe br_netfilter 2>/dev/null || true
[ -f "$K8S_STATE/run/bridge-nf.before" ] || cat /proc/sys/net/bridge/bridge-nf-call-iptables > "$K8S_STATE/run/bridge-nf.before" 2>/dev/null || true
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
# pods may reach only the nodes, each other and Services: anything else is dropped before it could leave
iptables -N PGTIDE-K8S-FWD 2>/dev/null || iptables -F PGTIDE-K8S-FWD
iptables -A PGTIDE-K8S-FWD -s "$CLUSTER_CIDR" -d "$CLUSTER_CIDR" -j ACCEPT
iptables -A PGTIDE-K8S-FWD -s "$CLUSTER_CIDR" -j DROP
iptables -A PGTIDE-K8S-FWD -d "$CLUSTER_CIDR" ! -s "$CLUSTER_CIDR" -j DROP
iptables -C FORWARD -j PGTIDE-K8S-FWD 2>/dev/null || iptables -I FORWARD 1 -j PGTIDE-K8S-FWD

# --- etcd, API server, controllers ------------------------------------------------------------------------------
run etcd etcd --name pgtide-k8s --data-dir "$K8S_STATE/etcd" --listen-client-urls http://127.0.0.1:12379 \
  --advertise-client-urls http://127.0.0.1:12379 --listen-peer-urls http://127.0.0.1:12380 \
  --initial-advertise-peer-urls http://127.0.0.1:12380 --initial-cluster pgtide-k8s=http://127.0.0.1:12380
wait_for etcd 60 curl -sf http://127.0.0.1:12379/health

put "$K8S_STATE/audit-policy.yaml" <<'AP'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    users: ["system:serviceaccount:pgtide-system:pgtide-operator"]
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
AP
run kube-apiserver kube-apiserver --etcd-servers http://127.0.0.1:12379 --bind-address "$NODE_IP" \
  --advertise-address "$NODE_IP" --secure-port "$API_PORT" --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode Node,RBAC --client-ca-file "$pki/ca.crt" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" --allow-privileged=true \
  --audit-policy-file "$K8S_STATE/audit-policy.yaml" --audit-log-path "$K8S_STATE/logs/audit.log" \
  --audit-log-maxsize 200 --audit-log-maxbackup 3 --profiling=false
wait_for kube-apiserver 90 kubectl --kubeconfig "$KUBECONFIG_ADMIN" get --raw /readyz

run kube-controller-manager kube-controller-manager --kubeconfig "$K8S_STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$K8S_STATE/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$K8S_STATE/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs=false --controllers '*,-nodeipam,-cloud-node-lifecycle'
run kube-scheduler kube-scheduler --kubeconfig "$K8S_STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig "$K8S_STATE/scheduler.kubeconfig" --authorization-kubeconfig "$K8S_STATE/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false

# cluster DNS on the node's bridge address: Service names for pods, nothing forwarded anywhere else
put "$K8S_STATE/Corefile" <<CF
cluster.local:53 {
  bind $NODE_IP
  errors
  kubernetes cluster.local {
    kubeconfig $KUBECONFIG_ADMIN pgtide
  }
}
.:53 {
  bind $NODE_IP
  template ANY ANY {
    rcode NXDOMAIN
  }
}
CF
run coredns "$DNS_BIN/coredns" -conf "$K8S_STATE/Corefile"

# --- nodes: each its own bridge, containerd, kubelet and cgroup ---------------------------------------------------
# pods ask the cluster DNS only (the node's own resolvers are not theirs to use)
echo "nameserver $NODE_IP" | put "$K8S_STATE/resolv.conf"
for i in $(seq 1 "$NODES"); do PGTIDE_NODE_IMPORT=later bash "$here/node.sh" up "$i"; done
bash "$here/build-images.sh" import

put "$K8S_STATE/kube-proxy.yaml" <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$K8S_STATE/kube-proxy.kubeconfig"}
mode: iptables
clusterCIDR: "$CLUSTER_CIDR"
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
hostnameOverride: $(node_name 1)
KP
run kube-proxy kube-proxy --config "$K8S_STATE/kube-proxy.yaml"

K="kubectl --kubeconfig $KUBECONFIG_ADMIN"
for i in $(seq 1 "$NODES"); do
  wait_for "node $(node_name "$i") to be Ready" 180 sh -c "$K get node $(node_name "$i") -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
done

# --- storage: a default no-provisioner StorageClass and hostPath volumes -----------------------------------------
$K apply -f - >/dev/null <<SC
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
# claims may grow (the volumes are directories: a claim within the volume's capacity needs nothing more)
allowVolumeExpansion: true
SC
bash "$here/volumes.sh" 8
wait_for "the default ServiceAccount" 60 $K -n default get serviceaccount default
log "up in $(( $(date +%s) - start )) s; KUBECONFIG=$KUBECONFIG_ADMIN"
echo "$KUBECONFIG_ADMIN"
