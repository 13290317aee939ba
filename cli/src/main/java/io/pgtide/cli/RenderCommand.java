package io.pgtide.cli;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.ClusterFile;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.operator.k8s.model.Render;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgtide render}. */
@Command(name = "render", mixinStandardHelpOptions = true, description = "Print every Kubernetes object the operator "
    + "would create for a PostgresCluster file, as YAML (Secrets without their generated data).")
final class RenderCommand implements Callable<Integer> {
  @Option(names = {"-f", "--file"}, required = true)
  Path file;

  @Override
  public Integer call() {
    PostgresCluster resource;
    try {
      resource = ClusterFile.load(file, false);
    } catch (RuntimeException e) {
      return ValidateCommand.refused(e);
    }
    if (resource.getMetadata().getNamespace() == null) {
      resource.getMetadata().setNamespace("default");
    }
    System.out.print(Render.yaml(resource, OperatorConfig.fromEnv(System.getenv())));
    return 0;
  }
}
