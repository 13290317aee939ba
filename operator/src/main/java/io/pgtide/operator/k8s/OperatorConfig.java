package io.pgtide.operator.k8s;

import java.util.Map;

/** Operator-wide settings for the objects it builds; from the environment of the operator Deployment. */
public record OperatorConfig(String spiloImage, String sidecarImage, String operatorNamespace,
                             String operatorServiceHost, int bridgePort, String caSecretName,
                             String monitoringNamespace) {

  public static final OperatorConfig DEFAULTS = new OperatorConfig(
      "ghcr.io/zalando/spilo-17:4.0-p2", "ghcr.io/pgtide/pgtide-sidecar:0.1.0", "pgtide-system",
      "pgtide-operator.pgtide-system.svc", 7443, "pgtide-ca", "monitoring");

  public static OperatorConfig fromEnv(Map<String, String> env) {
    return new OperatorConfig(env.getOrDefault("PGTIDE_SPILO_IMAGE", DEFAULTS.spiloImage()),
        env.getOrDefault("PGTIDE_SIDECAR_IMAGE", DEFAULTS.sidecarImage()),
        env.getOrDefault("POD_NAMESPACE", DEFAULTS.operatorNamespace()),
        env.getOrDefault("PGTIDE_OPERATOR_SERVICE", DEFAULTS.operatorServiceHost()),
        Integer.parseInt(env.getOrDefault("PGTIDE_BRIDGE_PORT", "7443")),
        env.getOrDefault("PGTIDE_CA_SECRET", DEFAULTS.caSecretName()),
        // where Prometheus runs: its pods may scrape the sidecars' metrics port
        env.getOrDefault("PGTIDE_MONITORING_NAMESPACE", DEFAULTS.monitoringNamespace()));
  }
}
