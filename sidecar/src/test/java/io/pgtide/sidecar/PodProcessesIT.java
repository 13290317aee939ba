package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real processes standing in for Spilo's: one whose argv[0] is {@code patroni}, one whose executable is named
 * {@code postgres} (stopped, like a frozen postmaster), and bystanders (one shaped like runit's {@code runsv patroni}). The finder only looks at the PIDs this test
 * started, so nothing else on the machine is in sight.
 */
class PodProcessesIT {
  private final List<Process> started = new ArrayList<>();

  @TempDir
  Path dir;

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private Process start(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    started.add(p);
    return p;
  }

  private PodProcesses finder() {
    Set<Long> ours = started.stream().map(Process::pid).collect(Collectors.toSet());
    return new PodProcesses(Path.of("/proc"), ours::contains);
  }

  @Test
  void fencesPatroniAndAStoppedPostgresAndNothingElse() throws Exception {
    Path postgres = Files.createSymbolicLink(dir.resolve("postgres"), Path.of("/bin/sleep"));
    Process patroni = start("bash", "-c", "exec -a patroni sleep 300");
    Process postmaster = start(postgres.toString(), "300");
    Process bystander = start("sleep", "300");
    // runit's supervisor of Patroni in Spilo: "runsv patroni" (here a tail of a file named patroni, renamed runsv)
    Files.writeString(dir.resolve("patroni"), "");
    Process runsv = new ProcessBuilder("bash", "-c", "exec -a runsv tail patroni -f").directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    started.add(runsv);
    PodProcesses pod = finder();
    // the exec in bash and the start of each process take a moment: wait until both are in sight
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (pod.find().size() < 2 && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertThat(pod.find()).extracting(PodProcesses.Proc::pid, PodProcesses.Proc::kind)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(patroni.pid(), "patroni"),
            org.assertj.core.groups.Tuple.tuple(postmaster.pid(), "postgres"));
    assertThat(pod.probe().getBoolean("dead")).isFalse();
    new ProcessBuilder("kill", "-STOP", Long.toString(postmaster.pid())).start().waitFor(10, TimeUnit.SECONDS);

    JsonObject fenced = pod.fence(10_000);

    assertThat(fenced.getBoolean("confirmed")).as(fenced.encode()).isTrue();
    assertThat(fenced.getJsonArray("killed")).hasSize(2);
    assertThat(fenced.getJsonArray("left")).isEmpty();
    assertThat(patroni.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(postmaster.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(bystander.isAlive()).isTrue();
    assertThat(runsv.isAlive()).isTrue();
    assertThat(pod.probe().getBoolean("dead")).isTrue();
  }

  @Test
  void aProcessIsItsPidAndStartTime() throws Exception {
    Process patroni = start("bash", "-c", "exec -a patroni sleep 300");
    PodProcesses pod = finder();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (pod.find().isEmpty() && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    PodProcesses.Proc seen = pod.find().get(0);
    assertThat(pod.alive(seen)).isTrue();
    // the same PID with another start time is another process (a reused PID): not alive, never signalled
    assertThat(pod.alive(new PodProcesses.Proc(seen.pid(), seen.startTicks() + 1, "patroni"))).isFalse();
    assertThat(patroni.isAlive()).isTrue();
  }
}
