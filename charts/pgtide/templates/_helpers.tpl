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
{{/* the rules the operator needs in every namespace holding clusters: the namespaced part of the ClusterRole */}}
{{- define "pgtide.namespacedRules" -}}
- apiGroups: ["pgtide.io"]
  resources: ["postgresclusters", "postgresusers"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["pgtide.io"]
  resources: ["postgresclusters/status", "postgresusers/status"]
  verbs: ["get", "update", "patch"]
# owned objects are written by server-side apply (PATCH) under the field manager pgtide-operator
- apiGroups: [""]
  resources: ["services", "serviceaccounts", "secrets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# volumes: deleted per pvcRetention, grown when storage.size grows; the backup agent's created
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# pods: rolling updates delete them; patch/update because the Role the operator gives Patroni grants them
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "patch", "update", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "list", "create", "patch", "update"]
- apiGroups: ["apps"]
  resources: ["statefulsets", "deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# bootstrap.recovery: the restore Job
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "create", "delete"]
# the autoscaler sets the member count through the scale subresource
- apiGroups: ["apps"]
  resources: ["statefulsets/scale"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
{{- end -}}
{{/* what Patroni's Role grants (the operator must hold it to grant it): the Kubernetes DCS */}}
{{- define "pgtide.dcsRules" -}}
- apiGroups: [""]
  resources: ["configmaps", "endpoints"]
  verbs: ["create", "get", "list", "patch", "update", "watch", "delete", "deletecollection"]
{{- end -}}
