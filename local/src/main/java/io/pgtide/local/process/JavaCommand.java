package io.pgtide.local.process;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** A command line that runs a main class of this same build in a new JVM, whatever its working directory. */
public final class JavaCommand {
  private JavaCommand() {
  }

  public static List<String> of(List<String> jvmFlags, String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.add("-cp");
    cmd.add(Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .map(p -> Path.of(p).toAbsolutePath().toString()).collect(Collectors.joining(File.pathSeparator)));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }
}
