package io.pgtide.operator.k8s;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Operator-wide settings for the objects it builds; from the environment of the operator Deployment.
 * {@code watchNamespaces}: the namespaces whose PostgresClusters it runs, empty for all (the cluster-wide install);
 * a namespaced install lists them and holds a Role in each instead of the ClusterRole.
 */
public record OperatorConfig(String spiloImage, String sidecarImage, String backupImage, String operatorNamespace,
                             String operatorServiceHost, int bridgePort, String caSecretName,
                             String monitoringNamespace, List<String> watchNamespaces) {

  public static final OperatorConfig DEFAULTS = new OperatorConfig(
      "ghcr.io/zalando/spilo-17:4.0-p2", "ghcr.io/pgtide/pgtide-sidecar:0.1.0", "ghcr.io/pgtide/pgtide-backup:0.1.0",
      "pgtide-system",
      "pgtide-operator.pgtide-system.svc", 7443, "pgtide-ca", "monitoring", List.of());

  public OperatorConfig {
    watchNamespaces = List.copyOf(watchNamespaces);
  }

  public static OperatorConfig fromEnv(Map<String, String> env) {
    String namespace = env.getOrDefault("POD_NAMESPACE", DEFAULTS.operatorNamespace());
    return new OperatorConfig(env.getOrDefault("PGTIDE_SPILO_IMAGE", DEFAULTS.spiloImage()),
        env.getOrDefault("PGTIDE_SIDECAR_IMAGE", DEFAULTS.sidecarImage()),
        env.getOrDefault("PGTIDE_BACKUP_IMAGE", DEFAULTS.backupImage()),
        namespace,
        // the Service of the operator's own namespace, which the Deployment's manifests create
        env.getOrDefault("PGTIDE_OPERATOR_SERVICE", "pgtide-operator." + namespace + ".svc"),
        Integer.parseInt(env.getOrDefault("PGTIDE_BRIDGE_PORT", "7443")),
        env.getOrDefault("PGTIDE_CA_SECRET", DEFAULTS.caSecretName()),
        // where Prometheus runs: its pods may scrape the sidecars' metrics port
        env.getOrDefault("PGTIDE_MONITORING_NAMESPACE", DEFAULTS.monitoringNamespace()),
        Arrays.stream(env.getOrDefault("PGTIDE_WATCH_NAMESPACES", "").split(",")).map(String::strip)
            .filter(s -> !s.isEmpty()).distinct().sorted().toList());
  }
}
