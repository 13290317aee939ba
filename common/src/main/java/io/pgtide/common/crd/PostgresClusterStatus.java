package io.pgtide.common.crd;

import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did. Written by the operator only. */
public class PostgresClusterStatus {
  public Long observedGeneration;
  public String phase;
  public String primary;
  public Integer replicas;
  public Integer desiredReplicas;
  public String selector;
  public List<Member> members = new ArrayList<>();
  public Failover lastFailover;

  public static class Member {
    public String name;
    public String role;
    public Long timeline;
    public Long lagBytes;
    public Double qps;
    public boolean ready;
  }

  public static class Failover {
    public String from;
    public String to;
    public String detectedAt;
    public String completedAt;
    public Long durationMs;
    public String kind;
  }
}
