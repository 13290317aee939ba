package io.pgtide.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code pgtide seal-check FILES}: refuses plaintext password Secrets. A {@code kind: Secret} with {@code data} or
 * {@code stringData} whose name a PostgresCluster's {@code spec.users[].passwordSecret} or a PostgresUser's
 * {@code spec.passwordSecret} names (in the same namespace, or either without one: kustomize and ArgoCD give it) is
 * a password in Git: commit it as a SealedSecret instead. The references are looked for in all FILES (the pre-commit
 * hook passes every tracked YAML file). Exit 0 when none is found, 1 with one line per Secret when some are.
 * A file that is not YAML (a Helm template) is reported as not checked, and does not fail the check.
 */
@Command(name = "seal-check", mixinStandardHelpOptions = true, description = "Refuse plaintext Secrets holding the passwords of declared users "
    + "(passwordSecret of a PostgresCluster or PostgresUser): exit 1 naming them, 0 when there are none.")
final class SealCheck implements Callable<Integer> {
  private static final YAMLMapper YAML = new YAMLMapper();

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "YAML files (multi-document)")
  List<Path> files;

  record Ref(String namespace, String secret, String user, String where) {
  }

  record PlainSecret(String namespace, String name, String file) {
  }

  record Result(List<String> refused, List<String> unchecked) {
  }

  @Override
  public Integer call() {
    Result result = check(files);
    result.unchecked().forEach(u -> System.err.println("pgtide seal-check: not checked: " + u));
    result.refused().forEach(r -> System.err.println("pgtide seal-check: " + r));
    if (!result.refused().isEmpty()) {
      System.err.println("pgtide seal-check: seal them (kubeseal --format yaml < secret.yaml > secret.sealed.yaml) and "
          + "commit the SealedSecret instead; see the README's \"GitOps: the Helm chart and sealed user passwords\"");
      return PgtideCli.FAILED;
    }
    return 0;
  }

  static Result check(List<Path> files) {
    List<Ref> refs = new ArrayList<>();
    List<PlainSecret> secrets = new ArrayList<>();
    List<String> unchecked = new ArrayList<>();
    for (Path file : files) {
      List<JsonNode> docs = new ArrayList<>();
      try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(file))) {
        while (it.hasNext()) {
          docs.add(it.next());
        }
      } catch (IOException | RuntimeException e) {
        unchecked.add(file + " (not YAML: " + e.getMessage().lines().findFirst().orElse("") + ")");
        continue;
      }
      for (JsonNode doc : docs) {
        read(doc, file.toString(), refs, secrets);
      }
    }
    List<String> refused = new ArrayList<>();
    for (PlainSecret s : secrets) {
      refs.stream().filter(r -> r.secret().equals(s.name())
              && (r.namespace().isEmpty() || s.namespace().isEmpty() || r.namespace().equals(s.namespace())))
          .findFirst()
          .ifPresent(r -> refused.add(s.file() + ": Secret " + qualified(s.namespace(), s.name())
              + " is in plaintext and holds the password of user " + r.user() + " (" + r.where() + ")"));
    }
    return new Result(refused, unchecked);
  }

  private static void read(JsonNode doc, String file, List<Ref> refs, List<PlainSecret> secrets) {
    if (doc == null || !doc.isObject()) {
      return;
    }
    if (doc.path("kind").asText().equals("List")) {
      doc.path("items").forEach(item -> read(item, file, refs, secrets));
      return;
    }
    String kind = doc.path("kind").asText();
    String api = doc.path("apiVersion").asText();
    String namespace = doc.path("metadata").path("namespace").asText("");
    String name = doc.path("metadata").path("name").asText("");
    if (kind.equals("Secret") && api.equals("v1")) {
      if (!doc.path("data").isEmpty() || !doc.path("stringData").isEmpty()) {
        secrets.add(new PlainSecret(namespace, name, file));
      }
    } else if (kind.equals("PostgresCluster") && api.startsWith("pgtide.io/")) {
      JsonNode users = doc.path("spec").path("users");
      for (int i = 0; i < users.size(); i++) {
        String secret = users.get(i).path("passwordSecret").path("name").asText("");
        if (!secret.isEmpty()) {
          refs.add(new Ref(namespace, secret, users.get(i).path("name").asText(),
              "PostgresCluster " + qualified(namespace, name) + " spec.users[" + i + "].passwordSecret"));
        }
      }
    } else if (kind.equals("PostgresUser") && api.startsWith("pgtide.io/")) {
      String secret = doc.path("spec").path("passwordSecret").path("name").asText("");
      if (!secret.isEmpty()) {
        refs.add(new Ref(namespace, secret, doc.path("spec").path("name").asText(name),
            "PostgresUser " + qualified(namespace, name) + " spec.passwordSecret"));
      }
    }
  }

  private static String qualified(String namespace, String name) {
    return namespace.isEmpty() ? name : namespace + "/" + name;
  }
}
