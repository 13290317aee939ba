package io.pgtide.common.process;

public enum Signal {
  TERM, KILL, STOP, CONT, HUP, INT
}
