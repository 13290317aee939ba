package io.pgtide.local.process;

public enum Signal {
  TERM, KILL, STOP, CONT, HUP, INT
}
