package io.pgtide.common.crd;

import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did. Written by the operator only. */
public class PostgresClusterStatus {
  public Long observedGeneration;
  public String phase;
  public String primary;
  @StatusReplicas
  public Integer replicas;
  public Integer readyMembers;
  public Integer desiredReplicas;
  @LabelSelector
  public String selector;
  public List<Condition> conditions = new ArrayList<>();
  public Scale lastScale;
  public Users users;
  public List<Member> members = new ArrayList<>();
  public Failover lastFailover;
  /**
   * The failover incident under way, written before the operator acts on it (fences, releases a leader lock) and
   * removed, in the same write that records {@link #lastFailover}, when it ends: an operator that takes over the
   * lead resumes it from here, or closes it with a reason.
   */
  public FailoverIntent failover;
  /** The outcome of the last request made through the annotation {@code pgtide.io/request} (kubectl pgtide). */
  public Request lastRequest;
  /**
   * spec.backup: the last successful base backup (time, size, duration), the first and last recoverable points, WAL
   * archiving lag (seconds and bytes), the last verification, the base backups kept; as the backup agent reports it.
   */
  @io.fabric8.crd.generator.annotation.PreserveUnknownFields
  public Object backup;
  /**
   * A standby cluster (spec.standby): what it follows, how far behind, and whether it was promoted. Kept after
   * promotion (the promotion is recorded here before it is carried out, so an operator restart finishes it and a
   * spec.standby left in the spec never makes it a standby again).
   */
  public Standby standby;
  /**
   * A major-version upgrade (a raised spec.postgresVersion): each step as it happens, written before the operator
   * launches it, so an operator that takes over the lead follows the one under way; kept after it ends.
   */
  public Upgrade upgrade;

  /** A field of {@link #backup} (a JSON object), null when absent. */
  public Object backupValue(String key) {
    return backup instanceof java.util.Map<?, ?> m ? m.get(key) : null;
  }

  public static class Standby {
    /** {@code <namespace>/<name>} of the source cluster. */
    public String source;
    /** The source primary's current WAL position minus what the standby leader replayed; null while unknown. */
    public Long lagBytes;
    /** The standby leader's WAL receiver streams from the source. */
    public Boolean streaming;
    /** Promotion was decided (a request, or spec.standby removed); it is carried out until the leader is primary. */
    public boolean promoted;
    public String promotedAt;
    /**
     * The S3 copy followed (spec.standby.s3, its prefix resolved) for a standby that follows one: kept after
     * promotion, so the pods' bootstrap-only settings stay as they were when spec.standby is removed.
     */
    public io.pgtide.common.crd.PostgresClusterSpec.S3Spec s3;
  }

  public static class Upgrade {
    public Integer from;
    public Integer to;
    /** Blocked (a precondition unmet, nothing changed), Upgrading, Succeeded or Failed. */
    public String phase;
    /** The last step Spilo's upgrade reached (preconditions, launched, check, paused, stopped, ..., done). */
    public String step;
    public String message;
    /** The member whose data was upgraded (the primary when it was launched). */
    public String member;
    /** Names the upgrade's log and exit files in the member's PGROOT. */
    public String id;
    /** The spec generation that asked for it: a failed upgrade is tried again only from a later one. */
    public Long generation;
    public String startedAt;
    public String finishedAt;
    /** The primary's downtime as Spilo measured it (from its clean stop to PostgreSQL {@link #to} accepting). */
    public Double downtimeSeconds;
  }

  public static class Member {
    public String name;
    public String role;
    public Long timeline;
    public boolean ready;
  }

  public static class Condition {
    public String type;
    public String status;
    public String reason;
    public String message;
    public String lastTransitionTime;
  }

  public static class Scale {
    public String time;
    public Integer from;
    public Integer to;
    public String reason;
  }

  public static class Users {
    public Integer synced;
    public List<Failure> failed = new ArrayList<>();
  }

  public static class Failure {
    public String name;
    public String reason;
  }

  public static class Failover {
    public String from;
    public String to;
    public String detectedAt;
    public String completedAt;
    public Long durationMs;
    public String kind;
  }

  public static class FailoverIntent {
    /** {@code <target>@<startedAt>}: one incident, one id, whichever operator handles it. */
    public String incidentId;
    /** The primary that was lost: the member the incident fences or releases. */
    public String target;
    /** How it ends if a new primary took over now: failover, confirmed-dead, zombie-fenced, zombie-ttl. */
    public String kind;
    /** How far handling it went: detected, announced, released, fenced, fence-unconfirmed. */
    public String step;
    public String startedAt;
    /** Why the primary counts as lost (its last report). */
    public String reason;
  }

  public static class Request {
    public String id;
    public String action;
    /** Succeeded, Failed or Refused (a request that could not be read, or too old to act on). */
    public String outcome;
    public String message;
    public String completedAt;
  }
}
