package io.pgtide.operator.failover;

import io.pgtide.operator.failover.FailoverState.Incident;

/**
 * What of an open incident outlives the operator handling it: the lost primary ({@code target}), how it would end
 * ({@code kind}), how far handling it went ({@code step}), since when and why. Kept in the cluster's
 * {@code status.failover} on Kubernetes and in a file in local mode ({@link IncidentStore}), written before the
 * operator acts, so the next leader resumes the incident instead of starting from nothing. Pure.
 */
public record IncidentIntent(String incidentId, String target, String kind, String step, long startedAt,
                             String reason) {
  static final String DETECTED = "detected";
  static final String ANNOUNCED = "announced";
  static final String RELEASED = "released";
  static final String FENCED = "fenced";
  static final String FENCE_UNCONFIRMED = "fence-unconfirmed";

  /** The persisted shape of {@code incident}; null for none. */
  static IncidentIntent of(Incident incident) {
    if (incident == null) {
      return null;
    }
    String step = incident.fenceUnconfirmed() ? FENCE_UNCONFIRMED : incident.fenced() ? FENCED
        : incident.released() ? RELEASED : incident.announced() ? ANNOUNCED : DETECTED;
    return new IncidentIntent(incident.lost() + "@" + incident.detectedAt(), incident.lost(), incident.kind(), step,
        incident.detectedAt(), incident.lostBecause());
  }

  /**
   * The incident as the operator that wrote this left it. What a step implies comes back (a fenced primary is not
   * fenced twice, an announced loss not announced again); the reported-once notes start over, which at worst
   * repeats one of those notes under the new leader.
   */
  Incident toIncident() {
    boolean unconfirmed = FENCE_UNCONFIRMED.equals(step);
    boolean fenced = unconfirmed || FENCED.equals(step);
    boolean announced = !DETECTED.equals(step);
    return new Incident(target, startedAt, reason, announced, fenced, unconfirmed, false, false, 0,
        RELEASED.equals(step), 0);
  }
}
