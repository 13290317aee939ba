package io.pgtide.common.logs;

import io.pgtide.common.contract.LogLine;
import java.util.List;

/** Turns a log file's text, fed in pieces that end at line ends, into lines; holds what a record left open. */
public interface LogParser {
  /** The records {@code text} completes (their {@code seq} is 0: the buffer numbers them). */
  List<LogLine> feed(String text);

  /** Forgets a half-read record: the file was truncated, replaced, or reading starts elsewhere. */
  void reset();
}
