package io.pgtide.sidecar;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.metrics.MeteredVertx;
import io.pgtide.sidecar.users.UserSync;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/** {@code java -jar pgtide-sidecar.jar}: configured by environment variables (see the README). */
public final class SidecarMain {
  /**
   * The JVM flags the sidecar is sized for (Dockerfile.sidecar's JAVA_OPTS, local mode, the benchmark): a small
   * serial heap, C1 only, and no perf-data sampling (a 50 ms timer that was a fifth of an idle sidecar's CPU; jstat
   * and jcmd PerfCounter do not work with it off). Issue #33, RSS bought as measured by SidecarBench:
   * <ul>
   *   <li>-Xms8m -Xmn4m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20: a 4 MiB young generation and a heap that
   *       keeps 10-20 % free (the live heap is ~9 MiB; it had committed 24 MiB): -2.5 MB; -Xmn2m: -1.5 MB more (the
   *       sidecar allocates ~170 KB/s, so a young collection every ~11 s, each 1-3 ms)</li>
   *   <li>-Dio.netty.jfr.enabled=false: none of the 99 JFR classes Netty loads to emit allocator events;
   *       -Dvertx.disableDnsResolver=true: the JDK's resolver (libc, /etc/resolv.conf and /etc/hosts, as before)
   *       instead of Netty's DNS client, 70 classes: together -2.4 MB (measured with type=unpooled, which did nothing:
   *       next item)</li>
   *   <li>-Dio.netty.allocator.type=pooled with one heap and one direct arena of 64 KiB chunks (maxOrder=3 over 8 KiB
   *       pages) and no thread caches: Vert.x 5 takes Netty's default allocator for its connections unless it is
   *       the unpooled one, which it replaces with an adaptive allocator of its own (VertxByteBufAllocator), so
   *       {@code type=unpooled}, tried first, left the adaptive allocator and its large chunks in place; a small
   *       pooled one: -2.4 MB</li>
   *   <li>(not a flag) no Bouncy Castle in the sidecar's jar, whose central directory the JVM keeps on the heap:
   *       -0.5 MB (SidecarJarTest)</li>
   *   <li>-Xshare:off: the JDK's class-data archive is mapped at a random address and relocated (the default
   *       since 17.0.x), which dirties all of its 12 MB; loading the ~1,200 JDK classes the sidecar uses from it
   *       costs less: -1.5 MB. An archive of all ~5,600 classes the sidecar loads (static AppCDS, mapped without
   *       relocation) moved ~23 MB out of metaspace and the symbol table into 40 MB of mapped file that it touches
   *       nearly all of: -1.6 MB of RSS, not worth an archive per image</li>
   *   <li>(not a flag) no protobuf exposition (prometheus-metrics-exposition-formats and its shaded protobuf) in the
   *       jar: /metrics is text only; jar 11.95 to 9.86 MB, ~0.1 MB</li>
   * </ul>
   * Tried and left out (SidecarBench {@code sidecar 60 120}, 79.7 MB before; single runs vary by 1-2 MB):
   * -XX:TrimNativeHeapInterval=10000 (79.3: the maximum is reached within 8 s of start and little malloc memory is
   * free after it), with MALLOC_ARENA_MAX=2 (79.0); -XX:StringTableSize=4096 (nothing); -XX:CompileThresholdScaling=5
   * (76.7 MB, but steady CPU 0.53 s/min against the exporter's 0.29) and =2 (77.9 MB, 0.43 against 0.29); -Xint
   * (71.1 MB, but 11.7 s/min of CPU in the first minute and 0.90 when steady); -XX:-BytecodeVerificationRemote
   * (-1.8 MB: the verifier's own classes, but the jar's bytecode unverified, not worth 2 %). The floor, with these
   * flags: an idle JVM is 26 MB (libjvm.so's code alone 13 MB), one that only runs Vert.x and polls PostgreSQL once a
   * second with vertx-pg-client (~2,900 classes) 56-58 MB (62 MB on JDK 25 with -XX:+UseCompactObjectHeaders), so
   * issue #33's 48 MB is out of reach for this stack on HotSpot.
   * Where the rest goes (Native Memory Tracking, ~88 MB): ~5,600 classes (metaspace 30 MB, symbols 7 MB), libjvm.so's
   * mapped code 13 MB, the heap 10-14 MB, C1's code 5 MB, 20 threads' stacks 2 MB. Of the classes, ~1,000 are the
   * JDK's TLS for the bridge (sun.security.*, javax.net.ssl, com.sun.crypto; 450 in sun.security.ssl alone), ~800
   * lambdas and ~230 method-handle forms, ~560 Netty, ~740 Vert.x, ~300 Micrometer/Prometheus/HdrHistogram and ~100
   * JMX for the JVM meters /metrics serves: what /metrics and the bridge need.
   */
  public static final java.util.List<String> JVM_FLAGS = java.util.List.of("-Xms8m", "-Xmx64m", "-Xmn2m",
      "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20", "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1", "-Xss512k", "-XX:MaxMetaspaceSize=64m", "-XX:ReservedCodeCacheSize=16m",
      "-XX:CICompilerCount=1", "-XX:-UsePerfData", "-Dio.netty.allocator.type=pooled",
      "-Dio.netty.allocator.numHeapArenas=1", "-Dio.netty.allocator.numDirectArenas=1",
      "-Dio.netty.allocator.maxOrder=3", "-Dio.netty.allocator.smallCacheSize=0",
      "-Dio.netty.allocator.normalCacheSize=0", "-Dio.netty.jfr.enabled=false",
      "-Dvertx.disableDnsResolver=true", "-Xshare:off");

