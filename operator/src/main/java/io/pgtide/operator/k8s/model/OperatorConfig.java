package io.pgtide.operator.k8s.model;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Operator-wide settings for the objects it builds; from the environment of the operator Deployment.
 * {@code watchNamespaces}: the namespaces whose PostgresClusters it runs, empty for all (the cluster-wide install);
 * a namespaced install lists them and holds a Role in each instead of the ClusterRole. {@code allowedImages}: what
 * a cluster's {@code spec.image} may name ({@code PGTIDE_ALLOWED_IMAGES}, see {@link ClusterValidation#imageAllowed});
 * by default any tag or digest of the Spilo image the operator ships with.
 */
public record OperatorConfig(String spiloImage, String sidecarImage, String backupImage, String operatorNamespace,
                             String operatorServiceHost, int bridgePort, String caSecretName,
                             String monitoringNamespace, List<String> watchNamespaces, List<String> allowedImages) {

  private static final String SPILO_IMAGE = "ghcr.io/zalando/spilo-17:4.0-p2";

  public static final OperatorConfig DEFAULTS = new OperatorConfig(
      SPILO_IMAGE, "ghcr.io/pgtide/pgtide-sidecar:0.1.0", "ghcr.io/pgtide/pgtide-backup:0.1.0",
      "pgtide-system",
      "pgtide-operator.pgtide-system.svc", 7443, "pgtide-ca", "monitoring", List.of(),
      ClusterValidation.defaultAllowedImages(SPILO_IMAGE));

  public OperatorConfig {
    watchNamespaces = List.copyOf(watchNamespaces);
    allowedImages = List.copyOf(allowedImages);
  }

  public static OperatorConfig fromEnv(Map<String, String> env) {
    String namespace = env.getOrDefault("POD_NAMESPACE", DEFAULTS.operatorNamespace());
    String spilo = env.getOrDefault("PGTIDE_SPILO_IMAGE", DEFAULTS.spiloImage());
    return new OperatorConfig(spilo,
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
            .filter(s -> !s.isEmpty()).distinct().sorted().toList(),
        list(env.get("PGTIDE_ALLOWED_IMAGES")).orElseGet(() -> ClusterValidation.defaultAllowedImages(spilo)));
  }

  /** A comma list, or empty when unset or blank (then the default applies: an empty allowlist would refuse all). */
  private static java.util.Optional<List<String>> list(String value) {
    List<String> items = value == null ? List.of() : Arrays.stream(value.split(",")).map(String::strip)
        .filter(s -> !s.isEmpty()).distinct().toList();
    return items.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(items);
  }
}
