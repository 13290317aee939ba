package io.pgtide.operator.k8s.model;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import java.util.ArrayList;
import java.util.List;

/** Every object the operator would create for a cluster, as one YAML stream: for GitOps review and tests. Pure. */
public final class Render {
  private Render() {
  }

  public static String yaml(PostgresCluster cr, OperatorConfig config) {
    if (cr.getMetadata().getUid() == null) {
      cr.getMetadata().setUid("00000000-0000-0000-0000-000000000000"); // the API server assigns the real one
    }
    List<HasMetadata> objects = new ArrayList<>(ClusterModel.all(cr, config));
    for (Secret s : ClusterModel.credentialSecrets(cr, () -> "<generated at apply time>")) {
      objects.add(s);
    }
    objects.add(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withMetadata(ClusterModel.meta(cr, ClusterModel.sidecarTlsSecret(cr.getMetadata().getName())))
        .withType("kubernetes.io/tls").addToStringData("tls.crt", "<issued by the operator's CA at apply time>")
        .addToStringData("tls.key", "<issued at apply time>").addToStringData("ca.crt", "<the operator's CA>")
        .build());
    if (cr.getSpec().pooler != null) {
      objects.add(PoolerModel.credentials(cr, "<generated at apply time>"));
      objects.add(PoolerModel.configMap(cr));
      objects.add(PoolerModel.networkPolicy(cr));
      for (PoolerModel.Kind kind : PoolerModel.kinds(cr)) {
        objects.add(PoolerModel.service(cr, kind));
        objects.add(PoolerModel.podDisruptionBudget(cr, kind));
        // the pod template's hash covers the certificate, issued at apply time
        objects.add(PoolerModel.deployment(cr, config, kind, ""));
      }
    }
    StringBuilder out = new StringBuilder();
    for (HasMetadata o : objects) {
      String doc = Serialization.asYaml(o);
      out.append(doc.startsWith("---") ? doc : "---\n" + doc);
    }
    return out.toString();
  }
}
