package io.pgtide.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code pgtide promote -n NS CLUSTER}: a standby cluster stops following its source and takes writes. A request
 * the operator answers (the annotation {@code pgtide.io/request}, RBAC {@code patch}); the spec is never written,
 * so a GitOps tool's copy of it stays true. Kubernetes only: local mode has no standby clusters.
 */
@Command(name = "promote", mixinStandardHelpOptions = true,
    description = "Promote a standby cluster (spec.standby): it stops following its source and takes writes.")
final class PromoteCommand implements Callable<Integer> {
  @Mixin
  CommandTarget target;

  @Override
  public Integer call() throws Exception {
    try (KubeCli kube = target.kube()) {
      if (kube != null) {
        return kube.request("promote", null, false, Duration.ofSeconds(120));
      }
    }
    System.err.println("pgtide: promote acts on a standby cluster on Kubernetes: give [-n NS] CLUSTER");
    return PgtideCli.USAGE;
  }
}
