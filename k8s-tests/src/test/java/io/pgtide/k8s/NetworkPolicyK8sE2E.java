package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The NetworkPolicies pgtide ships, enforced (kube-router's policy controller, scripts/k8s/netpol.sh), admit exactly
 * what pgtide needs: members reach each other, sidecars reach the operator's bridge and the operator reaches them,
 * clients reach 5432; anything else is refused, and a pod in another namespace that wears the members' labels does
 * not reach the bridge. Enforcement runs for one node (the nodes share the host's network namespace), the node of the
 * leading operator; the test puts its cluster and probe pods there. The same probe that is refused under enforcement
 * gets through without it, before and after: the test can fail.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkPolicyK8sE2E {
  static final String NS = "e2e-netpol";
  static final String OTHER = "e2e-netpol-other";
  static final String NAME = "guarded";
  static final Instant START = Instant.now();
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static String node;
  static String bridge;

  @BeforeAll
  static void setUp() {
    k8s.freshNamespace(NS);
    k8s.freshNamespace(OTHER);
    Pod leader = k8s.operatorLeader();
    node = leader.getSpec().getNodeName();
    bridge = leader.getStatus().getPodIP() + " 7443";
    // a client with no label in the cluster's namespace, and a pod elsewhere dressed as a member of a cluster
    k8s.apply(probe(NS, "client", "{}") + "---\n" + probe(OTHER, "rogue", "{application: spilo, cluster-name: " + NAME + "}"));
    k8s.kubectl("-n", NS, "wait", "--for=condition=Ready", "pod/client", "--timeout=180s");
    k8s.kubectl("-n", OTHER, "wait", "--for=condition=Ready", "pod/rogue", "--timeout=180s");
  }

  @AfterAll
  static void tearDown() {
    try {
      k8s.script("netpol.sh", "stop");
    } finally {
      k8s.dropNamespace(OTHER);
      k8s.dropNamespace(NS);
    }
  }

  static String probe(String namespace, String name, String labels) {
    return """
        apiVersion: v1
        kind: Pod
        metadata: {name: %s, namespace: %s, labels: %s}
        spec:
          nodeSelector: {kubernetes.io/hostname: %s}
          terminationGracePeriodSeconds: 0
          containers:
            - name: probe
              image: localhost/pgtide/spilo:17
              imagePullPolicy: Never
              command: [sleep, infinity]
              resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 200m, memory: 64Mi}}
        """.formatted(name, namespace, labels, node);
  }

  /** Whether a TCP connection from {@code pod} to "ip port" is accepted within 3 s. */
  static boolean reaches(String namespace, String pod, String container, String target) {
    String[] hostPort = target.split(" ");
    String out = k8s.kubectl("-n", namespace, "exec", pod, "-c", container, "--", "bash", "-c",
        "if timeout 3 bash -c 'exec 3<>/dev/tcp/" + hostPort[0] + "/" + hostPort[1] + "' 2>/dev/null; "
            + "then echo open; else echo closed; fi");
    return out.strip().endsWith("open");
  }

  static Pod member(String role) {
    return k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME).withLabel("spilo-role", role).list()
        .getItems().stream().findFirst().orElseThrow();
  }

  static Pod agent() {
    return k8s.client().pods().inNamespace(NS).withLabel("app.kubernetes.io/name", "pgtide-backup").list().getItems()
        .stream().filter(p -> p.getStatus().getPodIP() != null).findFirst().orElseThrow();
  }

  /** The operator's last read of the agent (over its TLS API) says its WAL receiver streams from the primary. */
  @SuppressWarnings("unchecked")
  static boolean archiving() {
    var cr = k8s.client().resources(io.pgtide.common.crd.PostgresCluster.class).inNamespace(NS).withName(NAME).get();
    return cr != null && cr.getStatus() != null && cr.getStatus().backup instanceof java.util.Map<?, ?> b
        && ((java.util.Map<String, Object>) b).get("archiving") instanceof java.util.Map<?, ?> a
        && Boolean.TRUE.equals(a.get("streaming"));
  }

  @Test
  @Order(1)
  void withoutEnforcementAPodDressedAsAMemberReachesTheBridge() {
    assertThat(reaches(OTHER, "rogue", "probe", bridge)).as("the probe works: nothing refuses it yet").isTrue();
  }

  @Test
  @Order(2)
  void underEnforcementAClusterComesUpItsMembersReplicateAndReportToTheOperator() {
    k8s.script("netpol.sh", "start", Integer.toString(RealKubernetes.nodeNumber(node)));
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          patroni: {synchronousMode: true}
          scheduling:
            nodeSelector: {kubernetes.io/hostname: %s}
          backup: {schedule: "@daily", retention: {count: 3}, verifySchedule: never, storage: 1Gi}
        """.formatted(NAME, NS, node));
    // Ready and in sync: Patroni's members talk to each other (5432, 8008), the sidecars' reports arrive over the
    // bridge (members' readiness in the status comes from them), the operator reached Patroni's API to configure it;
    // and the backup agent streams WAL from the primary while the operator reads its status over its API
    await().atMost(Duration.ofSeconds(420)).pollInterval(Duration.ofSeconds(2))
        .until(() -> k8s.settledInSync(NS, NAME, 2) && archiving());
    assertThat(k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME).list().getItems())
        .hasSize(2).allSatisfy(p -> assertThat(p.getSpec().getNodeName()).isEqualTo(node));
    assertThat(agent().getSpec().getNodeName()).as("the agent follows spec.scheduling's nodeSelector").isEqualTo(node);
    Pod replica = member("replica");
    assertThat(reaches(NS, replica.getMetadata().getName(), "postgres", bridge)).as("a member reaches the bridge")
        .isTrue();
    assertThat(reaches(NS, replica.getMetadata().getName(), "postgres", member("master").getStatus().getPodIP()
        + " 8008")).as("a member reaches another's Patroni API").isTrue();
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  @Test
  @Order(3)
  void clientsReachPostgresAndNothingElseAndNoPodElsewhereReachesTheBridge() {
    String primary = member("master").getStatus().getPodIP();
    assertThat(reaches(NS, "client", "probe", primary + " 5432")).as("a client reaches PostgreSQL").isTrue();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
        .until(() -> !reaches(NS, "client", "probe", primary + " 8008"));
    assertThat(reaches(NS, "client", "probe", primary + " 9188")).as("a client reaches the sidecar's HTTP port")
        .isFalse();
    // the bridge admits the members of the clusters that exist, from their namespaces, and nobody else
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
        .until(() -> !reaches(OTHER, "rogue", "probe", bridge));
    assertThat(reaches(NS, "client", "probe", bridge)).as("a pod of the cluster's namespace that is no member")
        .isFalse();
    assertThat(reaches(NS, "client", "probe", agent().getStatus().getPodIP() + " 8443"))
        .as("a client reaches the backup agent's API").isFalse();
  }

  @Test
  @Order(4)
  void withEnforcementRemovedTheSameProbesGetThrough() {
    k8s.script("netpol.sh", "stop");
    assertThat(reaches(OTHER, "rogue", "probe", bridge)).isTrue();
    assertThat(reaches(NS, "client", "probe", member("master").getStatus().getPodIP() + " 8008")).isTrue();
  }
}
