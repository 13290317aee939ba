package io.pgtide.common.cluster;

import java.util.Objects;

/**
 * A cluster's identity in the operator: its namespace and name. Its text form {@code namespace/name} is what the
 * operator's maps, metrics, events and API paths use; build and split it here, nowhere else.
 */
public record ClusterKey(String namespace, String name) {
  public ClusterKey {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  /** The key of {@code namespace/name}; refused when either part is empty or the slash is missing. */
  public static ClusterKey parse(String text) {
    int slash = text == null ? -1 : text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
      throw new IllegalArgumentException("a cluster is namespace/name, got " + text);
    }
    return new ClusterKey(text.substring(0, slash), text.substring(slash + 1));
  }

  /** The text form of {@code namespace} and {@code name}: {@code namespace/name}. */
  public static String text(String namespace, String name) {
    return new ClusterKey(namespace, name).toString();
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
