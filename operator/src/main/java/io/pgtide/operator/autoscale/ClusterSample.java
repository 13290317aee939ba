package io.pgtide.operator.autoscale;

import java.util.List;

/** What the autoscaler saw of a cluster at one instant: one entry per member. */
public record ClusterSample(long at, List<Member> members) {

  /** One member; {@code null} metrics are missing (extension absent, no cgroup limit, stale member…). */
  public record Member(String name, boolean primary, boolean ready, long lagBytes, Double qps, Double latencyMs,
                       Double cpuUtilization, Double memoryUtilization) {
  }
}
