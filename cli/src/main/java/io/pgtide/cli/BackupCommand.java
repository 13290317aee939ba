package io.pgtide.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code pgtide backup list|now|verify}: local mode (the operator's API) or Kubernetes (requests on the resource). */
@Command(name = "backup", mixinStandardHelpOptions = true,
    description = "Backups of a cluster that declares spec.backup (local mode, or Kubernetes).",
    subcommands = {BackupCommand.List.class, BackupCommand.Now.class, BackupCommand.Verify.class})
final class BackupCommand {
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Base backups, the recoverable range and the WAL archiving lag.")
  static final class List implements Callable<Integer> {
    @Mixin
    CommandTarget target;

    @Override
    public Integer call() throws Exception {
      try (KubeCli kube = target.kube()) {
        if (kube != null) {
          return kube.backupStatus();
        }
      }
      JsonObject state = target.state();
      if (state == null) {
        return PgtideCli.NOT_RUNNING;
      }
      for (Object o : LocalState.get(state, "/api/clusters").getJsonArray("clusters", new JsonArray())) {
        JsonObject backup = ((JsonObject) o).getJsonObject("backup");
        if (backup == null) {
          System.err.println("cluster " + state.getString("cluster") + " declares no spec.backup");
          return PgtideCli.FAILED;
        }
        System.out.println(backup.encodePrettily());
      }
      return 0;
    }
  }

  @Command(name = "verify", mixinStandardHelpOptions = true, description = "Restore the newest backup into a scratch "
      + "instance, check it, delete it (exit 1 when the check fails).")
  static final class Verify implements Callable<Integer> {
    @Mixin
    CommandTarget target;

    @Override
    public Integer call() throws Exception {
      return act(target, "backup-verify", "/backups/verify");
    }
  }

  @Command(name = "now", mixinStandardHelpOptions = true,
      description = "Take a base backup now (waits until it is in the repository).")
  static final class Now implements Callable<Integer> {
    @Mixin
    CommandTarget target;

    @Override
    public Integer call() throws Exception {
      return act(target, "backup", "/backups");
    }
  }

  /** A backup action: on Kubernetes a request on the resource, in local mode a POST to the operator's API. */
  private static int act(CommandTarget target, String request, String localPath) throws Exception {
    try (KubeCli kube = target.kube()) {
      if (kube != null) {
        return kube.request(request, null, false, Duration.ofMinutes(60));
      }
    }
    return LocalState.postToCluster(target, localPath);
  }
}
