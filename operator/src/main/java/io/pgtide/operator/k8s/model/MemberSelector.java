package io.pgtide.operator.k8s.model;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The labels that select a cluster's members: {@code application=spilo,cluster-name=<cluster>}, Spilo's own (its
 * Patroni finds its peers with them). Services, the StatefulSet, network policies, anti-affinity and every list of
 * members or their volumes use this one definition. Another operator's pods may carry the same labels: a selector
 * finds candidates, and only ownership ({@link Ownership}) decides what pgtide may change or delete.
 */
public record MemberSelector(String cluster) {
  public static MemberSelector of(String cluster) {
    return new MemberSelector(cluster);
  }

  /** As match labels, in a stable order. */
  public Map<String, String> labels() {
    Map<String, String> labels = new TreeMap<>();
    labels.put("application", "spilo");
    labels.put("cluster-name", cluster);
    return Collections.unmodifiableMap(labels);
  }

  /** As a label selector string, e.g. for {@code status.selector} and {@code kubectl -l}. */
  @Override
  public String toString() {
    return "application=spilo,cluster-name=" + cluster;
  }
}
