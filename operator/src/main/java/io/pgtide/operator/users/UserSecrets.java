package io.pgtide.operator.users;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where a user's generated password lives: the Secret {@code <part>.<cluster>.credentials.postgresql.pgtide.io} on
 * Kubernetes, a file of that name in local mode — one per role, never shared. Pure.
 *
 * <p>The part is the role name lower-cased with {@code _} as {@code -} (as Zalando names them, so existing users keep
 * their Secrets) when the role name is ASCII and that gives a DNS subdomain. Any other role name (a space, {@code ;},
 * a quote, non-ASCII, a leading {@code _}) gets its letters and digits as a DNS label plus {@code -} and the first 8
 * hex digits of the SHA-256 of its exact UTF-8 bytes: a valid Secret name of its own. Folding can still make two
 * roles meet ({@code App}/{@code app}, {@code my_user}/{@code my-user}) or meet the superuser's or the standby's
 * Secret ({@code Postgres}); such users are refused, each naming the other, and no password is read for them.
 */
public final class UserSecrets {
  public static final String SUFFIX = ".credentials.postgresql.pgtide.io";
  /** The roles whose Secrets the cluster itself owns (superuser and replication), and what they are. */
  private static final Map<String, String> OWN = Map.of("postgres", "the superuser", "standby",
      "the replication role");
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_.-]+");
  private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** Leaves room for "-" and the hash in one 63-character DNS label. */
  private static final int READABLE = 54;

  private UserSecrets() {
  }

  /** The Secret (or local file) name of {@code user}'s generated password in {@code cluster}. */
  public static String secretName(String user, String cluster) {
    return part(user) + "." + cluster + SUFFIX;
  }

  /** The part of the name that stands for the role (see the class comment). */
  static String part(String user) {
    String folded = user.toLowerCase(Locale.ROOT).replace('_', '-');
    if (PLAIN.matcher(user).matches() && SUBDOMAIN.matcher(folded).matches()) {
      return folded;
    }
    // letters with accents keep their letter (é → e); anything else outside a-z0-9 becomes one '-'
    String ascii = Normalizer.normalize(user, Normalizer.Form.NFKD).replaceAll("\\p{M}", "")
        .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    String readable = trimDashes(ascii.length() > READABLE ? ascii.substring(0, READABLE) : ascii);
    return (readable.isEmpty() ? "user" : readable) + "-" + hash(user);
  }

  /**
   * The users that cannot have a generated Secret of their own, with the reason: two users whose names meet, or a
   * user meeting the superuser's or the standby's Secret. Only users that read a generated password count (one with
   * a passwordSecret, without login, with disablePassword or ensure: absent reads none).
   */
  public static Map<String, String> refused(String cluster, List<PostgresClusterSpec.UserSpec> users) {
    Map<String, List<String>> bySecret = new LinkedHashMap<>();
    for (PostgresClusterSpec.UserSpec u : users) {
      if (DesiredRoles.needsPassword(u) && u.passwordSecret == null) {
        bySecret.computeIfAbsent(secretName(u.name, cluster), k -> new ArrayList<>()).add(u.name);
      }
    }
    Map<String, String> refused = new LinkedHashMap<>();
    bySecret.forEach((secret, names) -> {
      String own = OWN.entrySet().stream().filter(e -> secretName(e.getKey(), cluster).equals(secret))
          .map(e -> e.getValue() + " " + e.getKey()).findFirst().orElse(null);
      for (String name : names) {
        List<String> others = names.stream().filter(n -> !n.equals(name)).map(n -> "user " + n).toList();
        List<String> sharing = new ArrayList<>(others);
        if (own != null) {
          sharing.add(0, own);
        }
        if (!sharing.isEmpty()) {
          refused.put(name, "user " + name + " would share the password Secret " + secret + " with "
              + String.join(" and ", sharing) + "; rename it or give it a passwordSecret");
        }
      }
    });
    return refused;
  }

  private static String trimDashes(String s) {
    int from = 0;
    int to = s.length();
    while (from < to && s.charAt(from) == '-') {
      from++;
    }
    while (to > from && s.charAt(to - 1) == '-') {
      to--;
    }
    return s.substring(from, to);
  }

  private static String hash(String user) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(user.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
