package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.Resources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The process-tree reader on a real tree: a "postmaster" shell with two busy children and an idle one. */
class ProcessTreeReaderIT {

  @Test
  void countsThePostmasterAndEverythingUnderItAndNothingElse() throws Exception {
    // the idle child plays the sidecar's backend: its parent is the "postmaster"
    Process tree = new ProcessBuilder("sh", "-c",
        "sh -c 'while :; do :; done' & sh -c 'while :; do :; done' & sleep 300 & wait").start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> tree.descendants().count() >= 3);
      ProcessHandle backend = tree.descendants().filter(p -> p.info().command().orElse("").endsWith("sleep"))
          .findFirst().orElseThrow();
      ProcessTreeReader reader = new ProcessTreeReader(Path.of("/proc"), null, null);
      assertThat(reader.read((int) backend.pid()).cpuCores()).as("no interval yet").isNull();
      AtomicReference<Resources> r = new AtomicReference<>();
      // two busy loops on 2 cores shared with whatever else runs (a loaded CI machine may leave them little): they
      // show, and never more than the machine's cores (the build's own processes are not counted in)
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
        r.set(reader.read((int) backend.pid()));
        return r.get().cpuCores() != null && r.get().cpuCores() > 0.1;
      });
      assertThat(r.get().cpuCores()).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors() + 0.2);
      assertThat(r.get().memoryBytes()).isPositive().isLessThan(r.get().memoryLimitBytes() / 4);
      assertThat(r.get().cpuLimitCores()).isEqualTo((double) Runtime.getRuntime().availableProcessors());
      assertThat(reader.read(null)).isEqualTo(Resources.EMPTY);
      // given limits (the Spilo container's on Kubernetes) replace the machine's
      Resources limited = new ProcessTreeReader(Path.of("/proc"), 0.5, 256L << 20).read((int) backend.pid());
      assertThat(limited.cpuLimitCores()).isEqualTo(0.5);
      assertThat(limited.memoryLimitBytes()).isEqualTo(256L << 20);
    } finally {
      List<ProcessHandle> all = tree.descendants().toList();
      all.forEach(ProcessHandle::destroyForcibly);
      tree.destroyForcibly();
    }
  }
}
