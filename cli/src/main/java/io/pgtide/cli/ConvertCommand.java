package io.pgtide.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgtide convert -f FILE}: reads, hands the documents to {@link ZalandoConversion}, prints. Exit 0 when
 * everything converted (or {@code --allow-partial}), 2 when some fields could not be (listed on stderr either way),
 * 1 when the input is not a Zalando cluster at all; on 1 and 2 nothing is printed to stdout, so a pipe into
 * {@code kubectl apply} applies nothing half converted by accident.
 */
@Command(name = "convert", mixinStandardHelpOptions = true, description = "Turn Zalando's acid.zalan.do/v1 postgresql"
    + " resources into PostgresCluster (and PostgresUser) YAML on stdout, keeping name and namespace. Fields pgtide"
    + " cannot express are listed on stderr, one per line; then the exit code is 2 unless --allow-partial. Input that"
    + " is not a postgresql resource: exit 1.")
final class ConvertCommand implements Callable<Integer> {
  static final int PARTIAL = 2;

  @Option(names = {"-f", "--file"}, required = true, description = "YAML file, one or many documents (or a List);"
      + " - reads stdin")
  String file;
  @Option(names = "--allow-partial", description = "print the objects and exit 0 even when some fields are lost")
  boolean allowPartial;
  @Option(names = "--separate-users", description = "one PostgresUser per user instead of the cluster's spec.users")
  boolean separateUsers;

  @Override
  public Integer call() {
    ZalandoConversion.Result result;
    try {
      String source = file.equals("-") ? "stdin" : file;
      result = ZalandoConversion.convert(ZalandoConversion.parse(read(), source), separateUsers);
    } catch (ZalandoConversion.BadInput e) {
      System.err.println("pgtide convert: " + e.getMessage());
      return PgtideCli.FAILED;
    } catch (IOException e) {
      System.err.println("pgtide convert: cannot read " + file + ": " + e.getMessage());
      return PgtideCli.FAILED;
    }
    result.unconvertible().forEach(u -> System.err.println("pgtide convert: not converted: " + u.line()));
    if (!result.unconvertible().isEmpty() && !allowPartial) {
      System.err.println("pgtide convert: " + result.unconvertible().size() + " field(s) not converted, nothing"
          + " printed; --allow-partial prints the rest");
      return PARTIAL;
    }
    System.out.print(ZalandoConversion.yaml(result.objects()));
    System.out.flush();
    return 0;
  }

  private String read() throws IOException {
    if (file.equals("-")) {
      InputStream in = System.in;
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return Files.readString(Path.of(file));
  }
}
