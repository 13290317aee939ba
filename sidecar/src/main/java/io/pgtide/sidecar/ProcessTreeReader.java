package io.pgtide.sidecar;

import io.pgtide.common.contract.Resources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * CPU and memory of one PostgreSQL instance — its postmaster and every process under it — where the sidecar cannot
 * read a cgroup that holds that instance alone (local mode: every member shares the machine's; Kubernetes: the
 * sidecar's cgroup namespace shows its own container only, while the pod's shared process namespace shows Spilo's
 * processes). The postmaster is found as the parent of the
 * sidecar's own backend. CPU is in cores over the interval between two reads, counted per process (a backend that
 * exits between reads takes its last interval with it); memory is the sum of proportional set sizes (shared buffers
 * counted once, not once per backend), or of resident sizes where smaps is not readable. Limits are those given (on
 * Kubernetes the Spilo container's), else the machine's (cores, MemTotal). Blocking reads of /proc: call from a
 * worker.
 */
public final class ProcessTreeReader {
  private final Path proc;
  private Map<Long, Long> lastCpuNanos = Map.of();
  private long lastReadNanos;

  private final Double cpuLimitCores;
  private final Long memoryLimitBytes;

  /** @param cpuLimitCores the instance's CPU limit, null for the machine's; likewise {@code memoryLimitBytes} */
  public ProcessTreeReader(Path proc, Double cpuLimitCores, Long memoryLimitBytes) {
    this.proc = proc;
    this.cpuLimitCores = cpuLimitCores;
    this.memoryLimitBytes = memoryLimitBytes;
  }

  /** The instance's use, {@link Resources#EMPTY} while the sidecar has no backend (no connection). */
  public Resources read(Integer backendPid) {
    Optional<ProcessHandle> postmaster = backendPid == null ? Optional.empty()
        : ProcessHandle.of(backendPid).flatMap(ProcessHandle::parent);
    if (postmaster.isEmpty()) {
      return Resources.EMPTY;
    }
    List<ProcessHandle> tree;
    try (Stream<ProcessHandle> below = postmaster.get().descendants()) {
      tree = Stream.concat(Stream.of(postmaster.get()), below).toList();
    }
    long now = System.nanoTime();
    Map<Long, Long> cpu = new HashMap<>();
    long memory = 0;
    for (ProcessHandle p : tree) {
      p.info().totalCpuDuration().map(Duration::toNanos).ifPresent(n -> cpu.put(p.pid(), n));
      memory += memoryBytes(p.pid());
    }
    Double cores = null;
    if (!lastCpuNanos.isEmpty() && now > lastReadNanos) {
      long used = 0;
      for (var e : cpu.entrySet()) {
        used += Math.max(0, e.getValue() - lastCpuNanos.getOrDefault(e.getKey(), 0L));
      }
      cores = used / (double) (now - lastReadNanos);
    }
    lastCpuNanos = cpu;
    lastReadNanos = now;
    return new Resources(cores, cpuLimitCores != null ? cpuLimitCores : (double) Runtime.getRuntime().availableProcessors(),
        memory > 0 ? memory : null, memoryLimitBytes != null ? memoryLimitBytes : memTotal());
  }

  private long memoryBytes(long pid) {
    Long pss = kiloBytes(proc.resolve(pid + "/smaps_rollup"), "Pss:");
    if (pss != null) {
      return pss * 1024;
    }
    Long rss = kiloBytes(proc.resolve(pid + "/status"), "VmRSS:");
    return rss == null ? 0 : rss * 1024;
  }

  private Long memTotal() {
    Long kb = kiloBytes(proc.resolve("meminfo"), "MemTotal:");
    return kb == null ? null : kb * 1024;
  }

  private static Long kiloBytes(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone, or not ours to read
    }
    return null;
  }
}
