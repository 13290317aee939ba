package io.pgtide.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.k8s.model.Ownership;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgtide adopt-zalando [-n NS] CLUSTER}: hands a stopped Zalando cluster's data volumes and passwords to a
 * PostgresCluster of the same name. Reads (kubeconfig, the caller's own rights, as kubectl), asks
 * {@link ZalandoAdoption} for the plan, and carries it out in an order that can be repeated after any failure:
 * Secrets (created, never overwritten), claims annotated, the dead cluster's leftovers deleted, the PostgresCluster
 * created last. A password is never printed or logged: Secret data goes from one object to the other in memory.
 * Exit 0 done (or {@code --dry-run} printed), 1 refused or failed, 2 bad input or fields not converted.
 */
@Command(name = "adopt-zalando", mixinStandardHelpOptions = true, description = "Take over a stopped Zalando cluster's"
    + " data: copies its superuser, replication and users' passwords into Secrets pgtide reads, annotates its claims"
    + " pgdata-CLUSTER-<n> pgtide.io/adopt=true, deletes its leftover Services, Patroni Endpoints/ConfigMaps and"
    + " PodDisruptionBudgets, and creates the converted PostgresCluster of the same name. Refused while Zalando's"
    + " StatefulSet or pods exist. --dry-run prints the plan and the PostgresCluster and changes nothing.")
final class AdoptZalandoCommand implements Callable<Integer> {
  static final ResourceDefinitionContext POSTGRESQL = new ResourceDefinitionContext.Builder()
      .withGroup("acid.zalan.do").withVersion("v1").withKind("postgresql").withPlural("postgresqls")
      .withNamespaced(true).build();

  @Option(names = {"-n", "--namespace"}, description = "namespace (default: the kubeconfig's)")
  String namespace;
  @Parameters(index = "0", paramLabel = "CLUSTER", description = "Zalando's cluster (its postgresql resource's name)")
  String cluster;
  @Option(names = {"-f", "--file"}, description = "Zalando's postgresql resource as it was (kubectl get postgresql"
      + " CLUSTER -o yaml), when it is gone; by default the live one is read")
  String file;
  @Option(names = "--postgres-version", description = "the data's PostgreSQL major, when neither the live resource"
      + " nor -f is there")
  Integer postgresVersion;
  @Option(names = "--dry-run", description = "print the plan and the PostgresCluster; change nothing")
  boolean dryRun;
  @Option(names = "--allow-partial", description = "adopt even when some fields of the resource are not converted")
  boolean allowPartial;

  @Override
  public Integer call() {
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      return run(client);
    }
  }

  /** The command against {@code client} (the kubeconfig's, or a test's). */
  int run(KubernetesClient client) {
    try {
      String ns = namespace != null ? namespace : client.getNamespace() != null ? client.getNamespace() : "default";
      ZalandoAdoption.Found found;
      try {
        found = read(client, ns);
      } catch (ZalandoConversion.BadInput e) {
        System.err.println("pgtide adopt-zalando: " + e.getMessage());
        return PgtideCli.USAGE;
      } catch (IOException e) {
        System.err.println("pgtide adopt-zalando: cannot read " + file + ": " + e.getMessage());
        return PgtideCli.USAGE;
      }
      ZalandoAdoption.Plan plan = ZalandoAdoption.plan(found);
      if (plan.refusal() != null) {
        System.err.println("pgtide adopt-zalando: " + plan.refusal());
        return plan.usage() ? PgtideCli.USAGE : PgtideCli.FAILED;
      }
      plan.notes().forEach(n -> System.err.println("pgtide adopt-zalando: " + n));
      plan.unconvertible().forEach(u -> System.err.println("pgtide adopt-zalando: not converted: " + u.line()));
      if (!plan.unconvertible().isEmpty() && !allowPartial) {
        System.err.println("pgtide adopt-zalando: " + plan.unconvertible().size() + " field(s) not converted, nothing"
            + " changed; --allow-partial adopts without them");
        return ConvertCommand.PARTIAL;
      }
      return dryRun ? print(plan, ns) : carryOut(client, found, plan, ns);
    } catch (KubernetesClientException e) {
      System.err.println("pgtide adopt-zalando: " + KubeCli.reason(e));
      return PgtideCli.FAILED;
    }
  }

  private ZalandoAdoption.Found read(KubernetesClient client, String ns) throws IOException {
    JsonNode postgresql = null;
    String source;
    if (file != null) {
      String text = file.equals("-") ? new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
          : Files.readString(Path.of(file));
      List<JsonNode> docs = ZalandoConversion.parse(text, file);
      postgresql = docs.stream().filter(d -> cluster.equals(d.path("metadata").path("name").asText()))
          .findFirst().orElseThrow(() -> new ZalandoConversion.BadInput(file + " holds no resource named "
              + cluster));
      source = file;
    } else {
      GenericKubernetesResource live = live(client, ns);
      if (live != null) {
        postgresql = Serialization.jsonMapper().valueToTree(live);
      }
      source = live == null ? "leftovers" : "postgresql " + ns + "/" + cluster;
    }
    var sts = client.apps().statefulSets().inNamespace(ns).withName(cluster).get();
    // pgtide's own members carry app.kubernetes.io/managed-by=pgtide; Zalando's do not
    int pods = (int) client.pods().inNamespace(ns).withLabel("cluster-name", cluster).list().getItems().stream()
        .filter(p -> p.getMetadata().getLabels() == null
            || !"pgtide".equals(p.getMetadata().getLabels().get("app.kubernetes.io/managed-by"))).count();
    boolean exists = client.resources(PostgresCluster.class).inNamespace(ns).withName(cluster).get() != null;
    List<Secret> secrets = client.secrets().inNamespace(ns).list().getItems().stream()
        .filter(s -> s.getMetadata().getName().contains("." + cluster + ".")).toList();
    var claims = client.persistentVolumeClaims().inNamespace(ns).list().getItems();
    List<HasMetadata> leftovers = new ArrayList<>();
    leftovers.addAll(client.services().inNamespace(ns).withLabel("cluster-name", cluster).list().getItems());
    leftovers.addAll(client.endpoints().inNamespace(ns).withLabel("cluster-name", cluster).list().getItems());
    leftovers.addAll(client.configMaps().inNamespace(ns).withLabel("cluster-name", cluster).list().getItems());
    leftovers.addAll(client.policy().v1().podDisruptionBudget().inNamespace(ns).withLabel("cluster-name", cluster)
        .list().getItems());
    return new ZalandoAdoption.Found(ns, cluster, postgresql, source, postgresVersion, sts, pods, exists, secrets,
        claims, leftovers);
  }

  /** Zalando's live resource, or null when it (or its CRD) is not there. */
  private GenericKubernetesResource live(KubernetesClient client, String ns) {
    try {
      return client.genericKubernetesResources(POSTGRESQL).inNamespace(ns).withName(cluster).get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  /** {@code --dry-run}: the plan as YAML comments, then the PostgresCluster, so the output can be applied as is. */
  private int print(ZalandoAdoption.Plan plan, String ns) {
    StringBuilder out = new StringBuilder();
    for (ZalandoAdoption.SecretCopy s : plan.secrets()) {
      out.append("# would create Secret ").append(s.to()).append(" with ").append(s.user()).append("'s password from ")
          .append(s.from()).append(s.adopt() ? ", annotated " + Ownership.ADOPT + "=true" : "").append('\n');
    }
    plan.claims().forEach(c -> out.append("# would annotate PersistentVolumeClaim ").append(c).append(' ')
        .append(Ownership.ADOPT).append("=true\n"));
    plan.delete().forEach(o -> out.append("# would delete ").append(o.getKind()).append(' ')
        .append(o.getMetadata().getName()).append(" (the Zalando cluster's)\n"));
    if (plan.cluster() == null) {
      out.append("# PostgresCluster ").append(ns).append('/').append(cluster).append(" exists: left as it is\n");
    } else {
      out.append("# would create:\n").append(ZalandoConversion.yaml(List.of(plan.cluster())));
    }
    System.out.print(out);
    System.out.flush();
    return 0;
  }

  private int carryOut(KubernetesClient client, ZalandoAdoption.Found found, ZalandoAdoption.Plan plan, String ns) {
    for (ZalandoAdoption.SecretCopy s : plan.secrets()) {
      Secret from = ZalandoAdoption.secret(found, s.from());
      if (ZalandoAdoption.secret(found, s.to()) != null) {
        System.out.println("secret/" + s.to() + " holds " + s.user() + "'s password already");
        continue;
      }
      client.secrets().inNamespace(ns).resource(ZalandoAdoption.copy(s, from, ns)).create();
      System.out.println("secret/" + s.to() + " created with " + s.user() + "'s password from " + s.from());
    }
    for (String claim : plan.claims()) {
      client.persistentVolumeClaims().inNamespace(ns).withName(claim).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"metadata\":{\"annotations\":{\"" + Ownership.ADOPT + "\":\"true\"}}}");
      System.out.println("persistentvolumeclaim/" + claim + " annotated " + Ownership.ADOPT + "=true");
    }
    for (HasMetadata o : plan.delete()) {
      String what = o.getKind().toLowerCase(java.util.Locale.ROOT) + "/" + o.getMetadata().getName();
      try {
        client.resource(o).inNamespace(ns).withTimeout(60, java.util.concurrent.TimeUnit.SECONDS).delete();
        System.out.println(what + " deleted (the Zalando cluster's)");
      } catch (KubernetesClientException e) {
        if (e.getCode() != 403 || !"Endpoints".equals(o.getKind())) {
          throw e;
        }
        // Kubernetes' edit and admin roles lost write access to Endpoints in 1.22; pgtide's Patroni keeps its state
        // in ConfigMaps and its Services' routing comes from EndpointSlices, so a dead cluster's Endpoints are inert
        System.err.println("pgtide adopt-zalando: " + what + " left: deleting it is forbidden to you (" + KubeCli
            .reason(e) + "); it is not read by pgtide's Patroni, an administrator may `kubectl -n " + ns
            + " delete endpoints " + o.getMetadata().getName() + "`");
      }
    }
    if (plan.cluster() == null) {
      System.out.println("postgrescluster/" + cluster + " exists: left as it is");
    } else {
      String yaml = ZalandoConversion.yaml(List.of(plan.cluster()));
      client.resource(Serialization.unmarshal(yaml, PostgresCluster.class)).inNamespace(ns).create();
      System.out.println("postgrescluster/" + cluster + " created; `kubectl pgtide status -n " + ns + " " + cluster
          + "` shows its members");
    }
    return 0;
  }
}
