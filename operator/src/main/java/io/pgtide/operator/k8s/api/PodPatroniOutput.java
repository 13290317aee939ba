package io.pgtide.operator.k8s.api;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.operator.logs.PatroniOutput;
import java.time.Instant;

/**
 * Patroni's output of a Spilo member from the kubelet, through the API server ({@code pods/log} of the
 * {@code postgres} container, RBAC {@code get} on {@code pods/log}): at most the last {@link #TAIL_LINES} lines and
 * {@link #LIMIT_BYTES}, from a second before {@code sinceMs} (the API's times are whole seconds).
 */
public final class PodPatroniOutput implements PatroniOutput {
  static final int TAIL_LINES = 2_000;
  static final int LIMIT_BYTES = 1 << 20;
  private final KubernetesClient client;

  public PodPatroniOutput(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public String read(String namespace, String member, long sinceMs) {
    var log = client.pods().inNamespace(namespace).withName(member).inContainer("postgres").usingTimestamps()
        .limitBytes(LIMIT_BYTES);
    return (sinceMs > 0 ? log.sinceTime(Instant.ofEpochMilli(sinceMs / 1000 * 1000).toString()) : log)
        .tailingLines(TAIL_LINES).getLog();
  }
}
