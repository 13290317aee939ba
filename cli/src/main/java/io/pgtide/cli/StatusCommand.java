package io.pgtide.cli;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pgtide status} (also {@code pgtide local status}). */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Members, roles, lag, QPS and the last failover (like patronictl list).")
final class StatusCommand implements Callable<Integer> {
  @Mixin
  CommandTarget target;
  @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table (default), json or yaml")
  String output;

  @Override
  public Integer call() throws Exception {
    if (!List.of("table", "json", "yaml").contains(output)) {
      System.err.println("pgtide: -o must be table, json or yaml, got " + output);
      return PgtideCli.USAGE;
    }
    try (KubeCli kube = target.kube()) {
      if (kube != null) {
        return kube.status(output);
      }
    }
    JsonObject state = target.state();
    if (state == null) {
      return PgtideCli.NOT_RUNNING;
    }
    JsonObject api = LocalState.get(state, "/api/clusters");
    if (!output.equals("table")) {
      System.out.print(output.equals("json") ? api.encodePrettily() + "\n" : Serialization.asYaml(api.getMap()));
      return 0;
    }
    for (Object o : api.getJsonArray("clusters", new JsonArray())) {
      System.out.print(StatusTable.render((JsonObject) o));
    }
    return 0;
  }
}
