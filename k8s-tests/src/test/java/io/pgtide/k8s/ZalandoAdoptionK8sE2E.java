package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.pgtide.common.crd.PostgresCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Taking over a Zalando cluster's data (issue #31): a two-member cluster laid out exactly as Zalando's
 * postgres-operator lays it out (pkg/cluster/k8sres.go generateStatefulSet, generateSpiloPodEnvVars,
 * generateService, generateSingleUserSecret; its ServiceAccount postgres-pod with the rules of its ClusterRole
 * postgres-pod), on the same Spilo image, holds rows and an application user made by SQL as Zalando's operator makes
 * it; its StatefulSet, Services and Patroni Endpoints are deleted as {@code kubectl delete postgresql} deletes them
 * with claim and Secret deletion off; {@code kubectl pgtide adopt-zalando}, exactly as the README says, hands the
 * claims and passwords to a PostgresCluster of the same name. Every row is there, the superuser and the user log in
 * with their old passwords through pgtide's primary Service, and no claim was replaced.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZalandoAdoptionK8sE2E {
  static final String NS = "e2e-zalando";
  static final String C = "acid-orders";
  static final String TEAM = "acid";
  static final int ROWS = 2000;
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();
  static final Map<String, String> PASSWORDS = new TreeMap<>();
  static Map<String, String> claimUids;

  /** Zalando's saved resource, as the README has the user keep it ({@code kubectl get postgresql -o yaml}). */
  static final String RESOURCE = """
      apiVersion: acid.zalan.do/v1
      kind: postgresql
      metadata: {name: %s, namespace: %s}
      spec:
        teamId: %s
        numberOfInstances: 2
        volume: {size: 1Gi}
        postgresql: {version: "17"}
        users: {app_user: [createdb]}
        databases: {orders: app_user}
        resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 1500m, memory: 768Mi}}
      """.formatted(C, NS, TEAM);

  @BeforeAll
  static void layOutAZalandoCluster() throws Exception {
    k8s.freshNamespace(NS);
    // a user with Kubernetes' own edit role (pgtide's user roles aggregate into it): all the command needs
    k8s.serviceAccount(NS, "dba", "edit");
    SecureRandom random = new SecureRandom();
    for (String user : List.of("postgres", "standby", "app_user")) {
      byte[] b = new byte[24];
      random.nextBytes(b);
      // Zalando's passwords are 64 alphanumerics; these differ from anything pgtide would generate
      PASSWORDS.put(user, Base64.getUrlEncoder().withoutPadding().encodeToString(b).replace('-', 'x')
          .replace('_', 'y'));
    }
    k8s.apply(zalandoLayout());
  }

  @AfterAll
  static void deleteNamespace() {
    k8s.dropNamespace(NS);
  }

  /** {@code kubectl pgtide ARGS} as the user dba (edit), with a fresh token (kubeconfigFor's last 10 minutes). */
  static RealKubernetes.Plugin asDba(String... args) throws Exception {
    Path kubeconfig = k8s.kubeconfigFor(NS, "dba");
    try {
      return k8s.kubectlPgtide(kubeconfig, args);
    } finally {
      Files.deleteIfExists(kubeconfig);
    }
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * What Zalando's operator makes for {@link #RESOURCE} with its default configuration: Secrets
   * {@code <user, _ as ->.<c>.credentials.postgresql.acid.zalan.do} labelled application=spilo, cluster-name,
   * team; the pods' ServiceAccount postgres-pod (the rules of Zalando's ClusterRole postgres-pod, here as a Role:
   * the test makes nothing cluster-wide); Services {@code <c>} (no selector: Patroni fills its Endpoints),
   * {@code <c>-repl} (selector spilo-role=replica) and {@code <c>-config}; the master's Endpoints; the StatefulSet
   * with claim template pgdata (mounted at /home/postgres/pgdata), Zalando's Spilo environment (PGROOT given, PGDATA
   * the image's /home/postgres/pgdata/pgroot/data, Patroni on the Kubernetes DCS with Endpoints, as Zalando's
   * default kubernetes_use_configmaps: false) and no pod security context (spilo_fsgroup unset: Spilo starts as
   * root and chowns its data, as on a default Zalando install).
   */
  static String zalandoLayout() {
    String labels = "{application: spilo, cluster-name: %s, team: %s}".formatted(C, TEAM);
    StringBuilder y = new StringBuilder();
    for (String user : List.of("postgres", "standby", "app_user")) {
      y.append("""
          apiVersion: v1
          kind: Secret
          metadata: {name: %s.%s.credentials.postgresql.acid.zalan.do, namespace: %s, labels: %s}
          type: Opaque
          data: {username: %s, password: %s}
          ---
          """.formatted(user.replace('_', '-'), C, NS, labels, b64(user), b64(PASSWORDS.get(user))));
    }
    y.append("""
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: postgres-pod, namespace: %1$s}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: postgres-pod, namespace: %1$s}
        rules:
          - apiGroups: [""]
            resources: [configmaps]
            verbs: [create, delete, deletecollection, get, list, patch, update, watch]
          - apiGroups: [""]
            resources: [endpoints]
            verbs: [create, delete, deletecollection, get, list, patch, update, watch]
          - apiGroups: [""]
            resources: [pods]
            verbs: [get, list, patch, update, watch]
          - apiGroups: [""]
            resources: [services]
            verbs: [create]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: postgres-pod, namespace: %1$s}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: postgres-pod}
        subjects: [{kind: ServiceAccount, name: postgres-pod, namespace: %1$s}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: %2$s
          namespace: %1$s
          labels: {application: spilo, cluster-name: %2$s, team: %3$s, spilo-role: master}
        spec:
          type: ClusterIP
          ports: [{name: postgresql, port: 5432, targetPort: 5432}]
        ---
        apiVersion: v1
        kind: Endpoints
        metadata:
          name: %2$s
          namespace: %1$s
          labels: {application: spilo, cluster-name: %2$s, team: %3$s, spilo-role: master}
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: %2$s-repl
          namespace: %1$s
          labels: {application: spilo, cluster-name: %2$s, team: %3$s, spilo-role: replica}
        spec:
          type: ClusterIP
          selector: {application: spilo, cluster-name: %2$s, spilo-role: replica}
          ports: [{name: postgresql, port: 5432, targetPort: 5432}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: %2$s-config
          namespace: %1$s
          labels: {application: spilo, cluster-name: %2$s}
        spec: {clusterIP: None}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: %2$s, namespace: %1$s, labels: %4$s}
        spec:
          replicas: 2
          serviceName: %2$s
          podManagementPolicy: OrderedReady
          updateStrategy: {type: RollingUpdate}
          selector: {matchLabels: {application: spilo, cluster-name: %2$s}}
          persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Retain}
          template:
            metadata: {labels: %4$s}
            spec:
              serviceAccountName: postgres-pod
              terminationGracePeriodSeconds: 300
              containers:
                - name: postgres
                  image: localhost/pgtide/spilo:17
                  imagePullPolicy: IfNotPresent
                  ports: [{containerPort: 8008}, {containerPort: 5432}, {containerPort: 8080}]
                  resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 1500m, memory: 768Mi}}
                  securityContext: {privileged: false, readOnlyRootFilesystem: false}
                  readinessProbe:
                    httpGet: {path: /readiness, port: 8008, scheme: HTTP}
                    initialDelaySeconds: 6
                    periodSeconds: 10
                    timeoutSeconds: 5
                    failureThreshold: 3
                  volumeMounts:
                    - {name: pgdata, mountPath: /home/postgres/pgdata}
                    - {name: dshm, mountPath: /dev/shm}
                  env:
                    - {name: SCOPE, value: %2$s}
                    - {name: PGROOT, value: /home/postgres/pgdata/pgroot}
                    - {name: POD_IP, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: status.podIP}}}
                    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}}
                    - {name: PGUSER_SUPERUSER, value: postgres}
                    - {name: KUBERNETES_SCOPE_LABEL, value: cluster-name}
                    - {name: KUBERNETES_ROLE_LABEL, value: spilo-role}
                    - name: PGPASSWORD_SUPERUSER
                      valueFrom: {secretKeyRef: {name: postgres.%2$s.credentials.postgresql.acid.zalan.do, key: password}}
                    - {name: PGUSER_STANDBY, value: standby}
                    - name: PGPASSWORD_STANDBY
                      valueFrom: {secretKeyRef: {name: standby.%2$s.credentials.postgresql.acid.zalan.do, key: password}}
                    - {name: PAM_OAUTH2, value: ""}
                    - {name: HUMAN_ROLE, value: zalandos}
                    - {name: PGVERSION, value: "17"}
                    - {name: KUBERNETES_LABELS, value: '{"application":"spilo"}'}
                    - name: SPILO_CONFIGURATION
                      value: '{"postgresql":{},"bootstrap":{"initdb":[{"auth-host":"scram-sha-256"},{"auth-local":"trust"}],"dcs":{}}}'
                    - {name: DCS_ENABLE_KUBERNETES_API, value: "true"}
              volumes:
                - {name: dshm, emptyDir: {medium: Memory}}
          volumeClaimTemplates:
            - metadata: {name: pgdata, labels: %4$s}
              spec:
                accessModes: [ReadWriteOnce]
                volumeMode: Filesystem
                resources: {requests: {storage: 1Gi}}
        """.formatted(NS, C, TEAM, labels));
    return y.toString();
  }

  static List<Pod> zalandoPods() {
    return k8s.client().pods().inNamespace(NS).withLabel("cluster-name", C).list().getItems();
  }

  static boolean ready(Pod p) {
    return p.getStatus() != null && p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** SQL to the pod Patroni labels spilo-role=master, as Zalando's operator reaches its primary. */
  static ServiceSql zalandoPrimary(String user) {
    Pod primary = k8s.client().pods().inNamespace(NS).withLabel("cluster-name", C)
        .withLabel("spilo-role", "master").list().getItems().get(0);
    return ServiceSql.toAddress(primary.getStatus().getPodIP(), user, PASSWORDS.get(user));
  }

  static Map<String, String> claimUids() {
    return k8s.client().persistentVolumeClaims().inNamespace(NS).list().getItems().stream()
        .filter(c -> c.getMetadata().getName().startsWith("pgdata-" + C + "-"))
        .collect(Collectors.toMap(c -> c.getMetadata().getName(), c -> c.getMetadata().getUid(), (a, b) -> a,
            TreeMap::new));
  }

  @Test
  @Order(1)
  void theZalandoClusterRunsAndHoldsRowsOfAnApplicationUser() {
    // both members ready (Patroni's /readiness), one labelled master by Patroni, the other streaming from it
    await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(2)).until(() -> {
      List<Pod> pods = zalandoPods();
      return pods.size() == 2 && pods.stream().allMatch(ZalandoAdoptionK8sE2E::ready)
          && pods.stream().filter(p -> "master".equals(p.getMetadata().getLabels().get("spilo-role"))).count() == 1;
    });
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
        .until(() -> zalandoPrimary("postgres").query(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").equals("1"));

    // the user and database as Zalando's operator makes them: SQL as the superuser (pkg/util/users,
    // pkg/cluster/sync.go: CREATE ROLE ... LOGIN CREATEDB PASSWORD, CREATE DATABASE ... OWNER)
    ServiceSql su = zalandoPrimary("postgres");
    su.exec("CREATE ROLE app_user LOGIN CREATEDB PASSWORD '" + PASSWORDS.get("app_user") + "'");
    su.exec("CREATE DATABASE orders OWNER app_user");
    ServiceSql app = zalandoPrimary("app_user").database("orders");
    app.exec("CREATE TABLE ledger (id int PRIMARY KEY, note text NOT NULL)");
    app.exec("INSERT INTO ledger SELECT g, 'row ' || g FROM generate_series(1, " + ROWS + ") g");
    assertThat(app.query("SELECT count(*) FROM ledger")).isEqualTo(String.valueOf(ROWS));
    // the replica holds them too: its data directory is as current as the primary's when both stop
    Pod replica = zalandoPods().stream().filter(p -> "replica".equals(p.getMetadata().getLabels().get("spilo-role")))
        .findFirst().orElseThrow();
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() ->
        ServiceSql.toAddress(replica.getStatus().getPodIP(), "app_user", PASSWORDS.get("app_user")).database("orders")
            .query("SELECT count(*) FROM ledger").equals(String.valueOf(ROWS)));
    claimUids = claimUids();
    assertThat(claimUids).containsOnlyKeys("pgdata-" + C + "-0", "pgdata-" + C + "-1");
  }

  @Test
  @Order(2)
  void theAdoptionIsRefusedWhileZalandosStatefulSetExists() throws Exception {
    Path file = Files.createTempFile("zalando-", ".yaml");
    try {
      Files.writeString(file, RESOURCE);
      RealKubernetes.Plugin refused = asDba("adopt-zalando", "-n", NS, C, "-f", file.toString());
      assertThat(refused.exit()).as(refused.output()).isEqualTo(1);
      assertThat(refused.stderr()).contains("Zalando's StatefulSet " + NS + "/" + C + " still exists")
          .contains("delete postgresql " + C);
      assertThat(k8s.client().secrets().inNamespace(NS).withName("postgres." + C + ".credentials.postgresql.pgtide.io")
          .get()).isNull();
      assertThat(k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(C).get()).isNull();
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  @Order(3)
  void pgtideAdoptsTheVolumesAndPasswordsAndKeepsEveryRow() throws Exception {
    // the README's step 2: member 0 is the primary (`patronictl switchover` when it is not), then
    // numberOfInstances: 1, which Zalando's operator carries out as a scale of
    // its StatefulSet: member 0 stops last, so no other member's data is newer than the one pgtide starts first
    String first = C + "-0";
    if (!"master".equals(k8s.client().pods().inNamespace(NS).withName(first).get().getMetadata().getLabels()
        .get("spilo-role"))) {
      k8s.kubectl("-n", NS, "exec", first, "-c", "postgres", "--", "patronictl", "switchover", "--candidate", first,
          "--force");
      await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).until(() -> "master".equals(
          k8s.client().pods().inNamespace(NS).withName(first).get().getMetadata().getLabels().get("spilo-role")));
    }
    ServiceSql.toAddress(k8s.client().pods().inNamespace(NS).withName(first).get().getStatus().getPodIP(), "app_user",
        PASSWORDS.get("app_user")).database("orders").exec("INSERT INTO ledger VALUES (0, 'last write on Zalando')");
    k8s.kubectl("-n", NS, "scale", "statefulset", C, "--replicas=1");
    await().atMost(Duration.ofSeconds(400)).pollInterval(Duration.ofSeconds(2))
        .until(() -> zalandoPods().stream().map(p -> p.getMetadata().getName()).toList().equals(List.of(first)));

    // what `kubectl delete postgresql` does with enable_persistent_volume_claim_deletion and
    // enable_secrets_deletion "false" (pkg/cluster/cluster.go Delete, resources.go deleteStatefulSet, pod.go
    // deletePods): the StatefulSet with propagation Orphan, then its pods one by one in list order, each awaited,
    // then the master and replica Services and the Patroni Service (Kubernetes' endpoints controller removes the
    // Endpoints of those names with them). Patroni's other objects are not deleted here: the command deletes what
    // is left.
    k8s.kubectl("-n", NS, "delete", "statefulset", C, "--cascade=orphan", "--wait=true");
    for (String pod : zalandoPods().stream().map(p -> p.getMetadata().getName()).sorted().toList()) {
      k8s.kubectl("-n", NS, "delete", "pod", pod, "--wait=true", "--timeout=400s");
    }
    await().atMost(Duration.ofSeconds(400)).pollInterval(Duration.ofSeconds(2)).until(() -> zalandoPods().isEmpty());
    k8s.kubectl("-n", NS, "delete", "service", C, C + "-repl", C + "-config", "--ignore-not-found", "--wait=true");
    assertThat(claimUids()).isEqualTo(claimUids);

    String adoptOutput;
    Path file = Files.createTempFile("zalando-", ".yaml");
    try {
      Files.writeString(file, RESOURCE);
      RealKubernetes.Plugin dryRun = asDba("adopt-zalando", "-n", NS, C, "-f", file.toString(),
          "--dry-run");
      assertThat(dryRun.exit()).as(dryRun.output()).isZero();
      assertThat(dryRun.stdout()).contains("kind: PostgresCluster").contains("replicas: 2")
          .contains("# would annotate PersistentVolumeClaim pgdata-" + C + "-0");
      assertThat(k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(C).get()).isNull();

      RealKubernetes.Plugin adopt = asDba("adopt-zalando", "-n", NS, C, "-f", file.toString());
      assertThat(adopt.exit()).as(adopt.output()).isZero();
      adoptOutput = adopt.output();
      assertThat(adopt.stdout()).contains("postgrescluster/" + C + " created")
          .contains("persistentvolumeclaim/pgdata-" + C + "-1 annotated");
      for (String output : List.of(adopt.output(), dryRun.output())) {
        PASSWORDS.values().forEach(p -> assertThat(output).as("no password printed").doesNotContain(p));
      }
    } finally {
      Files.deleteIfExists(file);
    }
    // Patroni's Endpoints of the dead cluster (the endpoints controller deletes those of a deleted Service's name):
    // gone, or (Kubernetes' edit role has no write on Endpoints since 1.22) named as left; pgtide's Patroni keeps
    // its state in ConfigMaps and does not read them
    assertThat(k8s.client().endpoints().inNamespace(NS).withName(C + "-config").get() == null
        || adoptOutput.contains("endpoints/" + C + "-config left")).as(adoptOutput).isTrue();

    // Ready with both members on the old data
    await().atMost(Duration.ofSeconds(900)).pollInterval(Duration.ofSeconds(2)).until(() -> {
      PostgresCluster cr = k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(C).get();
      return cr != null && cr.getStatus() != null && cr.getStatus().members != null
          && cr.getStatus().members.size() == 2 && cr.getStatus().members.stream().allMatch(m -> m.ready)
          && "True".equals(k8s.condition(NS, C, "Ready"));
    });
    assertThat(k8s.condition(NS, C, "Conflict")).isEqualTo("False");
    // the same claims, not new ones
    assertThat(claimUids()).isEqualTo(claimUids);
    for (PersistentVolumeClaim claim : k8s.client().persistentVolumeClaims().inNamespace(NS).list().getItems()) {
      assertThat(claim.getMetadata().getAnnotations()).containsEntry("pgtide.io/adopt", "true");
    }
    // pgtide's Secrets hold the old passwords
    assertThat(k8s.superuserPassword(NS, C)).isEqualTo(PASSWORDS.get("postgres"));

    // the old passwords log in through pgtide's primary Service, and every row is there
    ServiceSql su = ServiceSql.of(k8s, NS, C, "postgres", PASSWORDS.get("postgres"));
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
        .until(() -> su.query("SELECT 1").equals("1"));
    // every row: the ones both members held, and the last one written on Zalando's primary alone
    assertThat(su.database("orders").query("SELECT count(*), sum(id) FROM ledger"))
        .isEqualTo((ROWS + 1) + "|" + ((long) ROWS * (ROWS + 1) / 2));
    ServiceSql app = ServiceSql.of(k8s, NS, C, "app_user", PASSWORDS.get("app_user")).database("orders");
    assertThat(app.query("SELECT note FROM ledger WHERE id = 0")).isEqualTo("last write on Zalando");
    // writable, and the replica streams with the old replication password
    app.exec("INSERT INTO ledger VALUES (" + (ROWS + 1) + ", 'after adoption')");
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
        .until(() -> su.query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").equals("1"));
    ServiceSql replica = ServiceSql.of(k8s, NS, C + "-repl", "app_user", PASSWORDS.get("app_user"))
        .database("orders");
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
        .until(() -> replica.query("SELECT count(*) FROM ledger").equals(String.valueOf(ROWS + 2)));
  }

  @Test
  @Order(4)
  void onceMarkedManagedTheUserKeepsItsOldPassword() throws Exception {
    // the README's last step: the roles Zalando made are pgtide's once marked
    RealKubernetes.Plugin comment = asDba("psql", "-n", NS, C, "--", "-c",
        "COMMENT ON ROLE app_user IS 'managed by pgtide'");
    assertThat(comment.exit()).as(comment.output()).isZero();
    RealKubernetes.Plugin sync = asDba("users", "sync", "-n", NS, C);
    assertThat(sync.exit()).as(sync.output()).isZero();
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> {
      PostgresCluster cr = k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(C).get();
      return cr.getStatus().users != null && cr.getStatus().users.failed.stream()
          .noneMatch(f -> "app_user".equals(f.name));
    });
    // its passwordSecret is the copy of Zalando's: the password set is the one it had
    ServiceSql app = ServiceSql.of(k8s, NS, C, "app_user", PASSWORDS.get("app_user")).database("orders");
    assertThat(app.query("SELECT count(*) FROM ledger")).isEqualTo(String.valueOf(ROWS + 2));
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
