package io.pgtide.operator.k8s.api;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.operator.ControlAuthorizer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;

/**
 * The control API's authentication and authorization on Kubernetes: the caller's bearer token (e.g. from {@code
 * kubectl create token}) is checked with a TokenReview, and each action with a SubjectAccessReview on
 * {@code postgresclusters.pgtide.io} — {@code get} to read a cluster's status and events, {@code update} to switch it
 * over or sync its users — so the RBAC that governs {@code kubectl edit} governs these too. The API server's calls
 * are blocking and run on worker threads. Tokens and their reviews are never logged.
 */
public final class KubernetesControlAuthorizer implements ControlAuthorizer {
  private final Vertx vertx;
  private final KubernetesClient client;

  public KubernetesControlAuthorizer(Vertx vertx, KubernetesClient client) {
    this.vertx = vertx;
    this.client = client;
  }

  @Override
  public Future<Subject> authenticate(String bearerToken) {
    return vertx.executeBlocking(() -> {
      TokenReview review = client.authentication().v1().tokenReviews().create(new TokenReviewBuilder()
          .withNewSpec().withToken(bearerToken).endSpec().build());
      var status = review.getStatus();
      if (status == null || !Boolean.TRUE.equals(status.getAuthenticated()) || status.getUser() == null) {
        throw new Refused("the bearer token was not accepted by the API server"
            + (status != null && status.getError() != null ? ": " + status.getError() : ""));
      }
      var user = status.getUser();
      return new Subject(user.getUsername(), user.getUid(), user.getGroups() == null ? List.of() : user.getGroups(),
          user.getExtra() == null ? Map.of() : user.getExtra());
    }, false);
  }

  @Override
  public Future<Boolean> allowed(Subject subject, String verb, String namespace, String name) {
    return vertx.executeBlocking(() -> {
      SubjectAccessReview review = client.authorization().v1().subjectAccessReview().create(
          new SubjectAccessReviewBuilder().withNewSpec().withUser(subject.user()).withUid(subject.uid())
              .withGroups(subject.groups()).withExtra(subject.extra())
              .withNewResourceAttributes().withGroup("pgtide.io").withResource("postgresclusters").withVerb(verb)
              .withNamespace(namespace).withName(name).endResourceAttributes().endSpec().build());
      return review.getStatus() != null && review.getStatus().getAllowed();
    }, false);
  }
}
