package io.pgtide.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.local.process.Signals;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PatroniClusterIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(3);

  @Test
  void clusterIsReadyWithALeaderAndStreamingReplicasAndFaultsActOnRealPids() throws Exception {
    var cluster = pg.cluster();
    PatroniMember leader = cluster.leader().orElseThrow();
    assertThat(cluster.streamingReplicas(leader)).isEqualTo(2);
    String su = cluster.secrets().superuser();
    String pw = cluster.secrets().superuserPassword();
    assertThat(Psql.query(leader.pgPort(), su, pw, "postgres", "select pg_is_in_recovery()")).isEqualTo("f");
    PatroniMember replica = cluster.members().stream().filter(m -> m != leader).findFirst().orElseThrow();
    assertThat(Psql.query(replica.pgPort(), su, pw, "postgres", "select pg_is_in_recovery()")).isEqualTo("t");

    // freeze: the postmaster is stopped (state T) and thawed again
    long pm = replica.postmasterPid().orElseThrow();
    replica.freeze();
    // kill returns once the signal is sent; the state changes when the kernel next schedules the postmaster
    java.nio.file.Path stat = java.nio.file.Path.of("/proc/" + pm + "/stat");
    io.pgtide.local.process.Waits.until("postmaster " + pm + " to stop", Duration.ofSeconds(10),
        () -> java.nio.file.Files.readString(stat).contains(") T "), () -> "its state stayed other than T");
    replica.thaw();

    // hard kill: Patroni and postmaster are gone, by PID
    long patroniPid = replica.patroniPid().orElseThrow();
    replica.killHard();
    assertThat(Signals.alive(patroniPid)).isFalse();
    assertThat(Signals.alive(pm)).isFalse();

    // restart: it rejoins and streams again
    replica.start();
    cluster.awaitReady(Duration.ofSeconds(120));
  }
}
