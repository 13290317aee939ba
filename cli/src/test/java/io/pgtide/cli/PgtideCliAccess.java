package io.pgtide.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs the CLI in-process for tests: its exit code and what it wrote to stderr. */
public final class PgtideCliAccess {
  private PgtideCliAccess() {
  }

  public record Run(int exit, String err) {
  }

  public static synchronized Run run(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      int exit = new CommandLine(new PgtideCli()).execute(args);
      return new Run(exit, buf.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(err);
    }
  }

  public record Output(int exit, String out, String err) {
  }

  /** The same, with what it wrote to stdout too. */
  public static synchronized Output runCapturing(String... args) {
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      Run r = run(args);
      return new Output(r.exit(), buf.toString(StandardCharsets.UTF_8), r.err());
    } finally {
      System.setOut(out);
    }
  }
}
