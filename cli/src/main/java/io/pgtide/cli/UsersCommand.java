package io.pgtide.cli;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pgtide users sync}. */
@Command(name = "users", mixinStandardHelpOptions = true, description = "Declared users.",
    subcommands = UsersCommand.Sync.class)
final class UsersCommand {
  @Command(name = "sync", mixinStandardHelpOptions = true,
      description = "Sync declared users now (--dry-run: print the diff only).")
  static final class Sync implements Callable<Integer> {
    @Mixin
    CommandTarget target;
    @Option(names = "--dry-run")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
      try (KubeCli kube = target.kube()) {
        if (kube != null) {
          return kube.request("users-sync", null, dryRun, Duration.ofSeconds(120));
        }
      }
      JsonObject state = target.state();
      if (state == null) {
        return PgtideCli.NOT_RUNNING;
      }
      HttpResponse<String> r = LocalState.post(state, CommandTarget.clusterPath(state) + "/users/sync"
          + (dryRun ? "?dryRun=true" : ""));
      System.out.println(new JsonObject(r.body()).encodePrettily());
      return r.statusCode() == 200 ? 0 : PgtideCli.FAILED;
    }
  }
}
