package io.pgtide.common.secrets;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** A user name and password for HTTP basic authentication (Patroni's REST API). Never logged. */
public record BasicCredentials(String username, String password) {
  public BasicCredentials {
    if (username == null || username.isBlank() || username.contains(":") || password == null || password.isEmpty()) {
      throw new IllegalArgumentException("basic credentials need a user name without ':' and a password");
    }
  }

  /** The value of an {@code Authorization} header. */
  public String header() {
    return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "BasicCredentials[username=" + username + ", password redacted]";
  }
}
