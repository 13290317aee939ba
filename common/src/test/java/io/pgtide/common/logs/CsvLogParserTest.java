package io.pgtide.common.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.LogLine;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CsvLogParserTest {
  // PostgreSQL 15 and 17 both write 26 columns (14 added leader_pid and query_id); 13 wrote 24
  static final String PG15_ERROR = "2024-05-01 12:00:00.123 UTC,\"app\",\"shop\",4242,\"127.0.0.1:50000\","
      + "6632f0a0.1092,3,\"SELECT\",2024-05-01 11:59:59 UTC,3/17,0,ERROR,42P01,"
      + "\"relation \"\"missing\"\" does not exist\",,,,,,\"select * from missing\",15,,\"psql\",\"client backend\",,0\n";
  static final String PG17_MULTILINE = "2024-05-01 12:00:01.500 UTC,\"app\",\"shop\",4243,\"[local]\","
      + "6632f0a0.1093,1,\"INSERT\",2024-05-01 12:00:00 UTC,4/2,731,ERROR,23505,"
      + "\"duplicate key value violates unique constraint \"\"t_pkey\"\"\",\"Key (id)=(1) already exists.\nsecond line, with a comma\","
      + ",,,,\"insert into t values (1)\",,,\"psql\",\"client backend\",,-123456789\n";
  static final String PG13_LOG = "2024-05-01 12:00:02.000 UTC,,,99,,6632f0a0.63,1,,2024-05-01 12:00:00 UTC,,0,LOG,00000,"
      + "\"checkpoint starting: time\",,,,,,,,,\"\",\"checkpointer\"\n";

  @Test
  void readsTheFieldsOfAPostgres15Line() {
    List<LogLine> lines = new CsvLogParser().feed(PG15_ERROR);
    assertThat(lines).hasSize(1);
    LogLine l = lines.get(0);
    assertThat(l.time()).isEqualTo(Instant.parse("2024-05-01T12:00:00.123Z").toEpochMilli());
    assertThat(l.severity()).isEqualTo("ERROR");
    assertThat(l.sqlstate()).isEqualTo("42P01");
    assertThat(l.user()).isEqualTo("app");
    assertThat(l.database()).isEqualTo("shop");
    assertThat(l.pid()).isEqualTo(4242L);
    assertThat(l.message()).isEqualTo("relation \"missing\" does not exist");
    assertThat(l.detail()).isNull();
    assertThat(l.source()).isEqualTo(LogLine.POSTGRES);
  }

  @Test
  void keepsNewlinesAndCommasInsideQuotedFieldsAndNeverTheStatement() {
    LogLine l = new CsvLogParser().feed(PG17_MULTILINE).get(0);
    assertThat(l.sqlstate()).isEqualTo("23505");
    assertThat(l.message()).isEqualTo("duplicate key value violates unique constraint \"t_pkey\"");
    assertThat(l.detail()).isEqualTo("Key (id)=(1) already exists.\nsecond line, with a comma");
    assertThat(ContractText.of(l)).doesNotContain("insert into t");
  }

  @Test
  void readsPostgres13sShorterLinesWithEmptyFieldsAsNull() {
    LogLine l = new CsvLogParser().feed(PG13_LOG).get(0);
    assertThat(l.severity()).isEqualTo("LOG");
    assertThat(l.user()).isNull();
    assertThat(l.database()).isNull();
    assertThat(l.message()).isEqualTo("checkpoint starting: time");
  }

  @Test
  void aRecordSplitAnywhereAcrossFeedsComesOutWhole() {
    String all = PG15_ERROR + PG17_MULTILINE + PG13_LOG;
    for (int cut = 1; cut < all.length(); cut++) {
      CsvLogParser p = new CsvLogParser();
      List<LogLine> lines = new ArrayList<>(p.feed(all.substring(0, cut)));
      lines.addAll(p.feed(all.substring(cut)));
      assertThat(lines).as("cut at %d", cut).extracting(LogLine::sqlstate).containsExactly("42P01", "23505", "00000");
      assertThat(lines.get(1).detail()).isEqualTo("Key (id)=(1) already exists.\nsecond line, with a comma");
    }
  }

  @Test
  void aQuoteClosingRightBeforeTheChunkEndIsNotTakenForADoubledOne() {
    CsvLogParser p = new CsvLogParser();
    String line = "2024-05-01 12:00:00.000 UTC,\"u\",\"d\",1,,s,1,,,,0,ERROR,XX000,\"a \"\"b\"\"\",\"det\"\n";
    int closing = line.indexOf("\",\"det");
    List<LogLine> out = new ArrayList<>(p.feed(line.substring(0, closing + 1)));
    out.addAll(p.feed(line.substring(closing + 1)));
    assertThat(out).singleElement().satisfies(l -> {
      assertThat(l.message()).isEqualTo("a \"b\"");
      assertThat(l.detail()).isEqualTo("det");
    });
  }

  @Test
  void skipsWhatIsNotCsvlogAndCountsIt() {
    CsvLogParser p = new CsvLogParser();
    assertThat(p.feed("garbage line\nnot,a,time,at,all,,,,,,,,,,\n" + PG13_LOG)).hasSize(1);
    assertThat(p.malformed()).isEqualTo(2);
  }

  @Test
  void boundsAHugeField() {
    String huge = "x".repeat(100_000);
    LogLine l = new CsvLogParser().feed("2024-05-01 12:00:00.000 UTC,,,1,,s,1,,,,0,ERROR,XX000,\"" + huge + "\"\n")
        .get(0);
    assertThat(l.message()).hasSize(CsvLogParser.MAX_FIELD_CHARS + 1).endsWith("…");
  }

  @Test
  void readsZonesAsAbbreviationsOrOffsets() {
    long utc = Instant.parse("2024-05-01T12:00:00Z").toEpochMilli();
    assertThat(CsvLogParser.parseTime("2024-05-01 12:00:00.000 UTC")).isEqualTo(utc);
    assertThat(CsvLogParser.parseTime("2024-05-01 12:00:00.000 GMT")).isEqualTo(utc);
    assertThat(CsvLogParser.parseTime("2024-05-01 14:00:00.000 +02")).isEqualTo(utc);
    assertThat(CsvLogParser.parseTime("2024-05-01 14:00:00 +0200")).isEqualTo(utc);
    assertThat(CsvLogParser.parseTime("2024-05-01 08:00:00.000 EST")).isEqualTo(utc + 3_600_000); // fixed -05:00
    assertThat(CsvLogParser.parseTime("2024-05-01 12:00:00.000 NOPE")).isEqualTo(utc);
    assertThat(CsvLogParser.parseTime("yesterday")).isNull();
  }

  /** The line as the contract sends it. */
  static final class ContractText {
    static String of(LogLine l) {
      return io.pgtide.common.contract.ContractCodec.encode(l).encode();
    }
  }
}
