package io.pgtide.operator.state;

import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.ContractException;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's in-memory view of every cluster, fed only by the report stream and connection events. Keeps the
 * latest report per member (full snapshots: nothing to merge) and tells listeners of every change.
 */
public final class ClusterState extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterState.class);

  private final long staleAfterMs;
  private final Map<String, Map<String, MemberView>> clusters = new ConcurrentHashMap<>();
  private final Map<MemberId, String> forgottenSessions = new ConcurrentHashMap<>();
  /**
   * Members whose sidecar (re)connected and has not reported on that connection yet. A sequence number orders the
   * reports of one connection only: the first report of a new connection is taken whatever its number, so a report
   * with a huge one (forged, or from an earlier connection) cannot make the sidecar's later reports look old.
   */
  private final java.util.Set<MemberId> newConnections = ConcurrentHashMap.newKeySet();
  private final List<BiConsumer<String, MemberView>> listeners = new ArrayList<>();
  private final List<java.util.function.LongConsumer> deliveryObservers = new ArrayList<>();

  public ClusterState(long staleAfterMs) {
    this.staleAfterMs = staleAfterMs;
  }

  @Override
  public Future<?> start() {
    io.pgtide.operator.hub.ReportCodec.register(vertx);
    vertx.eventBus().<InstanceReport>consumer(Addresses.REPORTS_DECODED, msg -> onReport(msg.body()));
    vertx.eventBus().<JsonObject>consumer(Addresses.MEMBER_EVENTS, msg -> onMemberEvent(msg.body()));
    return Future.succeededFuture();
  }

  /** Called on the event loop for every change of a member (report or connection). */
  public void onChange(BiConsumer<String, MemberView> listener) {
    listeners.add(listener);
  }

  /** Observes the delay from collectedAt to this handler, in milliseconds (benchmarks and metrics). */
  public void onDelivery(java.util.function.LongConsumer observer) {
    deliveryObservers.add(observer);
  }

  public long staleAfterMs() {
    return staleAfterMs;
  }

  public List<String> clusterKeys() {
    return List.copyOf(clusters.keySet());
  }

  public ClusterView view(String clusterKey) {
    return new ClusterView(clusterKey, clusters.getOrDefault(clusterKey, Map.of()), System.currentTimeMillis(),
        staleAfterMs);
  }

  /**
   * Forgets a member that was removed on purpose (scale-down), so it is not reported as lost. Its sidecar may still
   * report while its pod stops (a grace period of minutes): reports of that sidecar session are ignored from now
   * on, so they cannot bring it back as a member that never becomes ready; a new session (the member created again
   * by a later scale-up) is a member again.
   */
  public void forget(MemberId id) {
    Map<String, MemberView> members = clusters.get(id.clusterKey());
    if (members != null) {
      newConnections.remove(id);
      MemberView gone = members.remove(id.member());
      if (gone != null && gone.report() != null) {
        forgottenSessions.put(id, gone.report().sessionId());
      }
    }
  }

  /** Forgets a deleted cluster. */
  public void forgetCluster(String clusterKey) {
    clusters.remove(clusterKey);
    newConnections.removeIf(id -> id.clusterKey().equals(clusterKey));
  }

  /** Feeds a report that did not come through the hub (tests, tools): checked and decoded like the hub does. */
  public void accept(JsonObject json) {
    try {
      onReport(ContractCodec.decodeReport(json));
    } catch (ContractException e) {
      LOG.warn("dropped a report: {}", e.getMessage());
    }
  }

  private void onReport(InstanceReport report) {
    long now = System.currentTimeMillis();
    for (var o : deliveryObservers) {
      o.accept(now - report.collectedAt());
    }
    String forgotten = forgottenSessions.get(report.id());
    if (forgotten != null) {
      if (forgotten.equals(report.sessionId())) {
        return; // the last words of a member removed on purpose
      }
      forgottenSessions.remove(report.id());
    }
    Map<String, MemberView> members = clusters.computeIfAbsent(report.id().clusterKey(), k -> new ConcurrentHashMap<>());
    MemberView before = members.get(report.id().member());
    boolean firstOnConnection = newConnections.remove(report.id());
    if (!firstOnConnection && before != null && before.report() != null
        && before.report().sessionId().equals(report.sessionId()) && before.report().seq() >= report.seq()) {
      return; // an older report of the same session arrived late
    }
    MemberView now1 = (before == null ? new MemberView(report.id(), null, 0, true) : before).withReport(report, now);
    members.put(report.id().member(), now1);
    listeners.forEach(l -> l.accept(report.id().clusterKey(), now1));
  }

  private void onMemberEvent(JsonObject event) {
    MemberId id;
    try {
      id = MemberId.parse(event.getString("member"));
    } catch (IllegalArgumentException e) {
      return;
    }
    Map<String, MemberView> members = clusters.computeIfAbsent(id.clusterKey(), k -> new ConcurrentHashMap<>());
    MemberView before = members.get(id.member());
    MemberView after;
    if ("member-disconnected".equals(event.getString("event"))) {
      if (before == null) {
        return;
      }
      after = before.disconnected();
      ClusterLog.of(LOG, id.clusterKey()).warn("sidecar of {} disconnected", id.member());
    } else {
      newConnections.add(id);
      after = before == null ? new MemberView(id, null, 0, true)
          : new MemberView(id, before.report(), before.receivedAt(), true);
    }
    members.put(id.member(), after);
    listeners.forEach(l -> l.accept(id.clusterKey(), after));
  }

  public static JsonObject toJson(ClusterView view) {
    JsonArray members = new JsonArray();
    view.members().values().forEach(m -> {
      JsonObject j = new JsonObject().put("member", m.id().member()).put("connected", m.connected())
          .put("stale", m.stale(view.at(), view.staleAfterMs())).put("receivedAt", m.receivedAt())
          .put("lagBytes", view.lagBytes(m.id().member()));
      if (m.report() != null) {
        // the sidecar's session identifier stays inside the operator: it is no reader's business
        JsonObject report = ContractCodec.encode(m.report());
        report.remove("sessionId");
        j.put("report", report);
      }
      members.add(j);
    });
    return new JsonObject().put("cluster", view.key()).put("at", view.at())
        .put("primary", view.primary().map(p -> p.id().member()).orElse(null))
        .put("splitView", view.splitView()).put("members", members);
  }
}
