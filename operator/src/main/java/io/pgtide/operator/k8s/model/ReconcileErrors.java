package io.pgtide.operator.k8s.model;

import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * What a failed reconcile is called in conditions, metrics and logs: the API server's own reason and message
 * when it refused a request ({@code Forbidden}, {@code Invalid}, {@code Conflict}, …), else the failure's kind.
 * Pure.
 */
public final class ReconcileErrors {
  private static final long FIRST_MS = 1_000;
  private static final long MAX_MS = 300_000;

  private ReconcileErrors() {
  }

  /** A step that refuses to go on for a reason of our own (a missing storage class, a shrinking volume, …). */
  public static class Refused extends RuntimeException {
    private final String reason;

    public Refused(String reason, String message) {
      super(message);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  /** The wait before retry number {@code attempt} (1-based): 1 s, 2 s, 4 s, … at most 5 min. */
  public static long backoffMs(int attempt) {
    int doublings = Math.max(0, Math.min(attempt - 1, 20));
    return Math.min(FIRST_MS << doublings, MAX_MS);
  }

  /** A short, bounded label value: the API status reason (HTTP code when it has none), or the exception's kind. */
  public static String reason(Throwable e) {
    if (e instanceof Refused r) {
      return r.reason();
    }
    KubernetesClientException k = apiError(e);
    if (k != null) {
      if (k.getStatus() != null && k.getStatus().getReason() != null && !k.getStatus().getReason().isBlank()) {
        return k.getStatus().getReason();
      }
      return k.getCode() > 0 ? "Http" + k.getCode() : "ApiUnreachable";
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName();
  }

  /** The API server's message when it gave one (it names the field and the rule), else the failure's message. */
  public static String message(Throwable e) {
    KubernetesClientException k = apiError(e);
    if (k != null && k.getStatus() != null && k.getStatus().getMessage() != null) {
      return k.getStatus().getMessage();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static KubernetesClientException apiError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KubernetesClientException k) {
        return k;
      }
    }
    return null;
  }
}
