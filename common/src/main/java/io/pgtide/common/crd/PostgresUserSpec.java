package io.pgtide.common.crd;

import io.fabric8.generator.annotation.Required;

/** The cluster the user belongs to, and the user itself (the same fields as an inline user). */
public class PostgresUserSpec extends PostgresClusterSpec.UserSpec {
  @Required
  public String cluster;
}
