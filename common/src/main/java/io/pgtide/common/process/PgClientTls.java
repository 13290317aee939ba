package io.pgtide.common.process;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a libpq client (psql, Barman) checks PostgreSQL's certificate: {@code sslmode}, the CA it trusts
 * ({@code sslrootcert}) and, when the host name to verify is not the address to dial, that address
 * ({@code hostaddr}: libpq dials it and checks the certificate against {@code host}). Pure.
 */
public record PgClientTls(String sslmode, Path rootCert, String hostaddr) {

  /** TLS, the server's certificate from {@code rootCert}'s CA and naming the host dialled. */
  public static PgClientTls verifyFull(Path rootCert, String hostaddr) {
    return new PgClientTls("verify-full", rootCert, hostaddr == null || hostaddr.isBlank() ? null : hostaddr);
  }

  /** libpq's keywords as a conninfo suffix (each {@code " key=value"}), "" for none. */
  public String conninfo() {
    StringBuilder out = new StringBuilder();
    environmentKeywords().forEach((k, v) -> out.append(' ').append(k).append('=').append(quote(v)));
    return out.toString();
  }

  /** The same as libpq's environment variables ({@code PGSSLMODE}, {@code PGSSLROOTCERT}, {@code PGHOSTADDR}). */
  public Map<String, String> environment() {
    Map<String, String> out = new LinkedHashMap<>();
    environmentKeywords().forEach((k, v) -> out.put("PG" + k.toUpperCase(java.util.Locale.ROOT), v));
    return out;
  }

  private Map<String, String> environmentKeywords() {
    Map<String, String> out = new LinkedHashMap<>();
    if (sslmode != null) {
      out.put("sslmode", sslmode);
    }
    if (rootCert != null) {
      out.put("sslrootcert", rootCert.toString());
    }
    if (hostaddr != null) {
      out.put("hostaddr", hostaddr);
    }
    return out;
  }

  /** A conninfo value: bare when it is plain, else single-quoted with {@code \} and {@code '} escaped. */
  private static String quote(String value) {
    return value.matches("[A-Za-z0-9_./:-]+") ? value
        : "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