  private SidecarMain() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("""
          pgtide-sidecar: streams PostgreSQL/Patroni state to the pgtide operator and answers its commands.
          Configured by environment variables:
            PGTIDE_NAMESPACE / PGTIDE_CLUSTER / PGTIDE_MEMBER   identity (or POD_NAMESPACE / SCOPE / POD_NAME)
            PGTIDE_PG_HOST, PGTIDE_PG_PORT, PGTIDE_PG_USER, PGTIDE_PG_DATABASE
            PGTIDE_PG_PASSWORD_FILE or PGTIDE_PG_PASSWORD       credentials (never logged)
            PGTIDE_PATRONI_URL      default http://127.0.0.1:8008 (empty: plain PostgreSQL)
            PGTIDE_PATRONI_USER, PGTIDE_PATRONI_PASSWORD_FILE   Patroni's restapi.authentication, sent with
                                    switchover, failover, restart and config changes (never logged)
            PGTIDE_OPERATOR_HOST, PGTIDE_OPERATOR_PORT          the operator's bridge (default pgtide-operator:7443)
            PGTIDE_TLS_DIR          tls.crt, tls.key, ca.crt (default /etc/pgtide/tls)
            PGTIDE_HTTP_PORT        /metrics /healthz /readyz (default 9188)
            PGTIDE_INTERVAL_MS      report interval (default 1000)
            PGTIDE_PG_LOG_DIR       PostgreSQL's csvlog directory, served to `pgtide logs` (Spilo: $PGROOT/pg_log)
            PGTIDE_PATRONI_LOG      a file holding Patroni's output, served the same way (local mode)
            PGTIDE_CUSTOM_QUERIES   queries.yaml files (postgres_exporter's format), ':'-separated, re-read
                                    when they change; PGTIDE_CUSTOM_QUERIES_INTERVAL_MS (default 15000) and
                                    PGTIDE_CUSTOM_QUERIES_TIMEOUT_MS (statement_timeout, default 10000)""");
      return;
    }
    SidecarConfig config;
    io.pgtide.sidecar.custom.CustomQueryRunner.Settings custom;
    try {
      config = SidecarConfig.fromEnv(System.getenv());
      custom = io.pgtide.sidecar.custom.CustomQueryRunner.Settings.fromEnv(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("pgtide-sidecar: " + e.getMessage());
      System.exit(2);
      return;
    }
    PrometheusMeterRegistry registry = MeteredVertx.registry();
    Vertx vertx = MeteredVertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2), registry);
    SidecarConfig finalConfig = config;
    vertx.deployVerticle(new SidecarVerticle(config, registry, pg -> new UserSync(vertx, pg)::apply,
            io.pgtide.sidecar.logs.LogSources.fromEnv(System.getenv()), custom))
        .onSuccess(id -> System.out.println("pgtide-sidecar " + finalConfig.id() + " up; metrics on :"
            + finalConfig.httpPort()))
        .onFailure(e -> {
          System.err.println("pgtide-sidecar failed to start: " + e.getMessage());
          // not on the event loop: the shutdown hook closes Vert.x and waits for this very thread (a deadlock
          // that left a failed sidecar hanging instead of exiting)
          new Thread(() -> System.exit(1), "pgtide-exit").start();
        });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await()));
  }
}
