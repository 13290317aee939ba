package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SidecarSqlTest {
  @ParameterizedTest
  @ValueSource(ints = {130000, 130022, 140017, 150000, 150014, 160010, 169999})
  void upTo16CheckpointsComeFromPgStatBgwriter(int version) {
    assertThat(DatabaseHealth.Part.CHECKPOINTS.sql(version)).isEqualTo(DatabaseHealth.CHECKPOINTS_BGWRITER)
        .contains("pg_stat_bgwriter").contains("checkpoints_timed").contains("checkpoints_req");
  }

  @ParameterizedTest
  @ValueSource(ints = {170000, 170012, 180000})
  void from17CheckpointsComeFromPgStatCheckpointer(int version) {
    assertThat(DatabaseHealth.Part.CHECKPOINTS.sql(version)).isEqualTo(DatabaseHealth.CHECKPOINTS_CHECKPOINTER)
        .contains("pg_stat_checkpointer").doesNotContain("pg_stat_bgwriter").doesNotContain("checkpoints_timed");
  }

  @Test
  void everyOtherPartIsTheSameOnEveryMajor() {
    for (DatabaseHealth.Part part : DatabaseHealth.Part.values()) {
      if (part != DatabaseHealth.Part.CHECKPOINTS) {
        assertThat(part.sql(130000)).as(part.label).isEqualTo(part.sql(170000)).isEqualTo(part.sql(160000));
      }
    }
  }

  @Test
  void theListHasEachHealthPartOnceWithItsMajorsStatement() {
    for (int major : SidecarSql.SUPPORTED_MAJORS) {
      List<SidecarSql.Statement> all = SidecarSql.all(major * 10000);
      assertThat(all.stream().map(SidecarSql.Statement::name)).as("names are unique").doesNotHaveDuplicates();
      assertThat(all.stream().filter(s -> s.name().equals("health: checkpoints")).map(SidecarSql.Statement::sql))
          .containsExactly(DatabaseHealth.Part.CHECKPOINTS.sql(major * 10000));
      assertThat(all.stream().filter(s -> s.name().startsWith("health: ")))
          .hasSize(DatabaseHealth.Part.values().length);
    }
  }

  /** SQL-looking constants of the sidecar's classes (the statements it sends are all constants, see below). */
  static final Pattern SQL = Pattern.compile("(?is)\\s*(SELECT|WITH|SHOW|CHECKPOINT)\\b.*");

  @Test
  void everySqlConstantOfTheSidecarIsInTheList() throws Exception {
    Set<String> listed = new HashSet<>();
    for (int major : SidecarSql.SUPPORTED_MAJORS) {
      SidecarSql.all(major * 10000).forEach(s -> listed.add(s.sql()));
    }
    Path classes = Path.of("target", "classes");
    List<String> missing = new ArrayList<>();
    int constants = 0;
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String name = classes.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
        for (Field field : Class.forName(name, false, getClass().getClassLoader()).getDeclaredFields()) {
          int m = field.getModifiers();
          if (Modifier.isStatic(m) && Modifier.isFinal(m) && field.getType() == String.class) {
            field.setAccessible(true);
            String value = (String) field.get(null);
            if (value != null && SQL.matcher(value).matches()) {
              constants++;
              if (!listed.contains(value)) {
                missing.add(name + "." + field.getName());
              }
            }
          }
        }
      }
    }
    assertThat(constants).as("SQL constants found").isGreaterThan(10);
    assertThat(missing).as("SQL constants that SidecarSql.all does not list").isEmpty();
  }

  /** A statement written inline at the call would escape the list above: they are constants. */
  @Test
  void noStatementIsWrittenInlineAtItsCall() throws Exception {
    Pattern inline = Pattern.compile("\\.(query|preparedQuery|execute)\\(\\s*\"");
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.walk(Path.of("src", "main", "java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        if (inline.matcher(Files.readString(f)).find()) {
          found.add(f.toString());
        }
      }
    }
    assertThat(found).isEmpty();
  }
}
