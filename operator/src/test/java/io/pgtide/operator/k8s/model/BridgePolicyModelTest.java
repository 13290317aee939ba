package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.pgtide.common.crd.PostgresCluster;
import java.util.List;
import org.junit.jupiter.api.Test;

class BridgePolicyModelTest {
  private final OperatorConfig config = OperatorConfig.DEFAULTS;

  private static PostgresCluster cluster(String ns, String name) {
    PostgresCluster cr = new PostgresCluster();
    cr.getMetadata().setNamespace(ns);
    cr.getMetadata().setName(name);
    return cr;
  }

  @Test
  void admitsEachClustersMembersFromItsOwnNamespaceOnly() {
    NetworkPolicy policy = BridgePolicyModel.desired(config,
        List.of(cluster("shop", "orders"), cluster("billing", "ledger"), cluster("shop", "carts")));

    assertThat(policy.getMetadata().getNamespace()).isEqualTo(config.operatorNamespace());
    assertThat(policy.getSpec().getPodSelector().getMatchLabels())
        .containsEntry("app.kubernetes.io/name", "pgtide-operator");
    List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress();
    assertThat(rules).hasSize(2); // one per namespace, in name order
    var billing = rules.get(0).getFrom().get(0);
    assertThat(billing.getNamespaceSelector().getMatchLabels())
        .containsExactlyEntriesOf(java.util.Map.of("kubernetes.io/metadata.name", "billing"));
    var shop = rules.get(1).getFrom().get(0);
    assertThat(shop.getNamespaceSelector().getMatchLabels()).containsEntry("kubernetes.io/metadata.name", "shop");
    assertThat(shop.getPodSelector().getMatchLabels()).containsExactlyEntriesOf(java.util.Map.of("application", "spilo"));
    assertThat(shop.getPodSelector().getMatchExpressions()).singleElement().satisfies(e -> {
      assertThat(e.getKey()).isEqualTo("cluster-name");
      assertThat(e.getOperator()).isEqualTo("In");
      assertThat(e.getValues()).containsExactly("carts", "orders");
    });
    assertThat(rules).allSatisfy(r -> assertThat(r.getPorts()).singleElement()
        .satisfies(p -> assertThat(p.getPort().getIntVal()).isEqualTo(config.bridgePort())));
  }

  @Test
  void withNoClusterTheBridgePortAdmitsNobody() {
    NetworkPolicy policy = BridgePolicyModel.desired(config, List.of());
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(policy.getSpec().getIngress()).isEmpty();
  }
}
