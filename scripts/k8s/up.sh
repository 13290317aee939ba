#!/usr/bin/env bash
# Starts a single-node Kubernetes on this machine for the *K8sE2E tier: etcd, kube-apiserver (RBAC, audit log),
# kube-controller-manager, kube-scheduler, containerd + kubelet, kube-proxy, a bridge CNI on private ranges with no
# route out, CoreDNS for Service names, and a no-provisioner StorageClass with hostPath volumes.
# Every process is recorded by PID under $K8S_STATE/run; scripts/k8s/down.sh removes all of it.
# Prints the kubeconfig path on success. Idempotent: does nothing when the cluster already answers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
[ "$(id -u)" -eq 0 ] || die "the Kubernetes tier runs as root (containerd, kubelet, network namespaces)"
export PATH="$K8S_BIN:$PATH"
KUBECONFIG_ADMIN="$K8S_STATE/admin.kubeconfig"

all_alive=1
for c in etcd kube-apiserver kube-controller-manager kube-scheduler coredns containerd kubelet kube-proxy; do
  { [ -f "$K8S_STATE/run/$c.pid" ] && kill -0 "$(cat "$K8S_STATE/run/$c.pid")" 2>/dev/null; } || all_alive=0
done
if [ $all_alive = 1 ] && kubectl --kubeconfig "$KUBECONFIG_ADMIN" get --raw /readyz >/dev/null 2>&1; then
  echo "$KUBECONFIG_ADMIN"; exit 0
fi
apt_install containerd runc containernetworking-plugins conntrack iptables iproute2 openssl curl
bash "$here/build-binaries.sh"
bash "$here/build-images.sh" system
mkdir -p "$K8S_STATE"/{run,logs,pki,etcd,containerd,kubelet,volumes,cni/net.d} /run/pgtide-k8s
start=$(date +%s)

# writes stdin to a file only when its content changes: kube-proxy exits when its configuration file changes
put() {
  local f=$1
  cat > "$f.new"
  if cmp -s "$f.new" "$f"; then rm -f "$f.new"; else mv "$f.new" "$f"; fi
}

# --- certificates (once per state directory) -------------------------------------------------------------------
pki="$K8S_STATE/pki"
cert() { # name CN O [SANs]
  local name=$1 cn=$2 o=$3 san=${4:-}
  [ -f "$pki/$name.crt" ] && return 0
  openssl genrsa -out "$pki/$name.key" 2048 2>/dev/null
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr" 2>/dev/null
  local ext="$pki/$name.ext"
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"; [ -n "$san" ] && echo "subjectAltName=$san"; } > "$ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
}
if [ ! -f "$pki/ca.crt" ]; then
  openssl genrsa -out "$pki/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=pgtide-test-kubernetes-ca" -days 3650 -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
cert apiserver kube-apiserver "" "IP:$NODE_IP,IP:127.0.0.1,IP:$API_SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert admin pgtide-test-admin system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kube-proxy system:kube-proxy ""
cert kubelet system:node:pgtide-node system:nodes "IP:$NODE_IP,DNS:pgtide-node"
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters

kubeconfig() { # name cert
  put "$K8S_STATE/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: pgtide, cluster: {server: "https://$NODE_IP:$API_PORT", certificate-authority: "$pki/ca.crt"}}]
users: [{name: $1, user: {client-certificate: "$pki/$2.crt", client-key: "$pki/$2.key"}}]
contexts: [{name: pgtide, context: {cluster: pgtide, user: $1}}]
current-context: pgtide
KC
}
for c in admin controller-manager scheduler kube-proxy kubelet; do kubeconfig "$c" "$c"; done

