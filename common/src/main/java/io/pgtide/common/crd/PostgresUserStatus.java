package io.pgtide.common.crd;

/** Whether the user is in the database: Pending, Synced or Failed (with the reason). Written by the operator. */
public class PostgresUserStatus {
  public String state;
  public String reason;
  public Long observedGeneration;

  @Override
  public boolean equals(Object o) {
    return o instanceof PostgresUserStatus s && java.util.Objects.equals(state, s.state)
        && java.util.Objects.equals(reason, s.reason) && java.util.Objects.equals(observedGeneration, s.observedGeneration);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(state, reason, observedGeneration);
  }
}
