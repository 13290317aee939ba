package io.pgtide.operator.failover;

/**
 * What the failover coordinator knows of one cluster, as a value: the last confirmed primary, where the primary
 * endpoint points, whether a split view or a switchover is under way, the open incident, and the last failover.
 * {@link FailoverMachine} computes each next one; nothing here changes in place.
 */
record FailoverState(String primary, String endpoint, boolean split, boolean switching, Incident incident,
                     FailoverRecord last) {
  static final FailoverState INITIAL = new FailoverState(null, null, false, false, null, null);

  FailoverState withPrimary(String member) {
    return new FailoverState(member, endpoint, split, switching, incident, last);
  }

  FailoverState withEndpoint(String member) {
    return new FailoverState(primary, member, split, switching, incident, last);
  }

  FailoverState withSplit(boolean open) {
    return new FailoverState(primary, endpoint, open, switching, incident, last);
  }

  FailoverState withSwitching(boolean underWay) {
    return new FailoverState(primary, endpoint, split, underWay, incident, last);
  }

  FailoverState withIncident(Incident open) {
    return new FailoverState(primary, endpoint, split, switching, open, last);
  }

  FailoverState withLast(FailoverRecord record) {
    return new FailoverState(primary, endpoint, split, switching, incident, record);
  }

  /** The lost primary of the open incident, or null. */
  String lost() {
    return incident == null ? null : incident.lost();
  }

  /**
   * An open incident: the primary lost, since when and why, and how far handling it went. Each incident starts from
   * {@link #opened}; the flags that say "reported once" keep an event from repeating on every evaluation.
   *
   * @param announced        PrimaryLost was emitted (and counted): the loss outlasted the blip window
   * @param fenced           the lost primary was fenced
   * @param fenceUnconfirmed the fence could not be confirmed: nothing was forced, Patroni's ttl decides
   * @param fenceWithheld    a fence was due but no candidate qualified (reported once)
   * @param recoveringNoted  a fence was due but the primary is restarting, not frozen (reported once)
   * @param frozenSince      since when the lost primary has reported new connections hung (0: it has not)
   * @param released         the lost primary's leader lock was released on confirmed death
   * @param releaseAskedAt   the last time the infrastructure was asked to confirm its death
   */
  record Incident(String lost, long detectedAt, String lostBecause, boolean announced, boolean fenced,
                  boolean fenceUnconfirmed, boolean fenceWithheld, boolean recoveringNoted, long frozenSince,
                  boolean released, long releaseAskedAt) {
    static Incident opened(String lost, long at, String because) {
      return new Incident(lost, at, because, false, false, false, false, false, 0, false, 0);
    }

    Incident announce() {
      return new Incident(lost, detectedAt, lostBecause, true, fenced, fenceUnconfirmed, fenceWithheld,
          recoveringNoted, frozenSince, released, releaseAskedAt);
    }

    Incident fence() {
      return new Incident(lost, detectedAt, lostBecause, announced, true, fenceUnconfirmed, fenceWithheld,
          recoveringNoted, frozenSince, released, releaseAskedAt);
    }

    Incident fenceNotConfirmed() {
      return new Incident(lost, detectedAt, lostBecause, announced, fenced, true, fenceWithheld,
          recoveringNoted, frozenSince, released, releaseAskedAt);
    }

    Incident withholdFence() {
      return new Incident(lost, detectedAt, lostBecause, announced, fenced, fenceUnconfirmed, true,
          recoveringNoted, frozenSince, released, releaseAskedAt);
    }

    Incident noteRecovering() {
      return new Incident(lost, detectedAt, lostBecause, announced, fenced, fenceUnconfirmed, fenceWithheld,
          true, frozenSince, released, releaseAskedAt);
    }

    Incident frozenSince(long since) {
      return new Incident(lost, detectedAt, lostBecause, announced, fenced, fenceUnconfirmed, fenceWithheld,
          recoveringNoted, since, released, releaseAskedAt);
    }

    Incident release() {
      return new Incident(lost, detectedAt, lostBecause, announced, fenced, fenceUnconfirmed, fenceWithheld,
          recoveringNoted, frozenSince, true, releaseAskedAt);
    }

    Incident askedRelease(long at) {
      return new Incident(lost, detectedAt, lostBecause, announced, fenced, fenceUnconfirmed, fenceWithheld,
          recoveringNoted, frozenSince, released, at);
    }

    /** How the incident ended when a new primary took over. */
    String kind() {
      return fenceUnconfirmed ? "zombie-ttl" : fenced ? "zombie-fenced" : released ? "confirmed-dead" : "failover";
    }
  }
}
