package io.pgtide.operator;

import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/**
 * Who may use the control API, decided the Kubernetes way on Kubernetes (a TokenReview for the bearer token, a
 * SubjectAccessReview on the PostgresCluster); none in local mode, where the API listens on loopback only.
 */
public interface ControlAuthorizer {
  /** The authenticated caller, as the API server describes it. */
  record Subject(String user, String uid, List<String> groups, Map<String, List<String>> extra) {
  }

  /** Fails with {@link Refused} (401) for a token the API server does not accept. */
  Future<Subject> authenticate(String bearerToken);

  /** Whether {@code subject} may {@code verb} PostgresClusters in {@code namespace} (and {@code name}, if not null). */
  Future<Boolean> allowed(Subject subject, String verb, String namespace, String name);

  /** An authentication failure, with the reason to show the caller. */
  final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message);
    }
  }
}
