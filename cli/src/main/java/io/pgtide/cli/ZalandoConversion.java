package io.pgtide.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterSpec.DatabaseSpec;
import io.pgtide.common.crd.PostgresClusterSpec.UserSpec;
import io.pgtide.common.crd.PostgresUser;
import io.pgtide.common.crd.PostgresUserSpec;
import io.pgtide.operator.k8s.model.ClusterValidation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Zalando's {@code acid.zalan.do/v1} {@code postgresql} resources as PostgresCluster (and PostgresUser) resources:
 * parsed documents in, a {@link Result} out (the objects, and every field that has no pgtide counterpart with why).
 * Pure: no I/O, so each mapping rule is tested on its own and the command only reads, prints and picks the exit code.
 * The name and namespace are kept, because a cluster of the same name is what would adopt the old one's volumes
 * ({@code pgdata-<name>-<n>}).
 */
final class ZalandoConversion {
  static final String API_VERSION = "acid.zalan.do/v1";
  static final String KIND = "postgresql";
  /** Where Zalando's teamId goes: it has no field of its own in pgtide, and a label keeps it selectable. */
  static final String TEAM_LABEL = "team";

  // quotes only where YAML needs them (numbers and booleans held as strings keep theirs), as people write manifests
  private static final YAMLMapper YAML = YAMLMapper.builder()
      .enable(com.fasterxml.jackson.dataformat.yaml.YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(com.fasterxml.jackson.dataformat.yaml.YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS).build();
  /** kubectl's copy of the applied manifest: the old resource's, meaningless on the new one. */
  private static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
  private static final Pattern SIZE = Pattern.compile(PostgresClusterSpec.SIZE_PATTERN);
  private static final Pattern CLUSTER_NAME = Pattern.compile(PostgresCluster.NAME_PATTERN);
  private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");

  /** The flags Zalando accepts (case-insensitive), each with its negation. */
  private static final Set<String> FLAGS = Set.of("SUPERUSER", "CREATEDB", "CREATEROLE", "LOGIN", "REPLICATION",
      "INHERIT", "BYPASSRLS");

  /** Spec fields pgtide has no counterpart for, with why; a field not named here gets the generic reason. */
  private static final Map<String, String> WHY = Map.ofEntries(
      Map.entry("dockerImage", "pgtide runs its own Spilo image with the sidecar (spec.image takes only an allowed"
          + " one); Zalando's image is not used"),
      Map.entry("podAnnotations", "PostgresCluster has no pod annotations: the operator owns the pod template"),
      Map.entry("serviceAnnotations", "PostgresCluster has no Service annotations"),
      Map.entry("masterServiceAnnotations", "PostgresCluster has no Service annotations"),
      Map.entry("replicaServiceAnnotations", "PostgresCluster has no Service annotations"),
      Map.entry("allowedSourceRanges", "pgtide makes no load balancers"),
      Map.entry("connectionPooler", "pgtide runs no connection pooler"),
      Map.entry("usersWithSecretRotation", "pgtide has no scheduled password rotation: a changed passwordSecret"
          + " rotates a password"),
      Map.entry("usersWithInPlaceSecretRotation", "pgtide has no scheduled password rotation: a changed"
          + " passwordSecret rotates a password"),
      Map.entry("usersIgnoringSecretRotation", "pgtide has no scheduled password rotation"),
      Map.entry("maintenanceWindows", "pgtide has no maintenance windows"),
      Map.entry("clone", "pgtide clones only from its own backups (spec.bootstrap.recovery)"),
      Map.entry("standby", "pgtide has no standby clusters"),
      Map.entry("sidecars", "the operator owns the pod template: no extra containers"),
      Map.entry("initContainers", "the operator owns the pod template: no extra containers"),
      Map.entry("additionalVolumes", "the operator owns the pod template: no extra volumes"),
      Map.entry("env", "the operator owns the pod template: no extra environment"),
      Map.entry("envFrom", "the operator owns the pod template: no extra environment"),
      Map.entry("logicalBackupSchedule", "pgtide backs up with Barman (spec.backup), not pg_dump"),
      Map.entry("logicalBackupRetention", "pgtide backs up with Barman (spec.backup), not pg_dump"),
      Map.entry("spiloRunAsUser", "the operator sets the pod's security context"),
      Map.entry("spiloRunAsGroup", "the operator sets the pod's security context"),
      Map.entry("spiloFSGroup", "the operator sets the pod's security context"),
      Map.entry("streams", "pgtide has no change data capture streams"),
      Map.entry("schedulerName", "spec.scheduling has no scheduler name"),
      Map.entry("livenessProbe", "the operator sets the probes"),
      Map.entry("tls", "pgtide issues server certificates from a per-cluster CA; a Secret of your own is not used"),
      Map.entry("masterNodePort", "pgtide makes no NodePort Services"),
      Map.entry("replicaNodePort", "pgtide makes no NodePort Services"),
      Map.entry("masterPoolerNodePort", "pgtide makes no NodePort Services"),
      Map.entry("replicaPoolerNodePort", "pgtide makes no NodePort Services"));

  /** Spec fields that are mappings in Zalando's CRD: anything else in them would be read as nothing. */
  private static final Set<String> MAPPINGS = Set.of("volume", "postgresql", "patroni", "resources", "users",
      "databases", "preparedDatabases", "nodeAffinity");

  /** Zalando switches that change nothing when false (pgtide has none of what they turn on). */
  private static final Map<String, String> SWITCHES = Map.ofEntries(
      Map.entry("enableMasterLoadBalancer", "pgtide makes no load balancers"),
      Map.entry("enableReplicaLoadBalancer", "pgtide makes no load balancers"),
      Map.entry("enableMasterPoolerLoadBalancer", "pgtide makes no load balancers"),
      Map.entry("enableReplicaPoolerLoadBalancer", "pgtide makes no load balancers"),
      Map.entry("enableMasterNodePort", "pgtide makes no NodePort Services"),
      Map.entry("enableReplicaNodePort", "pgtide makes no NodePort Services"),
      Map.entry("enableMasterPoolerNodePort", "pgtide makes no NodePort Services"),
      Map.entry("enableReplicaPoolerNodePort", "pgtide makes no NodePort Services"),
      Map.entry("enableConnectionPooler", "pgtide runs no connection pooler"),
      Map.entry("enableReplicaConnectionPooler", "pgtide runs no connection pooler"),
      Map.entry("enableLogicalBackup", "pgtide backs up with Barman (spec.backup), not pg_dump"));

  private ZalandoConversion() {
  }

  /** Input that is not a Zalando cluster at all: nothing is converted. */
  static final class BadInput extends RuntimeException {
    BadInput(String message) {
      super(message);
    }
  }

  /** A field of {@code resource} (namespace/name) that the output does not express, and why. */
  record Unconvertible(String resource, String path, String why) {
    String line() {
      return resource + ": " + path + ": " + why;
    }
  }

  record Result(List<HasMetadata> objects, List<Unconvertible> unconvertible) {
  }

  /** Every YAML document of {@code text}; the items of a {@code kind: List} count as documents. */
  static List<JsonNode> parse(String text, String source) {
    List<JsonNode> docs = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(text.getBytes(StandardCharsets.UTF_8))) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc == null || doc.isNull() || doc.isMissingNode()) {
          continue; // an empty document between two separators
        }
        if (doc.path("kind").asText().endsWith("List") && doc.path("items").isArray()) {
          doc.path("items").forEach(docs::add);
        } else {
          docs.add(doc);
        }
      }
    } catch (IOException | RuntimeException e) {
      String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new BadInput(source + " is not YAML: " + m.lines().findFirst().orElse(m));
    }
    if (docs.isEmpty()) {
      throw new BadInput(source + " holds no document");
    }
    return docs;
  }

  /**
   * Converts every document; {@code separateUsers} puts each user in a PostgresUser of its own (a team's GitOps app)
   * instead of the cluster's {@code spec.users}. Throws {@link BadInput} when a document is not a Zalando cluster.
   */
  static Result convert(List<JsonNode> docs, boolean separateUsers) {
    List<HasMetadata> objects = new ArrayList<>();
    List<Unconvertible> lost = new ArrayList<>();
    for (int i = 0; i < docs.size(); i++) {
      one(docs.get(i), "document " + (i + 1), separateUsers, objects, lost);
    }
    return new Result(objects, lost);
  }

  private static void one(JsonNode doc, String where, boolean separateUsers, List<HasMetadata> objects,
      List<Unconvertible> lost) {
    if (!doc.isObject()) {
      throw new BadInput(where + " is not a mapping");
    }
    String api = doc.path("apiVersion").asText("");
    String kind = doc.path("kind").asText("");
    if (!API_VERSION.equals(api) || !KIND.equals(kind)) {
      throw new BadInput(where + ": kind must be " + KIND + " and apiVersion " + API_VERSION + ", got kind '" + kind
          + "' and apiVersion '" + api + "'");
    }
    JsonNode meta = doc.path("metadata");
    String name = meta.path("name").asText("");
    if (name.isBlank()) {
      throw new BadInput(where + ": metadata.name is required");
    }
    String namespace = meta.path("namespace").asText("");
    String resource = namespace.isEmpty() ? name : namespace + "/" + name;
    JsonNode spec = doc.path("spec");
    if (!spec.isObject()) {
      throw new BadInput(resource + ": spec is missing");
    }
    String team = spec.path("teamId").asText("");
    if (team.isBlank()) {
      throw new BadInput(resource + ": spec.teamId is required (Zalando's CRD requires it)");
    }
    // the name is kept whether or not it starts with "<teamId>-": Zalando requires that prefix only with its
    // enable_team_id_clustername_prefix, which is off by default
    Lost out = new Lost(resource, lost);
    PostgresCluster cluster = new PostgresCluster();
    ObjectMeta m = metadata(meta, name, namespace, team, out);
    cluster.setMetadata(m);
    PostgresClusterSpec s = new PostgresClusterSpec();
    cluster.setSpec(s);
    if (!CLUSTER_NAME.matcher(name).matches() || name.length() > PostgresCluster.NAME_MAX_LENGTH) {
      out.add("metadata.name", PostgresCluster.NAME_RULE + "; got '" + name + "'");
    }

    Iterator<Map.Entry<String, JsonNode>> fields = spec.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String key = f.getKey();
      JsonNode v = f.getValue();
      String path = "spec." + key;
      if (empty(v)) {
        continue; // nothing asked for, nothing lost
      }
      if (MAPPINGS.contains(key) && !v.isObject()) {
        out.add(path, "expected a mapping, got '" + v + "'");
        continue;
      }
      field(key, v, path, s, out);
    }
    if (spec.path("preparedDatabases").isObject()) {
      prepared(spec.get("preparedDatabases"), name, s, out);
    }
    // values Zalando accepts may break a rule of pgtide's (Patroni's ttl against loop_wait and retry_timeout, a
    // parameter's type): the rules validate and the operator apply, first problem only, as they report it
    String problem = ClusterValidation.problem(s);
    if (problem == null) {
      problem = ClusterValidation.kubernetesProblem(s);
    }
    if (problem != null) {
      out.add("spec", "the converted spec breaks a pgtide rule: " + problem);
    }

    objects.add(cluster);
    if (separateUsers) {
      separateUsers(s, name, m.getNamespace(), objects, out);
    }
  }

  /** The PostgresCluster's metadata: Zalando's, with the team as a label and Zalando's own instructions dropped. */
  private static ObjectMeta metadata(JsonNode meta, String name, String namespace, String team, Lost out) {
    ObjectMeta m = new ObjectMeta();
    m.setName(name);
    m.setNamespace(namespace.isEmpty() ? null : namespace);
    Map<String, String> labels = new LinkedHashMap<>(strings(meta.path("labels")));
    labels.put(TEAM_LABEL, team);
    m.setLabels(labels);
    Map<String, String> annotations = new LinkedHashMap<>();
    strings(meta.path("annotations")).forEach((k, v) -> {
      if (k.startsWith("acid.zalan.do/") || k.startsWith("delete-")) {
        out.add("metadata.annotations." + k, "an instruction to Zalando's operator; pgtide has no counterpart");
      } else if (!k.equals(LAST_APPLIED)) {
        annotations.put(k, v);
      }
    });
    m.setAnnotations(annotations.isEmpty() ? null : annotations);
    return m;
  }

  /** One field of Zalando's spec into {@code s}, or into {@code out} with the reason it cannot be. */
  private static void field(String key, JsonNode v, String path, PostgresClusterSpec s, Lost out) {
    switch (key) {
      case "teamId" -> { } // required above, carried as a label
      case "numberOfInstances" -> instances(v, s, out);
      case "volume" -> volume(v, s, out);
      case "postgresql" -> postgresql(v, s, out);
      case "patroni" -> patroni(v, s, out);
      case "resources" -> resources(v, s, out);
      case "users" -> users(v, s, out);
      case "databases" -> databases(v, s, out);
      case "preparedDatabases" -> { } // after users and databases, whatever order the file has
      case "tolerations" -> {
        List<Toleration> t = list(v, Toleration.class, path, out);
        if (t != null) {
          scheduling(s).tolerations = t;
        }
      }
      case "nodeAffinity" -> {
        try {
          Affinity a = new Affinity();
          a.setNodeAffinity(Serialization.jsonMapper().convertValue(v, NodeAffinity.class));
          scheduling(s).affinity = a;
        } catch (IllegalArgumentException e) {
          out.add(path, "not a Kubernetes NodeAffinity: " + firstLine(e));
        }
      }
      case "topologySpreadConstraints" -> {
        List<TopologySpreadConstraint> t = list(v, TopologySpreadConstraint.class, path, out);
        if (t != null) {
          scheduling(s).topologySpreadConstraints = t;
        }
      }
      case "podPriorityClassName" -> scheduling(s).priorityClassName = v.asText();
      case "enableShmVolume" -> {
        if (!v.asBoolean()) {
          out.add(path, "pgtide always mounts a memory-backed /dev/shm");
        }
      }
      case "tls" -> {
        if (!v.path("secretName").asText("").isEmpty()) {
          out.add(path, WHY.get(key));
        }
      }
      default -> {
        if (SWITCHES.containsKey(key)) {
          if (v.asBoolean()) {
            out.add(path, SWITCHES.get(key));
          }
        } else {
          out.add(path, WHY.getOrDefault(key, "PostgresCluster has no field for it"));
        }
      }
    }
  }

  /** {@code --separate-users}: each user as a PostgresUser of its own, where a name can be made from it. */
  private static void separateUsers(PostgresClusterSpec s, String name, String namespace, List<HasMetadata> objects,
                                    Lost out) {
    List<UserSpec> inline = new ArrayList<>();
    for (UserSpec u : s.users) {
      String part = u.name.toLowerCase(Locale.ROOT).replace('_', '-');
      if (DNS_LABEL.matcher(part).matches() && name.length() + 1 + part.length() <= 253) {
        objects.add(user(u, name + "-" + part, name, namespace));
      } else {
        out.add("spec.users." + u.name, "no PostgresUser name can be made from it; it stays in spec.users");
        inline.add(u);
      }
    }
    s.users = inline;
  }

  /** Collects the unconvertible fields of one resource. */
  private record Lost(String resource, List<Unconvertible> into) {
    void add(String path, String why) {
      into.add(new Unconvertible(resource, path, why));
    }
  }

  private static void instances(JsonNode v, PostgresClusterSpec s, Lost out) {
    int n = v.asInt(-1);
    if (!v.canConvertToInt() || n < 1 || n > 32) {
      out.add("spec.numberOfInstances", "pgtide runs 1 to 32 members, got " + v.asText()
          + (n == 0 ? " (Zalando's stopped cluster has no counterpart)" : ""));
      return;
    }
    s.replicas = n;
  }

  private static void volume(JsonNode v, PostgresClusterSpec s, Lost out) {
    v.fields().forEachRemaining(f -> {
      String path = "spec.volume." + f.getKey();
      String text = f.getValue().asText("");
      switch (f.getKey()) {
        case "size" -> {
          if (SIZE.matcher(text).matches()) {
            s.storage.size = text;
          } else {
            out.add(path, "pgtide takes a quantity of digits and a suffix (e.g. 10Gi), got '" + text + "'");
          }
        }
        case "storageClass" -> s.storage.storageClass = text.isEmpty() ? null : text;
        default -> {
          if (!empty(f.getValue())) {
            out.add(path, "spec.storage has only size, storageClass and pvcRetention");
          }
        }
      }
    });
  }

  private static void postgresql(JsonNode v, PostgresClusterSpec s, Lost out) {
    v.fields().forEachRemaining(f -> {
      String path = "spec.postgresql." + f.getKey();
      switch (f.getKey()) {
        case "version" -> {
          String text = f.getValue().asText("");
          int major = text.matches("\\d{1,3}") ? Integer.parseInt(text) : -1;
          if (major >= 13 && major <= 17) {
            s.postgresVersion = major;
          } else {
            out.add(path, "pgtide runs PostgreSQL 13 to 17, got '" + text + "'");
          }
        }
        case "parameters" -> s.parameters.putAll(strings(f.getValue()));
        default -> out.add(path, "PostgresCluster has no field for it");
      }
    });
  }

  private static void patroni(JsonNode v, PostgresClusterSpec s, Lost out) {
    v.fields().forEachRemaining(f -> {
      String path = "spec.patroni." + f.getKey();
      JsonNode x = f.getValue();
      switch (f.getKey()) {
        // Zalando leaves a 0 out (omitempty): Patroni's default, which is pgtide's too
        case "ttl" -> timing(x, 5, path, out, n -> s.patroni.ttl = n);
        case "loop_wait" -> timing(x, 1, path, out, n -> s.patroni.loopWait = n);
        case "retry_timeout" -> timing(x, 1, path, out, n -> s.patroni.retryTimeout = n);
        case "maximum_lag_on_failover" -> {
          if (x.canConvertToLong() && x.asLong() >= 0) {
            s.patroni.maximumLagOnFailover = x.asLong();
          } else {
            out.add(path, "expected a number of bytes, got '" + x.asText() + "'");
          }
        }
        case "synchronous_mode" -> s.patroni.synchronousMode = x.asBoolean();
        // the values below are Patroni's defaults, which pgtide runs with: only another value is lost
        case "synchronous_mode_strict", "failsafe_mode" -> {
          if (x.asBoolean()) {
            out.add(path, "pgtide runs Patroni without it");
          }
        }
        case "synchronous_node_count" -> {
          if (x.asInt(1) != 1) {
            out.add(path, "pgtide runs one synchronous standby in synchronous mode");
          }
        }
        case "initdb" -> out.add(path, "pgtide runs initdb with its own options (an adopted cluster is past initdb)");
        case "pg_hba" -> out.add(path, "the operator writes pg_hba itself");
        case "slots" -> out.add(path, "pgtide declares no permanent replication slots");
        default -> out.add(path, "spec.patroni has no field for it");
      }
    });
  }

  private static void timing(JsonNode x, int min, String path, Lost out, java.util.function.IntConsumer set) {
    if (!x.canConvertToInt() || x.asInt() < 0) {
      out.add(path, "expected seconds, got '" + x.asText() + "'");
    } else if (x.asInt() > 0 && x.asInt() < min) {
      out.add(path, "pgtide's minimum is " + min + ", got " + x.asInt());
    } else if (x.asInt() > 0) {
      set.accept(x.asInt());
    }
  }

  private static void resources(JsonNode v, PostgresClusterSpec s, Lost out) {
    v.fields().forEachRemaining(f -> {
      if (f.getKey().equals("requests") || f.getKey().equals("limits")) {
        Map<String, String> q = strings(f.getValue());
        if (!q.isEmpty()) {
          s.resources.put(f.getKey(), q);
        }
      } else if (!empty(f.getValue())) {
        out.add("spec.resources." + f.getKey(), "resources are requests and limits");
      }
    });
  }

  private static void users(JsonNode v, PostgresClusterSpec s, Lost out) {
    v.fields().forEachRemaining(f -> {
      String path = "spec.users." + f.getKey();
      Set<String> flags = new LinkedHashSet<>();
      if (!f.getValue().isNull() && !f.getValue().isArray()) {
        out.add(path, "expected a list of flags, got '" + f.getValue() + "'");
        return;
      }
      boolean usable = true;
      for (JsonNode flag : f.getValue()) {
        String upper = flag.asText().toUpperCase(Locale.ROOT);
        String base = upper.startsWith("NO") && FLAGS.contains(upper.substring(2)) ? upper.substring(2) : upper;
        if (!FLAGS.contains(base)) {
          out.add(path, "unknown flag '" + flag.asText() + "' (Zalando refuses it too)");
          usable = false;
        } else if (flags.contains(upper.equals(base) ? "NO" + base : base)) {
          out.add(path, "conflicting flags " + base + " and NO" + base + " (Zalando refuses them too)");
          usable = false;
        }
        flags.add(upper);
      }
      if (!usable) {
        return;
      }
      UserSpec u = new UserSpec();
      u.name = f.getKey();
      // Zalando adds LOGIN unless NOLOGIN is given; INHERIT is PostgreSQL's default, as it is pgtide's
      u.login = !flags.contains("NOLOGIN");
      u.inherit = !flags.contains("NOINHERIT");
      u.superuser = flags.contains("SUPERUSER");
      u.createdb = flags.contains("CREATEDB");
      u.createrole = flags.contains("CREATEROLE");
      u.replication = flags.contains("REPLICATION");
      u.bypassrls = flags.contains("BYPASSRLS");
      if (u.name.getBytes(StandardCharsets.UTF_8).length > 63) {
        out.add(path, "a role name is at most 63 bytes");
        return;
      }
      s.users.add(u);
    });
  }

  private static void databases(JsonNode v, PostgresClusterSpec s, Lost out) {
    v.fields().forEachRemaining(f -> {
      DatabaseSpec d = new DatabaseSpec();
      d.name = f.getKey();
      d.owner = f.getValue().asText("").isEmpty() ? null : f.getValue().asText();
      if (d.name.getBytes(StandardCharsets.UTF_8).length > 63) {
        out.add("spec.databases." + f.getKey(), "a database name is at most 63 bytes");
        return;
      }
      s.databases.add(d);
    });
  }

  /**
   * Zalando's prepared database {@code db}: a NOLOGIN owner role {@code db_owner} that owns it, group roles
   * {@code db_reader} and {@code db_writer} (pgtide's {@code defaultRoles} makes the same two names), and with
   * {@code defaultUsers} the login roles {@code db_owner_user}, {@code db_reader_user}, {@code db_writer_user} in
   * them. Its schemas (by default {@code data}), their roles, search_path and extensions have no pgtide counterpart.
   */
  private static void prepared(JsonNode v, String cluster, PostgresClusterSpec s, Lost out) {
    Map<String, JsonNode> dbs = new LinkedHashMap<>();
    v.fields().forEachRemaining(f -> dbs.put(f.getKey(), f.getValue()));
    if (dbs.isEmpty()) {
      // Zalando's rule for "preparedDatabases: {}": one database named after the cluster
      dbs.put(cluster.replace('-', '_'), YAML.createObjectNode());
    }
    dbs.forEach((db, p) -> {
      String path = "spec.preparedDatabases." + db;
      if (s.databases.stream().anyMatch(d -> d.name.equals(db))) {
        out.add(path, "also declared in spec.databases; the prepared one is not added");
        return;
      }
      UserSpec owner = group(db + "_owner", s, out, path);
      DatabaseSpec d = new DatabaseSpec();
      d.name = db;
      d.owner = owner == null ? null : owner.name;
      d.defaultRoles = true;
      s.databases.add(d);
      if (p.path("defaultUsers").asBoolean(false)) {
        for (String role : List.of("owner", "reader", "writer")) {
          UserSpec u = new UserSpec();
          u.name = db + "_" + role + "_user";
          u.memberOf.add(db + "_" + role);
          add(u, s, out, path);
        }
      }
      JsonNode schemas = p.path("schemas");
      if (empty(schemas)) {
        out.add(path + ".schemas", "Zalando makes schema data with roles " + db + "_data_owner, " + db
            + "_data_reader and " + db + "_data_writer and sets search_path; pgtide makes no schemas or schema"
            + " roles (an adopted database keeps its schemas; the roles are not managed)");
      } else {
        schemas.fieldNames().forEachRemaining(schema -> out.add(path + ".schemas." + schema, "pgtide makes no"
            + " schemas or schema roles (an adopted database keeps its schemas; the roles are not managed)"));
      }
      p.fields().forEachRemaining(f -> {
        switch (f.getKey()) {
          case "defaultUsers", "schemas" -> { }
          case "extensions" -> {
            if (!empty(f.getValue())) {
              out.add(path + ".extensions", "pgtide creates no extensions (an adopted database keeps its own)");
            }
          }
          case "secretNamespace" -> out.add(path + ".secretNamespace",
              "pgtide keeps a user's Secret in the cluster's namespace");
          default -> out.add(path + "." + f.getKey(), "preparedDatabases has no pgtide counterpart for it");
        }
      });
    });
  }

  private static UserSpec group(String name, PostgresClusterSpec s, Lost out, String path) {
    UserSpec u = new UserSpec();
    u.name = name;
    u.login = false;
    return add(u, s, out, path);
  }

  private static UserSpec add(UserSpec u, PostgresClusterSpec s, Lost out, String path) {
    if (s.users.stream().anyMatch(x -> x.name.equals(u.name))) {
      out.add(path, "its role " + u.name + " is also declared in spec.users; that declaration is kept");
      return u;
    }
    s.users.add(u);
    return u;
  }

  private static PostgresUser user(UserSpec u, String name, String cluster, String namespace) {
    PostgresUser r = new PostgresUser();
    r.setMetadata(new ObjectMeta());
    r.getMetadata().setName(name);
    r.getMetadata().setNamespace(namespace);
    PostgresUserSpec spec = Serialization.jsonMapper().convertValue(u, PostgresUserSpec.class);
    spec.cluster = cluster;
    r.setSpec(spec);
    return r;
  }

  private static PostgresClusterSpec.SchedulingSpec scheduling(PostgresClusterSpec s) {
    if (s.scheduling == null) {
      s.scheduling = new PostgresClusterSpec.SchedulingSpec();
    }
    return s.scheduling;
  }

  /** The items as Kubernetes types, or null after listing why not (not a list, or an item of the wrong shape). */
  private static <T> List<T> list(JsonNode v, Class<T> type, String path, Lost out) {
    if (!v.isArray()) {
      out.add(path, "expected a list, got '" + v + "'");
      return null;
    }
    List<T> items = new ArrayList<>();
    for (JsonNode item : v) {
      try {
        items.add(Serialization.jsonMapper().convertValue(item, type));
      } catch (IllegalArgumentException e) {
        out.add(path, "not a list of Kubernetes " + type.getSimpleName() + ": " + firstLine(e));
        return null;
      }
    }
    return items;
  }

  private static String firstLine(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.lines().findFirst().orElse(m);
  }

  private static Map<String, String> strings(JsonNode v) {
    Map<String, String> m = new LinkedHashMap<>();
    v.fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue().asText()));
    return m;
  }

  private static boolean empty(JsonNode v) {
    return v == null || v.isNull() || v.isMissingNode() || (v.isContainerNode() && v.isEmpty())
        || (v.isTextual() && v.asText().isEmpty());
  }

  /**
   * The objects as YAML documents, each holding only what differs from a fresh object's defaults (the CRD
   * applies those), plus {@code replicas} and {@code postgresVersion}, which an adopted cluster must not guess.
   */
  static String yaml(List<HasMetadata> objects) {
    StringBuilder out = new StringBuilder();
    for (HasMetadata o : objects) {
      ObjectNode tree = Serialization.jsonMapper().valueToTree(o);
      JsonNode defaults = Serialization.jsonMapper().valueToTree(
          o instanceof PostgresCluster ? new PostgresClusterSpec() : new PostgresUserSpec());
      ObjectNode spec = (ObjectNode) tree.get("spec");
      prune(spec, defaults);
      if (o instanceof PostgresCluster c) {
        spec.put("postgresVersion", c.getSpec().postgresVersion);
        spec.put("replicas", c.getSpec().replicas);
      }
      tree.remove("status");
      try {
        out.append(YAML.writeValueAsString(tree));
      } catch (IOException e) {
        throw new IllegalStateException("a converted object did not serialize", e);
      }
    }
    return out.toString();
  }

  /** Removes from {@code node} every field equal to the default's, and what that leaves empty. */
  private static void prune(ObjectNode node, JsonNode defaults) {
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> f = it.next();
      JsonNode d = defaults.get(f.getKey());
      if (f.getValue().isNull() || f.getValue().equals(d)) {
        it.remove();
      } else if (f.getValue().isObject() && d != null && d.isObject()) {
        prune((ObjectNode) f.getValue(), d);
        if (f.getValue().isEmpty()) {
          it.remove();
        }
      } else if (f.getValue().isArray()) {
        // list items (users, databases) are pruned against a fresh item of their kind
        for (JsonNode item : f.getValue()) {
          if (item.isObject() && (f.getKey().equals("users") || f.getKey().equals("databases"))) {
            prune((ObjectNode) item, Serialization.jsonMapper().valueToTree(
                f.getKey().equals("users") ? new UserSpec() : new DatabaseSpec()));
          }
        }
      }
    }
  }
}
