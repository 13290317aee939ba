package io.pgtide.operator.k8s.reconcile;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.FileInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Maps recorded API requests ("METHOD /path?query") to RBAC (group, resource, verb) and checks them. */
final class RbacCheck {
  private RbacCheck() {
  }

  static List<String> denied(Path clusterRoleFile, List<String> requests) throws Exception {
    List<PolicyRule> rules = new ArrayList<>();
    try (var in = new FileInputStream(clusterRoleFile.toFile())) {
      Object parsed = Serialization.unmarshal(in);
      List<?> items = parsed instanceof List<?> l ? l
          : parsed instanceof io.fabric8.kubernetes.api.model.KubernetesList kl ? kl.getItems() : List.of(parsed);
      for (Object o : items) {
        if (o instanceof ClusterRole role) {
          rules.addAll(role.getRules());
        }
      }
    }
    List<String> denied = new ArrayList<>();
    for (String request : requests) {
      String[] parts = request.split(" ", 2);
      String[] need = rbac(parts[0], parts[1]);
      boolean ok = rules.stream().anyMatch(r -> r.getApiGroups().contains(need[0])
          && r.getResources().contains(need[1]) && r.getVerbs().contains(need[2]));
      if (!ok) {
        denied.add(request + " -> " + String.join(" ", need));
      }
    }
    return denied;
  }

  /** {group, resource[/subresource], verb} of one request. */
  static String[] rbac(String method, String pathAndQuery) {
    String path = pathAndQuery.split("\\?", 2)[0];
    boolean watch = pathAndQuery.contains("watch=true");
    String[] seg = path.replaceAll("^/", "").split("/");
    int i;
    String group;
    if (seg[0].equals("api")) {
      group = "";
      i = 2;
    } else {
      group = seg[1];
      i = 3;
    }
    if (i < seg.length && seg[i].equals("namespaces") && i + 2 < seg.length) {
      i += 2;
    }
    String resource = seg[i];
    boolean named = i + 1 < seg.length;
    if (i + 2 < seg.length) {
      resource = resource + "/" + seg[i + 2];
    }
    String verb = switch (method) {
      case "GET" -> watch ? "watch" : named ? "get" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> named ? "delete" : "deletecollection";
      default -> method.toLowerCase();
    };
    return new String[] {group, resource, verb};
  }
}
