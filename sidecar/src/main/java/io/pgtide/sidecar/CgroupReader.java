package io.pgtide.sidecar;

import io.pgtide.common.contract.Resources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU and memory of the pod from cgroup v2 ({@code cpu.stat}, {@code cpu.max}, {@code memory.current},
 * {@code memory.max}), falling back to v1 ({@code cpuacct.usage}, {@code cpu.cfs_*}, {@code memory.usage_in_bytes}).
 * CPU use is in cores over the interval between two reads. Blocking file reads: call from a worker.
 */
public final class CgroupReader {
  private final Path root;
  private long lastUsageNanos = -1;
  private long lastReadNanos;

  public CgroupReader(Path root) {
    this.root = root;
  }

  public Resources read() {
    long now = System.nanoTime();
    boolean v2 = Files.exists(root.resolve("cgroup.controllers"));
    Long usage = v2 ? cpuStatUsec().map(u -> u * 1000).orElse(null) : longFile("cpuacct/cpuacct.usage");
    Double cores = null;
    if (usage != null && lastUsageNanos >= 0 && now > lastReadNanos) {
      cores = (usage - lastUsageNanos) / (double) (now - lastReadNanos);
    }
    if (usage != null) {
      lastUsageNanos = usage;
      lastReadNanos = now;
    }
    Double cpuLimit = v2 ? cpuMaxV2() : cpuLimitV1();
    Long memory = v2 ? longFile("memory.current") : longFile("memory/memory.usage_in_bytes");
    Long memoryLimit = v2 ? longFile("memory.max") : longFile("memory/memory.limit_in_bytes");
    if (memoryLimit != null && memoryLimit > (1L << 60)) {
      memoryLimit = null; // v1 "unlimited"
    }
    return new Resources(cores, cpuLimit, memory, memoryLimit);
  }

  private java.util.Optional<Long> cpuStatUsec() {
    try {
      for (String line : Files.readAllLines(root.resolve("cpu.stat"))) {
        if (line.startsWith("usage_usec ")) {
          return java.util.Optional.of(Long.parseLong(line.substring(11).trim()));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not readable here
    }
    return java.util.Optional.empty();
  }

  private Double cpuMaxV2() {
    String text = string("cpu.max");
    if (text == null) {
      return null;
    }
    String[] parts = text.trim().split("\\s+");
    if (parts.length != 2 || "max".equals(parts[0])) {
      return null;
    }
    return Double.parseDouble(parts[0]) / Double.parseDouble(parts[1]);
  }

  private Double cpuLimitV1() {
    Long quota = longFile("cpu/cpu.cfs_quota_us");
    Long period = longFile("cpu/cpu.cfs_period_us");
    return quota == null || period == null || quota <= 0 ? null : (double) quota / period;
  }

  private Long longFile(String name) {
    String text = string(name);
    if (text == null || text.isBlank() || text.trim().equals("max")) {
      return null;
    }
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private String string(String name) {
    try {
      return Files.readString(root.resolve(name));
    } catch (IOException e) {
      return null;
    }
  }
}
