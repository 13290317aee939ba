package io.pgtide.common.contract;

public record Connections(int active, int idle, int idleInTransaction, int total, int max) {
  public static final Connections EMPTY = new Connections(0, 0, 0, 0, 0);
}
