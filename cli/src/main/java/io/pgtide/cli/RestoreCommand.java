package io.pgtide.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgtide restore}: on Kubernetes (local mode has {@code local restore}). */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Kubernetes: create a new PostgresCluster from SOURCE's backups, restored to a point in time (or the "
        + "latest); the source is only read. A deleted SOURCE is restored from its backup volume, with new passwords. "
        + "(Local mode: `local restore`.)")
final class RestoreCommand implements Callable<Integer> {
  @Option(names = {"-n", "--namespace"}, description = "the source's namespace (default: the kubeconfig context's)")
  String namespace;
  @Parameters(paramLabel = "SOURCE", description = "the PostgresCluster whose backups to restore")
  String source;
  @Option(names = "--to", required = true, description = "RFC 3339 time (e.g. 2026-11-29T10:15:00Z) or 'latest'")
  String to;
  @Option(names = "--new-cluster", required = true, description = "name of the new PostgresCluster")
  String name;
  @Option(names = "--storage", description = "the new cluster's volume size (default: the source's; 10Gi when the "
      + "source was deleted and is restored from its backup volume)")
  String storage;

  @Override
  public Integer call() {
    try (KubeCli kube = new KubeCli(namespace, source)) {
      return kube.restore(name, "latest".equals(to) ? null : to, storage);
    }
  }
}
