package io.pgtide.cli;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.ClusterFile;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgtide validate}. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Check a PostgresCluster file with the "
    + "rules every path applies (exit 0 when valid, 2 with the field, the value and the rule when not).")
final class ValidateCommand implements Callable<Integer> {
  @Option(names = {"-f", "--file"}, required = true)
  Path file;
  @Option(names = "--local", description = "also apply local mode's bounds")
  boolean local;

  @Override
  public Integer call() {
    try {
      PostgresCluster cr = ClusterFile.load(file, local);
      System.out.println(file + ": valid PostgresCluster " + cr.getMetadata().getName());
      return 0;
    } catch (RuntimeException e) {
      return refused(e);
    }
  }

  /** What a command that reads a cluster file says and returns when the file is refused: 2 when invalid, else 1. */
  static int refused(RuntimeException e) {
    System.err.println("pgtide: " + e.getMessage());
    return e instanceof ClusterFile.Invalid ? PgtideCli.USAGE : PgtideCli.FAILED;
  }
}
