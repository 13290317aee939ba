package io.pgtide.operator.metrics;

import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.cluster.ClusterKey;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes each cluster's series to its Prometheus Pushgateway (grouping key namespace + cluster), every interval.
 * A failed push is counted and retried with backoff; it never blocks a controller. The group is deleted when the
 * cluster is.
 */
public final class PushgatewayPusher {
  private static final Logger LOG = LoggerFactory.getLogger(PushgatewayPusher.class);
  private final Vertx vertx;
  private final WebClient http;
  private final ClusterState state;
  private final FailoverCoordinator failover;
  private final Map<String, Long> timers = new ConcurrentHashMap<>();
  private final AtomicLong pushes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();

  public PushgatewayPusher(Vertx vertx, WebClient http, ClusterState state, FailoverCoordinator failover) {
    this.vertx = vertx;
    this.http = http;
    this.state = state;
    this.failover = failover;
  }

  public long pushes() {
    return pushes.get();
  }

  public long failures() {
    return failures.get();
  }

  public void start(String clusterKey, String url, long intervalMs) {
    stopTimer(clusterKey);
    timers.put(clusterKey, vertx.setPeriodic(0, intervalMs, t -> push(clusterKey, url, 0)));
  }

  /** Stops pushing and deletes the cluster's group from the Pushgateway. */
  public Future<Void> delete(String clusterKey, String url) {
    stopTimer(clusterKey);
    return http.deleteAbs(groupUrl(url, clusterKey)).timeout(5_000).send().mapEmpty();
  }

  private void stopTimer(String clusterKey) {
    Long timer = timers.remove(clusterKey);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
  }

  private void push(String clusterKey, String url, int attempt) {
    if (!timers.containsKey(clusterKey)) {
      return;
    }
    http.putAbs(groupUrl(url, clusterKey)).timeout(5_000).putHeader("Content-Type", "text/plain; version=0.0.4")
        .sendBuffer(Buffer.buffer(exposition(state.view(clusterKey))))
        .onSuccess(r -> {
          if (r.statusCode() / 100 == 2) {
            pushes.incrementAndGet();
          } else {
            retry(clusterKey, url, attempt, "HTTP " + r.statusCode() + ": " + r.bodyAsString());
          }
        })
        .onFailure(e -> retry(clusterKey, url, attempt, e.getMessage()));
  }

  private void retry(String clusterKey, String url, int attempt, String why) {
    failures.incrementAndGet();
    if (attempt >= 3) {
      ClusterLog.of(LOG, clusterKey).warn("push to Pushgateway failed {} times, last: {}; next interval will try again",
          attempt + 1, why);
      return;
    }
    vertx.setTimer(500L << attempt, t -> push(clusterKey, url, attempt + 1));
  }

  static String groupUrl(String base, String clusterKey) {
    ClusterKey key = ClusterKey.parse(clusterKey);
    return base.replaceAll("/+$", "") + "/metrics/job/pgtide/namespace/" + enc(key.namespace()) + "/cluster/"
        + enc(key.name());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The cluster-level series in the Prometheus text format. */
  String exposition(ClusterView view) {
    StringBuilder sb = new StringBuilder();
    sb.append("# TYPE pgtide_cluster_members gauge\npgtide_cluster_members ").append(view.members().size()).append('\n');
    sb.append("# TYPE pgtide_cluster_primary_present gauge\npgtide_cluster_primary_present ")
        .append(view.primary().isPresent() ? 1 : 0).append('\n');
    sb.append("# TYPE pgtide_cluster_healthy_replicas gauge\npgtide_cluster_healthy_replicas ")
        .append(view.healthyReplicas().size()).append('\n');
    sb.append("# TYPE pgtide_cluster_qps gauge\npgtide_cluster_qps ").append(String.format(Locale.ROOT, "%.3f",
        view.members().values().stream().filter(m -> m.report() != null).mapToDouble(m -> m.report().load().qps())
            .sum())).append('\n');
    sb.append("# TYPE pgtide_member_lag_bytes gauge\n");
    for (MemberView m : view.members().values()) {
      Long lag = view.lagBytes(m.id().member());
      if (lag != null) {
        sb.append("pgtide_member_lag_bytes{member=\"").append(m.id().member()).append("\"} ").append(lag).append('\n');
      }
    }
    // absent until the cluster's first failover, never NaN
    failover.lastFailover(view.key()).ifPresent(r -> sb.append(
        "# TYPE pgtide_last_failover_duration_seconds gauge\npgtide_last_failover_duration_seconds ")
        .append(String.format(Locale.ROOT, "%.3f", r.durationMs() / 1000.0)).append('\n'));
    return sb.toString();
  }
}
