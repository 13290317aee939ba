package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Every command and subcommand answers {@code --help} with its usage and exit 0, required options or not. */
class CommandHelpTest {

  @Test
  void everyCommandAnswersHelp() {
    List<List<String>> paths = new ArrayList<>();
    collect(PgtideCli.commandLine(), new ArrayList<>(), paths);
    assertThat(paths).as("the tree is walked").hasSizeGreaterThan(20)
        .contains(List.of("backup"), List.of("restore"), List.of("backup", "now"), List.of("local", "up"),
            List.of("local", "status"), List.of("kubernetes"), List.of("convert"));
    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      CommandLine cli = PgtideCli.commandLine();
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      cli.setOut(new PrintWriter(out)).setErr(new PrintWriter(err));

      int exit = cli.execute(args.toArray(String[]::new));

      String name = String.join(" ", path);
      assertThat(exit).as("pgtide %s --help: %s", name, err).isZero();
      assertThat(out.toString()).as("pgtide %s --help", name)
          .startsWith("Usage: pgtide" + (path.isEmpty() ? "" : " " + name)).contains("-h, --help");
      assertThat(err.toString()).as("pgtide %s --help", name).isEmpty();
    }
  }

  /** Each command's path from the root (the root's is empty), depth first. */
  private static void collect(CommandLine command, List<String> path, List<List<String>> into) {
    into.add(List.copyOf(path));
    command.getSubcommands().forEach((name, sub) -> {
      if (!name.equals(sub.getCommandName())) {
        return; // an alias: the same command once more
      }
      path.add(name);
      collect(sub, path, into);
      path.remove(path.size() - 1);
    });
  }

  @Test
  void aCommandWithoutItsRequiredOptionsStillSaysWhatIsMissing() {
    CommandLine cli = PgtideCli.commandLine();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err));

    assertThat(cli.execute("restore", "pg1")).isEqualTo(PgtideCli.USAGE);
    assertThat(err.toString()).contains("Missing required options");
  }

  @Test
  void theBannerNamesTheJarThisProcessRunsOrTheOneTheBuildMakes(@TempDir Path dir) throws Exception {
    Path jar = Files.createFile(dir.resolve("pgtide.jar"));
    URL classes = dir.toUri().toURL();

    assertThat(LocalUpCommand.cliCommand(jar.toUri().toURL())).isEqualTo("java -jar " + jar);
    assertThat(LocalUpCommand.cliCommand(classes)).isEqualTo("java -jar cli/target/pgtide.jar");
    assertThat(LocalUpCommand.cliCommand(null)).isEqualTo("java -jar cli/target/pgtide.jar");
  }

  @Test
  void theBuiltJarIsTheOneTheReadmeAndScriptsRun() throws Exception {
    // the shade plugin's finalName in cli/pom.xml makes it; README and scripts name the same path
    assertThat(Files.readString(Path.of("pom.xml"))).contains("<finalName>pgtide</finalName>");
    assertThat(Files.readString(Path.of("..", "README.md"))).contains("java -jar " + LocalUpCommand.BUILT_JAR);
    assertThat(Files.readString(Path.of("..", "scripts", "local-up.sh"))).contains(LocalUpCommand.BUILT_JAR);
  }
}
