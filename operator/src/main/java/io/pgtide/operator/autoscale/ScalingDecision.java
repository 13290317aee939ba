package io.pgtide.operator.autoscale;

/** What the policy decided: the member count it wants, why, and what (if anything) held it back. */
public record ScalingDecision(int current, int desired, String reason, String blockedBy) {
  public boolean changes() {
    return desired != current;
  }

  /** A bounded label for metrics: the signal that drove the decision (the reason itself carries the numbers). */
  public String signal() {
    if (reason.startsWith("members")) {
      return "bounds";
    }
    if (reason.startsWith("autoscaling disabled")) {
      return "spec";
    }
    if (desired < current) {
      return "underutilized";
    }
    String first = reason.split("[ /]", 2)[0];
    return java.util.Set.of("qps", "latency", "cpu", "memory").contains(first) ? first : "other";
  }

  public String direction() {
    return desired > current ? "up" : desired < current ? "down" : "none";
  }
}
