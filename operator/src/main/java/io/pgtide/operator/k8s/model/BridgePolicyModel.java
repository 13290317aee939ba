package io.pgtide.operator.k8s.model;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder;
import io.pgtide.common.crd.PostgresCluster;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The operator's own NetworkPolicy for its bridge port: it admits the members of the PostgresClusters that exist,
 * from their namespaces, and nothing else. Pure.
 *
 * <p>Why the operator writes it rather than the manifests: a static rule can only say "pods labelled
 * {@code application: spilo} in any namespace", and anyone who may create a pod anywhere can wear that label. The
 * namespace is the one thing a pod cannot choose, and only the operator knows which namespaces hold clusters. Every
 * sidecar still proves itself with its certificate; this keeps everybody else from reaching the TLS handshake.
 */
public final class BridgePolicyModel {
  public static final String NAME = "pgtide-operator-bridge";

  private BridgePolicyModel() {
  }

  public static NetworkPolicy desired(OperatorConfig config, Collection<PostgresCluster> clusters) {
    Map<String, TreeSet<String>> byNamespace = new TreeMap<>();
    for (PostgresCluster cr : clusters) {
      byNamespace.computeIfAbsent(cr.getMetadata().getNamespace(), ns -> new TreeSet<>()).add(cr.getMetadata().getName());
    }
    List<NetworkPolicyIngressRule> rules = byNamespace.entrySet().stream()
        .map(e -> new NetworkPolicyIngressRuleBuilder()
            .addNewFrom()
              .withNewNamespaceSelector().addToMatchLabels("kubernetes.io/metadata.name", e.getKey())
              .endNamespaceSelector()
              .withNewPodSelector().addToMatchLabels("application", "spilo")
                .addNewMatchExpression().withKey("cluster-name").withOperator("In")
                .withValues(List.copyOf(e.getValue())).endMatchExpression()
              .endPodSelector()
            .endFrom()
            .addNewPort().withProtocol("TCP").withPort(new IntOrString(config.bridgePort())).endPort()
            .build())
        .toList();
    // no cluster: no rule, so the bridge port admits nobody (the policy still selects the operator's pods)
    return new NetworkPolicyBuilder()
        .withNewMetadata().withName(NAME).withNamespace(config.operatorNamespace())
          .addToLabels("app.kubernetes.io/name", "pgtide-operator")
        .endMetadata()
        .withNewSpec()
          .withNewPodSelector().addToMatchLabels("app.kubernetes.io/name", "pgtide-operator").endPodSelector()
          .withPolicyTypes("Ingress")
          .withIngress(rules)
        .endSpec().build();
  }
}
