package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's sealed-password workflow (issue #31) with the real Sealed Secrets: its controller (built from its
 * module, scripts/k8s/build-binaries.sh) installed with its project's Helm chart, and {@code kubeseal} fetching the
 * controller's certificate through the API server. A password sealed from a Secret that exists only in a pipe is
 * applied as a SealedSecret; the controller unseals it into the Secret a declared user's {@code passwordSecret}
 * names; the operator sets it; the user logs in with it. Sealing a new password over it rotates it: the new one logs
 * in, the old one no longer does.
 */
class SealedSecretsK8sE2E {
  static final String NS = "e2e-sealed";
  static final String CONTROLLER_NS = "e2e-sealed-system";
  static final String NAME = "vault";
  static final String RELEASE = "sealed-secrets";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();

  /** A shell command in the repository, with lib.sh's settings ($K8S_STATE, $SEALED_SECRETS_DIR, $K8S_BIN). */
  static String sh(String script, String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", "-c", "cd \"$0\" && . scripts/k8s/lib.sh && " + script,
        k8s.repo().toString()));
    cmd.addAll(List.of(args));
    return RealKubernetes.run(cmd, Duration.ofMinutes(10), null);
  }

  static final String HELM = "\"$(bash scripts/helm.sh)\" --kubeconfig \"$K8S_STATE/admin.kubeconfig\" ";

  @BeforeAll
  static void install() {
    k8s.freshNamespace(NS);
    k8s.kubectl("delete", "namespace", CONTROLLER_NS, "--ignore-not-found", "--wait=true", "--timeout=180s");
    k8s.kubectl("create", "namespace", CONTROLLER_NS);
    k8s.kubectl("label", "namespace", CONTROLLER_NS, "pod-security.kubernetes.io/enforce=restricted");
    sh(HELM + "install " + RELEASE + " \"$SEALED_SECRETS_DIR/chart\" -n " + CONTROLLER_NS
        + " --set fullnameOverride=sealed-secrets-controller --set image.registry=localhost"
        + " --set image.repository=pgtide/sealed-secrets-controller --set image.tag=\"$SEALED_SECRETS_VERSION\""
        + " --set image.pullPolicy=Never --wait --timeout 5m");
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi}
          users:
            - {name: app, login: true, passwordSecret: {name: app-pw}}
        """.formatted(NAME, NS));
  }

  @AfterAll
  static void uninstall() {
    try {
      k8s.dropNamespace(NS);
    } finally {
      sh(HELM + "uninstall " + RELEASE + " -n " + CONTROLLER_NS + " --ignore-not-found --wait");
      k8s.kubectl("delete", "crd", "sealedsecrets.bitnami.com", "--ignore-not-found");
      k8s.dropNamespace(CONTROLLER_NS);
    }
  }

  /** kubeseal's output for a Secret {@code app-pw} holding {@code password}: the plaintext exists only in the pipe. */
  static String seal(String password) {
    return sh("\"$K8S_BIN/kubectl\" --kubeconfig \"$K8S_STATE/admin.kubeconfig\" create secret generic app-pw -n "
        + NS + " --from-literal=password=\"$1\" --dry-run=client -o yaml | \"$SEALED_SECRETS_DIR/bin/kubeseal\""
        + " --kubeconfig \"$K8S_STATE/admin.kubeconfig\" --controller-namespace " + CONTROLLER_NS
        + " --controller-name sealed-secrets-controller --format yaml", password);
  }

  static String secretPassword() {
    var s = k8s.client().secrets().inNamespace(NS).withName("app-pw").get();
    return s == null || s.getData() == null ? null
        : new String(Base64.getDecoder().decode(s.getData().get("password")), StandardCharsets.UTF_8);
  }

  static boolean logsIn(String password) {
    try {
      return "app".equals(ServiceSql.of(k8s, NS, NAME, "app", password).query("SELECT current_user"));
    } catch (IllegalStateException e) {
      return false;
    }
  }

  static void applyFile(String yaml) {
    try {
      Path f = Files.createTempFile("sealed-", ".yaml");
      Files.writeString(f, yaml);
      k8s.kubectl("apply", "-f", f.toString());
      Files.delete(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aSealedPasswordReachesALoginAndSealingANewOneRotatesIt() {
    String first = "first-" + Long.toHexString(System.nanoTime());
    String sealed = seal(first);
    assertThat(sealed).contains("kind: SealedSecret").contains("encryptedData").doesNotContain(first)
        .doesNotContain(Base64.getEncoder().encodeToString(first.getBytes(StandardCharsets.UTF_8)));
    applyFile(sealed);
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2))
        .until(() -> first.equals(secretPassword()));
    await().atMost(Duration.ofSeconds(420)).pollInterval(Duration.ofSeconds(3))
        .until(() -> "True".equals(k8s.condition(NS, NAME, "Ready")));
    // the operator's user sync sets it once the Secret is there
    await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(3)).until(() -> logsIn(first));

    String second = "second-" + Long.toHexString(System.nanoTime());
    applyFile(seal(second));
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2))
        .until(() -> second.equals(secretPassword()));
    await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(3)).until(() -> logsIn(second));
    assertThat(org.assertj.core.api.Assertions.catchThrowable(
        () -> ServiceSql.of(k8s, NS, NAME, "app", first).query("SELECT 1")))
        .as("the old password after the rotation").hasMessageContaining("password authentication failed");
  }
}
