package io.pgtide.common.cluster;

import org.slf4j.Logger;

/**
 * A logger for one cluster: every line starts with {@code [namespace/name]}. The cluster is in the message itself,
 * not in the MDC, because the work of one reconcile or incident continues on Vert.x callbacks and worker threads
 * that never see the MDC of the thread that started it (and slf4j-simple, the backend, prints no MDC). Cheap to
 * make: take one where the cluster is known.
 */
public final class ClusterLog {
  private final Logger log;
  private final String prefix;

  private ClusterLog(Logger log, String clusterKey) {
    this.log = log;
    this.prefix = "[" + clusterKey + "] ";
  }

  /** Lines of {@code log} about the cluster whose key is {@code clusterKey} ({@code namespace/name}). */
  public static ClusterLog of(Logger log, String clusterKey) {
    return new ClusterLog(log, clusterKey);
  }

  public static ClusterLog of(Logger log, ClusterKey key) {
    return new ClusterLog(log, key.toString());
  }

  public static ClusterLog of(Logger log, String namespace, String name) {
    return new ClusterLog(log, ClusterKey.text(namespace, name));
  }

  /** {@code [namespace/name] } as every line of this logger starts. */
  public String prefix() {
    return prefix;
  }

  public void debug(String format, Object... args) {
    if (log.isDebugEnabled()) {
      log.debug(prefix + format, args);
    }
  }

  public void info(String format, Object... args) {
    if (log.isInfoEnabled()) {
      log.info(prefix + format, args);
    }
  }

  public void warn(String format, Object... args) {
    if (log.isWarnEnabled()) {
      log.warn(prefix + format, args);
    }
  }

  public void error(String format, Object... args) {
    if (log.isErrorEnabled()) {
      log.error(prefix + format, args);
    }
  }
}
