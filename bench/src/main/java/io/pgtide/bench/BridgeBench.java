package io.pgtide.bench;

import io.pgtide.testkit.TestMachine;
import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.Connections;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.LoadStats;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Resources;
import io.pgtide.common.contract.Role;
import io.pgtide.common.contract.StandbyRow;
import io.pgtide.local.process.JavaCommand;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.hub.BridgeHub;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.sidecar.BridgeClient;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.HdrHistogram.Recorder;

/**
 * N simulated sidecars (real {@link BridgeClient}s with their own certificates, in a second JVM) send a full report
 * at 1 Hz over mutual TLS to one hub in this JVM. Measures reports/s, delivery latency (collectedAt → ClusterState
 * handler), and this (operator) JVM's CPU and heap.
 */
final class BridgeBench {
  static final long WARMUP_MS = 15_000;
  static final long MEASURE_MS = 30_000;

  private BridgeBench() {
  }

  public static void main(String[] args) throws Exception {
    int[] sizes = args.length == 0 ? new int[] {100, 1000, 3000} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    Table table = new Table("Bridge: N sidecars at 1 Hz, mutual TLS, loopback, 2 cores shared by the hub JVM (-Xmx512m) "
        + "and the simulated sidecars' JVM; ping timeout " + Long.getLong("pgtide.bench.pingTimeoutMs", 3_000) + " ms",
        "sidecars", "reports/s", "p50 ms", "p99 ms", "max ms", "operator CPU %", "heap after GC MB",
        "reconnects", "rejected");
    for (int n : sizes) {
      table.row(run(n));
    }
    table.print("bridge");
  }

  static Object[] run(int n) throws Exception {
    Path dir = Files.createTempDirectory("pgtide-bridge-bench");
    CertificateAuthority ca = CertificateAuthority.create("bench-ca", Duration.ofDays(1));
    ca.caMaterial().write(dir.resolve("ca"));
    TlsMaterial hubTls = ca.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1));
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    int port = TestMachine.freePort();
    ClusterState state = new ClusterState(3_000);
    Recorder latency = new Recorder(3);
    AtomicLong delivered = new AtomicLong();
    AtomicLong connects = new AtomicLong();
    state.onDelivery(ms -> {
      latency.recordValue(Math.max(0, ms));
      delivered.incrementAndGet();
    });
    vertx.deployVerticle(state).await();
    vertx.eventBus().<JsonObject>consumer(Addresses.MEMBER_EVENTS, m -> {
      if ("member-connected".equals(m.body().getString("event"))) {
        connects.incrementAndGet();
      }
    });
    BridgeHub hub = new BridgeHub(hubTls, "127.0.0.1", port, Long.getLong("pgtide.bench.pingTimeoutMs", 3_000));
    vertx.deployVerticle(hub).await();
    // loaded before the measurement: JMX's class loading would otherwise stall its first seconds
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    os.getProcessCpuTime();
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();

    ManagedProcess clients = TestMachine.get().start("bridge-clients", JavaCommand.of(clientJvmFlags(),
        BenchMain.class.getName(), "bridge-clients", Integer.toString(n), Integer.toString(port),
        dir.resolve("ca").toString()), Map.of(), dir, dir.resolve("clients.log"));
    try {
      // every simulated sidecar connected (they ramp up at 100 a second, as pods start), then JIT and GC settle
      long deadline = System.nanoTime() + Duration.ofSeconds(60 + n / 20).toNanos();
      while (hub.connections() < n) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only " + hub.connections() + " of " + n + " sidecars connected");
        }
        Thread.sleep(500);
      }
      Thread.sleep(WARMUP_MS);
      latency.getIntervalHistogram();
      long d0 = delivered.get();
      long c0 = connects.get();
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      Thread.sleep(MEASURE_MS);
      long cpu1 = os.getProcessCpuTime();
      long t1 = System.nanoTime();
      var h = latency.getIntervalHistogram();
      double rate = (delivered.get() - d0) / ((t1 - t0) / 1e9);
      long reconnects = connects.get() - c0;
      System.gc();
      double heapMb = mem.getHeapMemoryUsage().getUsed() / 1e6;
      double cpuPct = 100.0 * (cpu1 - cpu0) / (t1 - t0);
      return new Object[] {n, rate, (double) h.getValueAtPercentile(50), (double) h.getValueAtPercentile(99),
          (double) h.getMaxValue(), cpuPct, heapMb, reconnects, hub.rejected()};
    } finally {
      clients.stop(Duration.ofSeconds(10));
      vertx.close().await();
    }
  }

  private static List<String> clientJvmFlags() {
    List<String> flags = new ArrayList<>(List.of("-Xmx1g"));
    String extra = System.getProperty("pgtide.bench.clientJvm", "");
    if (!extra.isBlank()) {
      flags.addAll(Arrays.asList(extra.trim().split("\\s+")));
    }
    return flags;
  }

  /**
   * The client side, in its own JVM: n BridgeClients, each reporting once a second, staggered over the second.
   * Certificates are issued up front (in parallel), so the ramp measures connections, not the bench's own CA.
   */
  static void clients(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    int port = Integer.parseInt(args[1]);
    CertificateAuthority ca = CertificateAuthority.load(TlsMaterial.read(Path.of(args[2])));
    List<MemberId> ids = IntStream.range(0, n)
        .mapToObj(i -> new MemberId("bench", "c" + (i / 3), "c" + (i / 3) + "-" + (i % 3))).toList();
    List<TlsMaterial> certificates = ids.parallelStream()
        .map(id -> ca.issue(id.toString(), List.of(), Duration.ofDays(1))).toList();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    for (int i = 0; i < n; i++) {
      MemberId id = ids.get(i);
      long[] seq = {0};
      BridgeClient client = new BridgeClient(vertx, id, "127.0.0.1", port, certificates.get(i), () -> null,
          (cmd, reply) -> { });
      client.start();
      vertx.setPeriodic(1 + (i * 1000L / n), 1000, t -> client.send(ContractCodec.encode(report(id, ++seq[0]))));
      if (i % 100 == 99) {
        Thread.sleep(1000); // ramp up: 100 TLS handshakes a second, as pods start
      }
    }
    Thread.currentThread().join();
  }

  static InstanceReport report(MemberId id, long seq) {
    boolean primary = id.member().endsWith("-0");
    return new InstanceReport(id, ContractCodec.SCHEMA_VERSION, "bench", seq, System.currentTimeMillis(),
        primary ? Role.PRIMARY : Role.REPLICA, primary ? "master" : "replica", "running", null, false, false, 1L,
        primary ? 123456789L : null, primary ? null : 123456000L, primary ? null : 123455000L, 1000L, 0.2,
        primary ? null : "streaming",
        primary ? List.of(new StandbyRow(id.cluster() + "-1", "streaming", "async", 0.5, 0.6, 0.7, 789),
            new StandbyRow(id.cluster() + "-2", "streaming", "async", 0.5, 0.6, 0.7, 789)) : List.of(),
        new LoadStats(512.3, 100.2, 1.7, "pg_stat_statements", 0, 0, 0.998), new Connections(5, 10, 1, 16, 200),
        new Resources(0.42, 2.0, 512_000_000L, 1_073_741_824L), true, null);
  }
}
