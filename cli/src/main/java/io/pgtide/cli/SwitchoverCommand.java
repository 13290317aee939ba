package io.pgtide.cli;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pgtide switchover}. */
@Command(name = "switchover", mixinStandardHelpOptions = true,
    description = "Planned switchover to a named member or the best candidate.")
final class SwitchoverCommand implements Callable<Integer> {
  @Mixin
  CommandTarget target;
  @Option(names = "--to", description = "candidate member (default: the best)")
  String to;

  @Override
  public Integer call() throws Exception {
    try (KubeCli kube = target.kube()) {
      if (kube != null) {
        return kube.request("switchover", to, false, Duration.ofSeconds(120));
      }
    }
    JsonObject state = target.state();
    if (state == null) {
      return PgtideCli.NOT_RUNNING;
    }
    HttpResponse<String> r = LocalState.post(state, CommandTarget.clusterPath(state) + "/switchover"
        + (to == null ? "" : "?to=" + to));
    System.out.println(r.body());
    return r.statusCode() == 200 ? 0 : PgtideCli.FAILED;
  }
}
