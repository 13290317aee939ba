package io.pgtide.common.crd;

public class PostgresUserStatus {
  public String state;
  public String reason;
}
