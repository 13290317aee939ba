package io.pgtide.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup controller stops within its bound even while a Barman call hangs (a stand-in barman that sleeps). */
class BackupControllerStopTest {
  private final Vertx vertx = Vertx.vertx();
  @TempDir
  Path repository;

  @AfterEach
  void close() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @Test
  void aHungBarmanCallIsKilledAndTheReceiverStillStopped() throws Exception {
    // `barman cron` hangs (its pid recorded); `receive-wal --stop` is recorded and succeeds
    Path fake = repository.resolve("fake-barman");
    Files.writeString(fake, """
        #!/bin/sh
        dir=$(dirname "$2")
        case "$3" in
          cron) echo $$ > "$dir/cron.pid"; exec sleep 600;;
          receive-wal) echo "$*" >> "$dir/receiver.log";;
        esac
        exit 0
        """);
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    Files.createDirectories(repository.resolve("conf.d"));
    Files.writeString(repository.resolve("conf.d/pg1.conf"), "[pg1]\n");
    Barman barman = new Barman(repository, "pg1", List.of(fake.toString()));
    BackupController controller = new BackupController(vertx, "default/pg1", barman,
        PostgresClusterSpec.BackupSpec::new, () -> new BackupController.ArchivingLag.Lag(null, null, false), null,
        new AgentEvents(), new SimpleMeterRegistry());

    controller.tick();
    Path pidFile = repository.resolve("cron.pid");
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!(Files.exists(pidFile) && !Files.readString(pidFile).isBlank()) && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertThat(pidFile).as("the pass reached barman cron").exists();
    long cronPid = Long.parseLong(Files.readString(pidFile).strip());

    long started = System.nanoTime();
    controller.stop(Duration.ofSeconds(1)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(took).as("bounded by the pass bound plus the unwinding").isLessThan(Duration.ofSeconds(8));
    assertThat(ProcessHandle.of(cronPid).map(ProcessHandle::isAlive).orElse(false)).as("the hung call").isFalse();
    assertThat(Files.readString(repository.resolve("receiver.log"))).contains("receive-wal --stop pg1");
  }

  @Test
  void anIdleControllerStopsTheReceiverAtOnce() throws Exception {
    Path fake = repository.resolve("fake-barman");
    Files.writeString(fake, "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$2\")/receiver.log\"\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    Files.createDirectories(repository.resolve("conf.d"));
    Files.writeString(repository.resolve("conf.d/pg1.conf"), "[pg1]\n");
    BackupController controller = new BackupController(vertx, "default/pg1",
        new Barman(repository, "pg1", List.of(fake.toString())), PostgresClusterSpec.BackupSpec::new,
        () -> new BackupController.ArchivingLag.Lag(null, null, false), null, new AgentEvents(),
        new SimpleMeterRegistry());

    controller.stop(Duration.ofSeconds(1)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertThat(Files.readString(repository.resolve("receiver.log"))).contains("receive-wal --stop pg1");
  }
}
