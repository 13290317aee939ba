package io.pgtide.common.contract;

import java.util.Objects;

/** Who a sidecar speaks for. Its text form {@code namespace/cluster/member} is also the CN of the sidecar's certificate. */
public record MemberId(String namespace, String cluster, String member) {

  public MemberId {
    requireName(namespace, "namespace");
    requireName(cluster, "cluster");
    requireName(member, "member");
  }

  private static void requireName(String value, String what) {
    Objects.requireNonNull(value, what);
    if (!value.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      throw new IllegalArgumentException(what + " '" + value + "' is not a DNS label (lower-case letters, digits, '-', 1-63 chars)");
    }
  }

  public static MemberId parse(String text) {
    String[] parts = text == null ? new String[0] : text.split("/", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("member identity must be namespace/cluster/member, got '" + text + "'");
    }
    return new MemberId(parts[0], parts[1], parts[2]);
  }

  /** The StatefulSet ordinal at the end of a member (pod) name, {@code -1} when it has none. */
  public static int ordinal(String member) {
    try {
      return Integer.parseInt(member.substring(member.lastIndexOf('-') + 1));
    } catch (RuntimeException e) {
      return -1;
    }
  }

  public String clusterKey() {
    return namespace + "/" + cluster;
  }

  @Override
  public String toString() {
    return namespace + "/" + cluster + "/" + member;
  }
}
