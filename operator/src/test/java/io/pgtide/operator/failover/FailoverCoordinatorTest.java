package io.pgtide.operator.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgtide.common.contract.Acceptance;
import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.metrics.OperatorMetrics;
import io.pgtide.operator.state.ClusterState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The coordinator's bookkeeping across clusters and incidents, on reports fed straight into the state. */
class FailoverCoordinatorTest {
  Vertx vertx;
  ClusterState state;
  SimpleMeterRegistry registry;
  FailoverCoordinator coordinator;
  final List<String> fenced = new CopyOnWriteArrayList<>();
  final java.util.Set<String> dead = java.util.concurrent.ConcurrentHashMap.newKeySet();
  final java.util.Set<String> released = java.util.concurrent.ConcurrentHashMap.newKeySet();
  final List<JsonObject> events = new CopyOnWriteArrayList<>();
  final Map<String, Long> seq = new HashMap<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    state = new ClusterState(60_000);
    vertx.deployVerticle(state).await();
    vertx.eventBus().<JsonObject>consumer(Addresses.CLUSTER_EVENTS, m -> events.add(m.body()));
    registry = new SimpleMeterRegistry();
    coordinator = new FailoverCoordinator(vertx, state, new RecordingInfrastructure(), new CommandClient(vertx),
        new OperatorMetrics(registry), new ClusterEvents(vertx));
    coordinator.start();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  void report(String cluster, String member, Role role, boolean healthy) {
    MemberId id = new MemberId("shop", cluster, member);
    long n = seq.merge(id.toString(), 1L, Long::sum);
    state.accept(ContractCodec.encode(TestReports.report(id, role, n, 1000, healthy)));
  }

  long events(String reason) {
    return events.stream().filter(e -> reason.equals(e.getString("reason"))).count();
  }

  double counter(String name, String cluster) {
    var c = registry.find(name).tag("cluster", cluster).counter();
    return c == null ? 0 : c.count();
  }

  void failOver(String cluster) {
    report(cluster, cluster + "-0", Role.PRIMARY, false); // the primary is no longer live: an incident opens
    report(cluster, cluster + "-1", Role.PRIMARY, true);  // Patroni promoted the replica
    report(cluster, cluster + "-0", Role.REPLICA, true);
  }

  @Test
  void anIncidentKeptByThePreviousOperatorIsResumedAndRecordedOnce(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path dir) throws Exception {
    coordinator.stop();
    var store = new FileIncidentStore(vertx, dir.resolve("failover.json"));
    long started = System.currentTimeMillis() - 5_000;
    // the operator before kept it, announced, and died before a new primary appeared
    store.save("shop/k", new IncidentIntent("k-0@" + started, "k-0", "failover", "announced", started,
        "sidecar disconnected"), null).await();
    var next = new FailoverCoordinator(vertx, state, new RecordingInfrastructure(), new CommandClient(vertx),
        new OperatorMetrics(registry), new ClusterEvents(vertx));
    next.persistTo(store);
    next.start();

    report("k", "k-1", Role.PRIMARY, true); // Patroni promoted k-1 while no operator led
    report("k", "k-0", Role.REPLICA, true);
    await().atMost(Duration.ofSeconds(5)).until(() -> events("FailoverCompleted") == 1);
    assertThat(events("IncidentResumed")).isEqualTo(1);
    assertThat(events("PrimaryLost")).as("announced by the operator before").isZero();
    FailoverRecord record = next.lastFailover("shop/k").orElseThrow();
    assertThat(record.from()).isEqualTo("k-0");
    assertThat(record.to()).isEqualTo("k-1");
    assertThat(record.detectedAt()).isEqualTo(started);
    await().atMost(Duration.ofSeconds(5)).until(() -> store.load("shop/k").await() == null);
    JsonObject kept = new JsonObject(java.nio.file.Files.readString(dir.resolve("failover.json")))
        .getJsonObject("shop/k");
    assertThat(kept.getJsonObject("lastFailover").getString("to")).isEqualTo("k-1");

    // reports go on: nothing is recorded again, and an operator after this one finds nothing to resume
    report("k", "k-1", Role.PRIMARY, true);
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
        .until(() -> events("FailoverCompleted") == 1);
    next.stop();
  }

