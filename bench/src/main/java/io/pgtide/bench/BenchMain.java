package io.pgtide.bench;

import java.util.Arrays;

/** {@code java -jar bench/target/pgtide-bench.jar <benchmark> [args]}: each prints a table and writes it under bench/results/. */
public final class BenchMain {
  private BenchMain() {
  }

  public static void main(String[] args) throws Exception {
    String which = args.length == 0 ? "help" : args[0];
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    switch (which) {
      case "bridge" -> BridgeBench.main(rest);
      case "bridge-clients" -> BridgeBench.clients(rest);
      case "failover" -> FailoverBench.main(rest);
      case "sidecar" -> SidecarBench.main(rest);
      case "users" -> UserSyncBench.main(rest);
      case "autoscale" -> AutoscaleBench.main(rest);
      case "zombie-patroni" -> ZombieBench.main(rest);
      case "backup" -> BackupBench.main(rest);
      case "pooler" -> PoolerBench.main(rest);
      default -> System.out.println("""
          benchmarks: bridge [N...]        N simulated sidecars at 1 Hz over TLS to one hub (default 100 1000 3000)
                      failover [runs] [true|false] [fast|defaults|both] [cases]  hard kill / graceful / zombie / switchover (cases: comma-separated, e.g. "zombie primary"), 3 members
                      sidecar [seconds] [steadyAfter]  sidecar vs prometheus-postgres-exporter under pgbench
                      users [roles]        sync N roles with memberships, then a no-op and a 10-role drift sync
                      autoscale            read load 0 -> high -> 0 and a noisy square wave on a local cluster
                      zombie-patroni [s] [defaults]  Patroni alone against a frozen primary, no operator
                      backup [scale] [loadSeconds]  base backup and restore of a pgbench -s 68 (~1 GB) database vs pg_basebackup, WAL archiving lag under load
                      pooler [s] [clients] [directBest]  pgbench through PgBouncer vs direct to a max_connections=100 primary, TLS vs none""");
    }
  }
}
