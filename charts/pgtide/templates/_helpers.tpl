{{/* pgtide's names are fixed: the operator finds its Service (pgtide-operator), Lease and CA Secret by them. */}}
{{- define "pgtide.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- define "pgtide.sidecarImage" -}}
{{ .Values.images.sidecar | default (printf "ghcr.io/pgtide/pgtide-sidecar:%s" .Chart.AppVersion) }}
{{- end -}}
{{- define "pgtide.backupImage" -}}
{{ .Values.images.backup | default (printf "ghcr.io/pgtide/pgtide-backup:%s" .Chart.AppVersion) }}
{{- end -}}
{{/* the rules the operator needs in every namespace holding clusters: the namespaced part of the ClusterRole,
     Patroni's ConfigMaps included (HelmChartIT keeps it equal to manifests/rbac/clusterrole.yaml) */}}
{{- define "pgtide.namespacedRules" -}}
# Narrowed to the calls the code makes (issue #29; LeastPrivilegeK8sE2E checks the audit log both ways). Writes of
# owned objects are server-side apply (PATCH) under the field manager pgtide-operator, so no "update" on them.
- apiGroups: ["pgtide.io"]
  resources: ["postgresclusters"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["pgtide.io"]
  resources: ["postgresusers"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["pgtide.io"]
  resources: ["postgresclusters/status", "postgresusers/status"]
  verbs: ["update", "patch"]
# delete: the backup agent's Service when spec.backup goes away (only what the cluster controls)
- apiGroups: [""]
  resources: ["services", "serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Secrets are created once and then read: never updated, watched or deleted (the garbage collector removes a
# cluster's with it through their owner reference). list: SecretPasswords reads a namespace's at once. patch:
# only the sidecars' certificate, issued again before it expires (passwords are never rewritten).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "create", "patch"]
# volumes: deleted per pvcRetention, grown when storage.size grows; the backup agent's created
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "list", "create", "patch", "delete"]
# pods: rolling updates delete them, the leader labels its own (patch); watch because the Role the operator gives
# Patroni grants it (the API server refuses a Role granting more than its creator holds)
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "patch", "delete"]
# Patroni's output on Spilo is the postgres container's only: `pgtide logs --patroni` reads it (PodPatroniOutput)
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
# a major-version upgrade runs Spilo's own inplace_upgrade.py in the primary's postgres container and reads its
# progress from there (MajorUpgrader); nothing else execs into a pod. get: the API server authorizes an exec
# over WebSocket (fabric8's) as get up to 1.34, create from 1.35 on
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["get", "create"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "create", "patch"]
- apiGroups: ["apps"]
  resources: ["statefulsets", "deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# bootstrap.recovery: the restore Job
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "create"]
# the autoscaler sets the member count through the scale subresource (read, then replaced)
- apiGroups: ["apps"]
  resources: ["statefulsets/scale"]
  verbs: ["get", "update"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Patroni's ConfigMaps (<cluster>-leader, -config, -failover, -sync): the operator reads and patches the leader
# lock and the failover key, writes <cluster>-pgtide-events, and must hold what the per-cluster Role grants
# Patroni. Not narrowed by resourceNames here: the names depend on the cluster (and RBAC cannot restrict create,
# list or watch by name anyway); the per-cluster Role is narrowed. delete: the pooler's ConfigMap when spec.pooler
# goes away (only what the cluster controls).
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# the primary Service's Endpoints: is a primary serving? (Patroni uses ConfigMaps, not Endpoints)
- apiGroups: [""]
  resources: ["endpoints"]
  verbs: ["get"]
{{- end -}}