# --- network: a bridge on private ranges, no masquerade, no route out --------------------------------------------
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
fi
cat /proc/sys/net/ipv4/ip_forward > "$K8S_STATE/run/ip_forward.before" 2>/dev/null || true
cat /proc/sys/net/bridge/bridge-nf-call-iptables > "$K8S_STATE/run/bridge-nf.before" 2>/dev/null || true
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
# pods may reach only the node, each other and Services: anything else is dropped before it could leave
iptables -N PGTIDE-K8S-FWD 2>/dev/null || iptables -F PGTIDE-K8S-FWD
iptables -A PGTIDE-K8S-FWD -s "$POD_CIDR" -d "$POD_CIDR" -j ACCEPT
iptables -A PGTIDE-K8S-FWD -s "$POD_CIDR" -j DROP
iptables -A PGTIDE-K8S-FWD -d "$POD_CIDR" ! -s "$POD_CIDR" -j DROP
iptables -C FORWARD -j PGTIDE-K8S-FWD 2>/dev/null || iptables -I FORWARD 1 -j PGTIDE-K8S-FWD
put "$K8S_STATE/cni/net.d/10-pgtide.conflist" <<CNI
{"cniVersion": "0.4.0", "name": "pgtide", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "isDefaultGateway": false, "ipMasq": false,
   "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "rangeStart": "10.213.0.10", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "$SERVICE_CIDR"}], "dataDir": "$K8S_STATE/cni/ipam"}},
  {"type": "loopback"}
]}
CNI

run() { # name command...: starts a process in the background, records its PID
  local name=$1; shift
  if [ -f "$K8S_STATE/run/$name.pid" ] && kill -0 "$(cat "$K8S_STATE/run/$name.pid")" 2>/dev/null; then return 0; fi
  setsid "$@" >> "$K8S_STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$K8S_STATE/run/$name.pid"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt $deadline ] || die "timed out after ${secs}s waiting for $what (logs: $K8S_STATE/logs)"
    sleep 0.5
  done
}

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
  --audit-log-maxsize 200 --profiling=false
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

# --- containerd + kubelet ---------------------------------------------------------------------------------------
put "$K8S_STATE/containerd.toml" <<CT
version = 2
root = "$K8S_STATE/containerd/root"
state = "/run/pgtide-k8s/containerd"
[grpc]
  address = "/run/pgtide-k8s/containerd.sock"
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
    conf_dir = "$K8S_STATE/cni/net.d"
CT
run containerd containerd --config "$K8S_STATE/containerd.toml"
wait_for containerd 60 ctr --address /run/pgtide-k8s/containerd.sock version
bash "$here/build-images.sh" import

# pods ask the cluster DNS only (the node's own resolvers are not theirs to use)
echo "nameserver $NODE_IP" | put "$K8S_STATE/resolv.conf"
put "$K8S_STATE/kubelet.yaml" <<KL
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  x509: {clientCAFile: "$pki/ca.crt"}
  webhook: {enabled: true}
  anonymous: {enabled: false}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet.crt"
tlsPrivateKeyFile: "$pki/kubelet.key"
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix:///run/pgtide-k8s/containerd.sock
clusterDNS: ["$NODE_IP"]
clusterDomain: cluster.local
resolvConf: "$K8S_STATE/resolv.conf"
maxPods: 60
serializeImagePulls: false
evictionHard: {"memory.available": "200Mi", "nodefs.available": "1%", "imagefs.available": "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
KL
run kubelet kubelet --config "$K8S_STATE/kubelet.yaml" --kubeconfig "$K8S_STATE/kubelet.kubeconfig" \
  --root-dir "$K8S_STATE/kubelet" --hostname-override pgtide-node --node-ip "$NODE_IP"

put "$K8S_STATE/kube-proxy.yaml" <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$K8S_STATE/kube-proxy.kubeconfig"}
mode: iptables
clusterCIDR: "$POD_CIDR"
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
hostnameOverride: pgtide-node
KP
run kube-proxy kube-proxy --config "$K8S_STATE/kube-proxy.yaml"

K="kubectl --kubeconfig $KUBECONFIG_ADMIN"
wait_for "the node to be Ready" 120 sh -c "$K get node pgtide-node -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

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
bash "$here/volumes.sh" 16
wait_for "the default ServiceAccount" 60 $K -n default get serviceaccount default
log "up in $(( $(date +%s) - start )) s; KUBECONFIG=$KUBECONFIG_ADMIN"
echo "$KUBECONFIG_ADMIN"
