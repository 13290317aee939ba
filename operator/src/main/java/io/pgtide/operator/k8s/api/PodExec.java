package io.pgtide.operator.k8s.api;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A short shell script in a member's Spilo container ({@code pods/exec}, RBAC {@code create}): how the operator
 * launches Spilo's own major-upgrade script and follows it. Blocking; call it through {@link Blocking}. Never given
 * a password: the scripts read what they need inside the pod.
 */
public final class PodExec {
  /** What the script printed and how it exited. */
  public record Result(int exitCode, String out, String err) {
    public boolean ok() {
      return exitCode == 0;
    }
  }

  private final KubernetesClient client;

  public PodExec(KubernetesClient client) {
    this.client = client;
  }

  /** Runs {@code sh -c script} in container {@code postgres} of pod {@code ns/pod}, waiting at most {@code timeout}. */
  public Result sh(String ns, String pod, String script, Duration timeout) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ExecWatch watch = client.pods().inNamespace(ns).withName(pod).inContainer("postgres")
        .writingOutput(out).writingError(err).exec("sh", "-c", script)) {
      Integer code = watch.exitCode().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return new Result(code == null ? -1 : code, out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running a script in " + ns + "/" + pod, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("a script in " + ns + "/" + pod + " did not finish within "
          + timeout.toSeconds() + " s: " + e, e);
    }
  }
}
