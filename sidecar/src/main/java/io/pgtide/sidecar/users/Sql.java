package io.pgtide.sidecar.users;

/** Quoting with PostgreSQL's {@code quote_ident} / {@code quote_literal} semantics; nothing is concatenated raw. */
public final class Sql {
  private Sql() {
  }

  public static String ident(String name) {
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("identifier contains a NUL byte");
    }
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  public static String literal(String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("literal contains a NUL byte");
    }
    String escaped = value.replace("'", "''");
    return value.contains("\\") ? "E'" + escaped.replace("\\", "\\\\") + "'" : "'" + escaped + "'";
  }
}