  @Test
  void eachClusterRunsItsOwnHookAfterItsOwnFailover() {
    AtomicInteger a = new AtomicInteger();
    AtomicInteger b = new AtomicInteger();
    coordinator.afterFailover("shop/a", a::incrementAndGet);
    coordinator.afterFailover("shop/b", b::incrementAndGet);
    for (String c : List.of("a", "b")) {
      report(c, c + "-0", Role.PRIMARY, true);
      report(c, c + "-1", Role.REPLICA, true);
    }

    failOver("a");
    await().atMost(Duration.ofSeconds(5)).until(() -> coordinator.lastFailover("shop/a").isPresent());
    assertThat(a).hasValue(1);
    assertThat(b).hasValue(0);

    failOver("b");
    await().atMost(Duration.ofSeconds(5)).until(() -> coordinator.lastFailover("shop/b").isPresent());
    assertThat(a).hasValue(1);
    assertThat(b).hasValue(1);

    // a deleted cluster's hook goes with it
    coordinator.forget("shop/a");
    report("a", "a-0", Role.REPLICA, true);
    report("a", "a-1", Role.PRIMARY, true);
    report("a", "a-1", Role.PRIMARY, false);
    report("a", "a-0", Role.PRIMARY, true);
    await().atMost(Duration.ofSeconds(5)).until(() -> coordinator.lastFailover("shop/a").isPresent());
    assertThat(a).hasValue(1);
  }

  @Test
  void aSplitViewIsOneIncidentHoweverLongItLasts() {
    report("b", "b-0", Role.PRIMARY, true);
    report("b", "b-1", Role.PRIMARY, true);
    for (int i = 0; i < 20; i++) { // every report is an evaluation, and the 250 ms timer adds more
      report("b", "b-" + (i % 2), Role.PRIMARY, true);
    }
    report("b", "b-1", Role.REPLICA, true);
    await().atMost(Duration.ofSeconds(5)).until(() -> events("SplitViewResolved") == 1);
    // the second split is a second incident; events arrive in order, so the first one's repeats would be here
    report("b", "b-1", Role.PRIMARY, true);
    await().atMost(Duration.ofSeconds(5)).until(() -> events("SplitView") == 2);
    report("b", "b-0", Role.PRIMARY, true);
    report("b", "b-1", Role.REPLICA, true);
    await().atMost(Duration.ofSeconds(5)).until(() -> events("SplitViewResolved") == 2);
    assertThat(events("SplitView")).isEqualTo(2);
    assertThat(counter("pgtide_split_view", "b")).isEqualTo(2.0);
  }

  void report(String cluster, String member, Role role, boolean healthy, Acceptance acceptance) {
    MemberId id = new MemberId("shop", cluster, member);
    long n = seq.merge(id.toString(), 1L, Long::sum);
    state.accept(ContractCodec.encode(TestReports.report(id, role, n, 1000, healthy, null, false, acceptance)));
  }

  @Test
  void aPrimaryThatIsDownOrInCrashRecoveryIsLeftToPatroniAndOnlyAFrozenOneIsFenced() {
    coordinator.policy("shop/r", new FailoverCoordinator.ClusterPolicy(0, 33_554_432, false));
    report("r", "r-0", Role.PRIMARY, true, Acceptance.ACCEPTING);
    report("r", "r-1", Role.REPLICA, true, Acceptance.ACCEPTING);
    // postmaster SIGKILLed: nothing listens, then Patroni restarts it into crash recovery (logins refused, 57P03)
    for (int i = 0; i < 10; i++) {
      report("r", "r-0", Role.PRIMARY, false, i < 5 ? Acceptance.REFUSED : Acceptance.STARTING_UP);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> events("PrimaryRestarting") == 1);
    assertThat(coordinator.incidentOpen("shop/r")).isTrue();
    report("r", "r-0", Role.PRIMARY, true, Acceptance.ACCEPTING); // recovered: no failover
    await().atMost(Duration.ofSeconds(5)).until(() -> !coordinator.incidentOpen("shop/r"));
    assertThat(fenced).isEmpty();
    assertThat(events("FencingZombie")).isZero();
    assertThat(coordinator.lastFailover("shop/r")).isEmpty();

    // the same member frozen (SIGSTOP): taken connections never answered
    report("r", "r-0", Role.PRIMARY, false, Acceptance.HUNG);
    await().atMost(Duration.ofSeconds(5)).until(() -> fenced.size() == 1);
    assertThat(fenced).containsExactly("shop/r/r-0");
  }

