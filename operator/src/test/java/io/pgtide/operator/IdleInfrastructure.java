package io.pgtide.operator;

import io.pgtide.operator.infra.Infrastructure;
import io.vertx.core.Future;
import java.util.List;

/**
 * An infrastructure that has nothing to do to the world: for tests of what the operator decides and serves (extend
 * it to record what they ask for).
 */
public class IdleInfrastructure implements Infrastructure {
  @Override
  public Future<Void> pointPrimary(String clusterKey, String member) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> pointReplicas(String clusterKey, List<String> members) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> fence(String clusterKey, String member) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Boolean> releaseIfDead(String clusterKey, String member) {
    return Future.succeededFuture(false);
  }

  @Override
  public Future<Void> scale(String clusterKey, int members) {
    return Future.succeededFuture();
  }

  @Override
  public Future<List<String>> members(String clusterKey) {
    return Future.succeededFuture(List.of());
  }
}
