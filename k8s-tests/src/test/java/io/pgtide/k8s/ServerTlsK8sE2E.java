package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.testkit.SteadyWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL's certificate from the cluster's own CA (#32 part 1), as a client pod sees it: psql with
 * {@code sslmode=verify-full} and {@code sslrootcert} from the ConfigMap {@code <c>-ca} reaches the primary and the
 * replicas through their Services' DNS names; a name the certificate does not carry (a member's pod IP) and a
 * foreign CA are refused. Then a rotation (the operator issues the certificate again, the kubelet updates the files,
 * PostgreSQL reloads them) under a writer loses no acknowledged write and breaks no new verify-full connection.
 * Last, the user's own certificate ({@code spec.tls.secretName}): checked, served, renewed in place, never written.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServerTlsK8sE2E {
  static final String NS = "e2e-tls";
  static final String NAME = "sealed";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();

  @BeforeAll
  static void setUp() {
    k8s.freshNamespace(NS);
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          patroni: {synchronousMode: true}
        """.formatted(NAME, NS));
    // ArgoCD's health check (examples/gitops/health) on the statuses the operator writes: a new cluster
    assertThat(k8s.argoHealth(NS, NAME)).as("a cluster that has no primary yet").isEqualTo("Progressing");
    await().atMost(Duration.ofSeconds(420)).pollInterval(Duration.ofSeconds(2))
        .until(() -> k8s.settledInSync(NS, NAME, 2));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2))
        .until(() -> "Healthy".equals(k8s.argoHealth(NS, NAME)));
    // a CA that issued nothing of the cluster's, for the client to (wrongly) trust
    String foreign = CertificateAuthority.create("foreign", Duration.ofDays(1)).caPem();
    k8s.apply("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: foreign-ca, namespace: %1$s}
        data:
          ca.crt: |
        %3$s
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: %1$s}
        spec:
          terminationGracePeriodSeconds: 0
          containers:
            - name: client
              image: localhost/pgtide/spilo:17
              imagePullPolicy: Never
              command: [sleep, infinity]
              env:
                - name: PGPASSWORD
                  valueFrom: {secretKeyRef: {name: postgres.%2$s.credentials.postgresql.pgtide.io, key: password}}
              resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 200m, memory: 64Mi}}
              volumeMounts:
                - {name: ca, mountPath: /ca, readOnly: true}
                - {name: foreign, mountPath: /foreign, readOnly: true}
          volumes:
            - name: ca
              configMap: {name: %2$s-ca}
            - name: foreign
              configMap: {name: foreign-ca}
        """.formatted(NS, NAME, foreign.strip().indent(4).stripTrailing()));
    k8s.kubectl("-n", NS, "wait", "--for=condition=Ready", "pod/client", "--timeout=180s");
  }

  @AfterAll
  static void tearDown() {
    k8s.dropNamespace(NS);
  }

  /** psql in the client pod: its output, and whether it succeeded (the last line says). */
  static String psql(String host, String rootCert, String sql) {
    String conninfo = "host=" + host + " port=5432 dbname=postgres user=postgres sslmode=verify-full sslrootcert="
        + rootCert + " connect_timeout=5";
    return k8s.kubectl("-n", NS, "exec", "client", "-c", "client", "--", "bash", "-c",
        "psql -X -A -t -v ON_ERROR_STOP=1 -d '" + conninfo + "' -c \"" + sql + "\" 2>&1; echo \"rc=$?\"").strip();
  }

  static boolean succeeded(String out) {
    return out.endsWith("rc=0");
  }

  static final String SSL = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

  @Test
  @Order(1)
  void verifyFullToTheServicesNamesWithTheClustersCaSucceeds() {
    for (String host : List.of(NAME, NAME + "." + NS + ".svc", NAME + "." + NS + ".svc.cluster.local",
        NAME + "-repl." + NS + ".svc")) {
      // a Service that just got its endpoint may not route for a moment
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2))
          .until(() -> succeeded(psql(host, "/ca/ca.crt", SSL)));
      assertThat(psql(host, "/ca/ca.crt", SSL)).as(host).startsWith("t").endsWith("rc=0");
    }
  }

  @Test
  @Order(2)
  void aWrongHostNameOrAForeignCaIsRefused() {
    String podIp = k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME)
        .withLabel("spilo-role", "master").list().getItems().get(0).getStatus().getPodIP();
    assertThat(psql(podIp, "/ca/ca.crt", SSL)).as("the pod's IP is none of the certificate's names")
        .contains("does not match host name").doesNotEndWith("rc=0");
    assertThat(psql(NAME + "." + NS + ".svc", "/foreign/ca.crt", SSL)).as("a CA that did not issue it")
        .contains("certificate verify failed").doesNotEndWith("rc=0");
  }

  /** The serial of the certificate PostgreSQL serves now (openssl's STARTTLS for postgres, from the client pod). */
  static BigInteger servedSerial() {
    String out = k8s.kubectl("-n", NS, "exec", "client", "-c", "client", "--", "bash", "-c",
        "openssl s_client -starttls postgres -connect " + NAME + ":5432 -servername " + NAME + " </dev/null "
            + "2>/dev/null | openssl x509 -noout -serial");
    return new BigInteger(out.strip().replaceFirst("^serial=", ""), 16);
  }

  static String secretKey(String secret, String key) {
    Map<String, String> data = k8s.client().secrets().inNamespace(NS).withName(secret).get().getData();
    return new String(Base64.getDecoder().decode(data.get(key)), StandardCharsets.UTF_8);
  }

  @Test
  @Order(3)
  void aRotationUnderAWriterLosesNothingAndBreaksNoNewConnection() throws Exception {
    BigInteger before = servedSerial();
    String ip = k8s.client().services().inNamespace(NS).withName(NAME).get().getSpec().getClusterIP();
    String password = k8s.superuserPassword(NS, NAME);
    try (SteadyWriter w = SteadyWriter.overSsl(ip, 5432, "postgres", password)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> w.acknowledgedCount() > 50);
      // make the operator issue it again, as an upgrade that adds names would: one from the cluster's CA that names
      // the primary Service only (still valid for what the probe dials: a due one, which must be under 2.5 minutes
      // old, could expire while served); the operator replaces it at its next reconcile (a resync at the latest)
      String caPem = secretKey(NAME + "-pgtide-server-ca", "ca.crt");
      CertificateAuthority ca = CertificateAuthority.load(new TlsMaterial(caPem,
          secretKey(NAME + "-pgtide-server-ca", "ca.key"), caPem));
      String uid = k8s.client().resources(io.pgtide.common.crd.PostgresCluster.class).inNamespace(NS)
          .withName(NAME).get().getMetadata().getUid();
      TlsMaterial due = ca.issueServer(NAME + "." + NS + ".svc", io.pgtide.operator.k8s.model.ServerCertificates
          .dnsNames(NS, NAME).subList(0, 4), List.of(io.pgtide.operator.k8s.model.ClusterCertificates.uidUri(uid)),
          Duration.ofDays(90));
      k8s.client().secrets().inNamespace(NS).withName(NAME + "-server-tls").edit(s -> {
        s.setData(Map.of("tls.crt", b64(due.certPem()), "tls.key", b64(due.keyPem()), "ca.crt", b64(due.caPem())));
        return s;
      });
      // new verify-full connections all along: the kubelet swaps the files atomically, PostgreSQL reloads both
      AtomicInteger refused = new AtomicInteger();
      AtomicInteger tried = new AtomicInteger();
      // the operator within a resync (60 s), the kubelet within about a minute, the sidecar's reload within 10 s
      await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(5)).until(() -> {
        tried.incrementAndGet();
        if (!succeeded(psql(NAME + "." + NS + ".svc", "/ca/ca.crt", "SELECT 1"))) {
          refused.incrementAndGet();
        }
        String served = secretKey(NAME + "-server-tls", "tls.crt");
        BigInteger issued = TlsMaterial.parse(served).getSerialNumber();
        BigInteger now = servedSerial();
        // served: the operator's new one (neither the first nor the due one we planted)
        return issued.equals(now) && !now.equals(before) && !now.equals(due.certificate().getSerialNumber());
      });
      assertThat(refused.get()).as("new verify-full connections refused during the rotation, of " + tried.get())
          .isZero();
      await().atMost(Duration.ofSeconds(30)).until(() -> w.acknowledgedCount() > 100);
      w.stop();
      assertThat(w.lost()).as("acknowledged writes lost").isZero();
    }
    assertThat(k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME).list().getItems())
        .as("no restart").allSatisfy(p -> assertThat(p.getStatus().getContainerStatuses())
            .allSatisfy(c -> assertThat(c.getRestartCount()).isZero()));
  }

  /** The Degraded condition's reason, null while there is none. */
  static String degradedReason() {
    var cr = k8s.client().resources(io.pgtide.common.crd.PostgresCluster.class).inNamespace(NS).withName(NAME).get();
    return cr.getStatus() == null ? null : cr.getStatus().conditions.stream()
        .filter(c -> "Degraded".equals(c.type) && "True".equals(c.status)).map(c -> c.reason).findFirst().orElse(null);
  }

  static void putSecret(String name, TlsMaterial m) {
    k8s.client().secrets().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withNewMetadata().withName(name).withNamespace(NS).endMetadata().withType("kubernetes.io/tls")
        .withData(Map.of("tls.crt", b64(m.certPem()), "tls.key", b64(m.keyPem()), "ca.crt", b64(m.caPem())))
        .build()).serverSideApply();
  }

  /**
   * {@code spec.tls.secretName}, a certificate the user keeps (cert-manager's, say): an unusable one is refused with
   * a Degraded reason and nothing changes; a good one is served after the members roll, clients verify it against
   * {@code <c>-ca} (now the user's CA); its renewal is served without a restart; pgtide never writes the Secret.
   */
  @Test
  @Order(4)
  void aCertificateTheUserKeepsIsCheckedThenServedAndItsRenewalFollowedWithoutARestart() {
    CertificateAuthority userCa = CertificateAuthority.create("user ca", Duration.ofDays(1));
    putSecret("user-cert", userCa.issueServer("db.example.com", List.of("db.example.com"), List.of(),
        Duration.ofDays(30)));
    k8s.kubectl("-n", NS, "patch", "postgrescluster", NAME, "--type=merge", "-p",
        "{\"spec\":{\"tls\":{\"secretName\":\"user-cert\"}}}");
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2))
        .until(() -> "ServerTlsSecretInvalid".equals(degradedReason()));
    assertThat(k8s.argoHealth(NS, NAME)).as("ArgoCD's health of a refused spec").isEqualTo("Degraded");
    assertThat(k8s.client().apps().statefulSets().inNamespace(NS).withName(NAME).get().getSpec().getTemplate()
        .getSpec().getVolumes()).as("the unusable certificate is not mounted")
        .anySatisfy(v -> assertThat(v.getSecret() == null ? null : v.getSecret().getSecretName())
            .isEqualTo(NAME + "-server-tls"));

    TlsMaterial good = userCa.issueServer(NAME + "." + NS + ".svc",
        io.pgtide.operator.k8s.model.ServerCertificates.dnsNames(NS, NAME), List.of(), Duration.ofDays(30));
    putSecret("user-cert", good);
    // the operator at its next retry or resync, then the members roll onto the new volume
    await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(5)).ignoreExceptions()
        .until(() -> servedSerial().equals(good.certificate().getSerialNumber()) && k8s.settledInSync(NS, NAME, 2));
    assertThat(degradedReason()).isNull();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2))
        .until(() -> "Healthy".equals(k8s.argoHealth(NS, NAME)));
    assertThat(k8s.client().configMaps().inNamespace(NS).withName(NAME + "-ca").get().getData().get("ca.crt"))
        .isEqualTo(userCa.caPem());
    // the client's mounted <c>-ca follows within the kubelet's sync
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(5))
        .until(() -> succeeded(psql(NAME + "." + NS + ".svc", "/ca/ca.crt", SSL)));
    assertThat(psql(NAME + "-repl." + NS + ".svc", "/ca/ca.crt", SSL)).as("a replica serves it too")
        .startsWith("t").endsWith("rc=0");

    Map<String, List<Integer>> pods = k8s.podsAndRestarts(NS, "cluster-name", NAME);
    TlsMaterial renewed = userCa.issueServer(NAME + "." + NS + ".svc",
        io.pgtide.operator.k8s.model.ServerCertificates.dnsNames(NS, NAME), List.of(), Duration.ofDays(30));
    putSecret("user-cert", renewed);
    String version = k8s.client().secrets().inNamespace(NS).withName("user-cert").get().getMetadata()
        .getResourceVersion();
    // the kubelet within about a minute, the sidecar's reload within 10 s
    await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(5)).ignoreExceptions()
        .until(() -> servedSerial().equals(renewed.certificate().getSerialNumber()));
    assertThat(succeeded(psql(NAME + "." + NS + ".svc", "/ca/ca.crt", SSL))).isTrue();
    assertThat(k8s.podsAndRestarts(NS, "cluster-name", NAME)).as("a renewal replaces and restarts no pod").isEqualTo(pods);
    var secret = k8s.client().secrets().inNamespace(NS).withName("user-cert").get();
    assertThat(secret.getMetadata().getResourceVersion()).as("pgtide never writes the user's Secret")
        .isEqualTo(version);
    assertThat(secret.getMetadata().getOwnerReferences()).isNullOrEmpty();
  }

  static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
