package io.pgtide.common.contract;

/** Pod resource use from cgroups. Limits are null when the cgroup sets none. */
public record Resources(Double cpuCores, Double cpuLimitCores, Long memoryBytes, Long memoryLimitBytes) {
  public static final Resources EMPTY = new Resources(null, null, null, null);

  public Double cpuUtilization() {
    return cpuCores == null || cpuLimitCores == null || cpuLimitCores <= 0 ? null : cpuCores / cpuLimitCores;
  }

  public Double memoryUtilization() {
    return memoryBytes == null || memoryLimitBytes == null || memoryLimitBytes <= 0
        ? null : (double) memoryBytes / memoryLimitBytes;
  }
}