  @Test
  void aZombieIsFencedOnlyOnceItHasBeenFrozenForTheWholeDelay() {
    coordinator.policy("shop/y", new FailoverCoordinator.ClusterPolicy(4_000, 33_554_432, false));
    report("y", "y-0", Role.PRIMARY, true, Acceptance.ACCEPTING);
    report("y", "y-1", Role.REPLICA, true, Acceptance.ACCEPTING);
    long start = System.currentTimeMillis();
    report("y", "y-0", Role.PRIMARY, false, Acceptance.REFUSED);
    // restarting slowly: one probe goes unanswered, the next one is refused again; the clock starts over each time
    long until = start + 6_000; // 1.5 delays; each unanswered spell lasts a tenth of one
    while (System.currentTimeMillis() < until) {
      report("y", "y-0", Role.PRIMARY, false, Acceptance.HUNG);
      await().pollDelay(Duration.ofMillis(400)).atMost(Duration.ofSeconds(1)).until(() -> true); // pacing
      report("y", "y-0", Role.PRIMARY, false, Acceptance.STARTING_UP);
      await().pollDelay(Duration.ofMillis(100)).atMost(Duration.ofSeconds(1)).until(() -> true);
    }
    assertThat(fenced).isEmpty();
    long frozenAt = System.currentTimeMillis();
    report("y", "y-0", Role.PRIMARY, false, Acceptance.HUNG);
    await().atMost(Duration.ofSeconds(10)).until(() -> fenced.size() == 1);
    assertThat(System.currentTimeMillis() - frozenAt).isGreaterThanOrEqualTo(3_900);
  }

  @Test
  void aZombieIsNotFencedWhileNoReplicaCouldReplaceIt() {
    coordinator.policy("shop/z", new FailoverCoordinator.ClusterPolicy(0, 33_554_432, false));
    report("z", "z-0", Role.PRIMARY, true);
    report("z", "z-1", Role.REPLICA, false);
    report("z", "z-0", Role.PRIMARY, false); // a zombie: fresh, connected, still primary, not accepting connections
    for (int i = 0; i < 10; i++) {
      report("z", "z-0", Role.PRIMARY, false);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> events("FenceWithheld") == 1);
    assertThat(fenced).isEmpty();

    report("z", "z-1", Role.REPLICA, true); // now a replica qualifies
    await().atMost(Duration.ofSeconds(5)).until(() -> fenced.size() == 1);
    assertThat(fenced).containsExactly("shop/z/z-0");
    assertThat(events("FencingZombie")).isEqualTo(1);
    assertThat(events("FenceWithheld")).isEqualTo(1);
  }

  @Test
  void aLostPrimaryConfirmedDeadHasItsLockReleasedOnceAndAnUnconfirmedOneWaitsForPatroni() {
    for (String c : List.of("d", "e")) {
      report(c, c + "-0", Role.PRIMARY, true);
      report(c, c + "-1", Role.REPLICA, true);
    }
    dead.add("shop/d/d-0");
    report("d", "d-0", Role.PRIMARY, false);
    report("e", "e-0", Role.PRIMARY, false);
    await().atMost(Duration.ofSeconds(5)).until(() -> events("LeaderLockReleased") == 1);
    assertThat(released).containsExactly("shop/d/d-0");
    failOver("d");
    failOver("e");
    await().atMost(Duration.ofSeconds(5)).until(() -> coordinator.lastFailover("shop/e").isPresent()
        && coordinator.lastFailover("shop/d").isPresent());
    assertThat(coordinator.lastFailover("shop/d").orElseThrow().kind()).isEqualTo("confirmed-dead");
    assertThat(coordinator.lastFailover("shop/e").orElseThrow().kind()).isEqualTo("failover");
    assertThat(events("LeaderLockReleased")).isEqualTo(1);
  }

  @Test
  void aBlipIsNotAnIncidentButALossThatLastsIsOne() {
    report("f", "f-0", Role.PRIMARY, true);
    report("f", "f-1", Role.REPLICA, true);
    report("f", "f-0", Role.PRIMARY, false); // one failed probe ...
    report("f", "f-0", Role.PRIMARY, true);  // ... and back at the next report
    assertThat(coordinator.incidentOpen("shop/f")).isFalse();
    report("f", "f-0", Role.PRIMARY, false);
    await().atMost(Duration.ofSeconds(5)).until(() -> events("PrimaryLost") == 1);
    report("f", "f-0", Role.PRIMARY, true);
    await().atMost(Duration.ofSeconds(5)).until(() -> !coordinator.incidentOpen("shop/r"));
    assertThat(events("PrimaryLost")).isEqualTo(1);
    assertThat(counter("pgtide_primary_lost", "f")).isEqualTo(1.0);
  }

  private final class RecordingInfrastructure extends io.pgtide.operator.IdleInfrastructure {
    @Override
    public Future<Void> fence(String clusterKey, String member) {
      fenced.add(clusterKey + "/" + member);
      return Future.succeededFuture();
    }

    @Override
    public Future<Boolean> releaseIfDead(String clusterKey, String member) {
      return Future.succeededFuture(dead.contains(clusterKey + "/" + member) && released.add(clusterKey + "/" + member));
    }
  }
}
