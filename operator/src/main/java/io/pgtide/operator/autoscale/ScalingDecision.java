package io.pgtide.operator.autoscale;

/** What the policy decided: the member count it wants, why, and what (if anything) held it back. */
public record ScalingDecision(int current, int desired, String reason, String blockedBy) {
  public boolean changes() {
    return desired != current;
  }

  public String direction() {
    return desired > current ? "up" : desired < current ? "down" : "none";
  }
}
