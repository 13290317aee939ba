package io.pgtide.cli.local;

import io.pgtide.common.secrets.PrivateFiles;
import io.pgtide.operator.ControlAuthorizer;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Local mode's control API guard: an action needs the random token in {@code D/secrets/api.token} (created 0600 on
 * the first start, kept across restarts), which the CLI reads from the state directory. So on a shared machine only
 * who may read the cluster's secrets may switch over, sync users, apply or back up; reads stay open on loopback (the
 * dashboard, {@code status}).
 */
public final class LocalControlAuthorizer implements ControlAuthorizer {
  public static final String TOKEN_FILE = "api.token";
  private static final Subject HOLDER = new Subject("the local token holder", "local", List.of(), Map.of());
  private final byte[] token;
  private final Path file;

  public LocalControlAuthorizer(Path secretsDir) {
    this.file = secretsDir.resolve(TOKEN_FILE);
    this.token = PrivateFiles.readOrCreate(file, () -> {
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      return Base64.getUrlEncoder().withoutPadding().encode(random);
    });
  }

  @Override
  public Future<Subject> authenticate(String bearerToken) {
    // constant time: the comparison tells nothing about how much of a guess was right
    return MessageDigest.isEqual(token, bearerToken.getBytes(StandardCharsets.UTF_8)) ? Future.succeededFuture(HOLDER)
        : Future.failedFuture(new Refused("the token of " + file + " is required for actions (the CLI sends it)"));
  }

  @Override
  public Future<Boolean> allowed(Subject subject, String verb, String namespace, String name) {
    return Future.succeededFuture(true); // holding the token is the permission
  }
}
