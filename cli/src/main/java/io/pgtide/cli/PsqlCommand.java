package io.pgtide.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgtide psql}: Kubernetes only. */
@Command(name = "psql", mixinStandardHelpOptions = true, description = "Kubernetes: psql to the primary as the "
    + "superuser (the Secret read and a port-forward to the primary pod with your kubeconfig credentials); arguments "
    + "after -- go to psql.")
final class PsqlCommand implements Callable<Integer> {
  @Option(names = {"-n", "--namespace"}, description = "the cluster's namespace (default: the kubeconfig context's)")
  String namespace;
  @Parameters(index = "0", paramLabel = "CLUSTER")
  String cluster;
  @Parameters(index = "1..*", paramLabel = "PSQL_ARG")
  List<String> psqlArgs = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    try (KubeCli kube = new KubeCli(namespace, cluster)) {
      return kube.psql(psqlArgs);
    }
  }
}
