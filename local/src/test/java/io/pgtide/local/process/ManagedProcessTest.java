package io.pgtide.local.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ManagedProcessTest {

  @Test
  void everyChildGetsAParentDeathSignalWithoutChangingWhatItRuns() {
    assertThat(ManagedProcess.withParentDeathSignal(List.of("etcd", "--name", "e")))
        .containsExactly("setpriv", "--pdeathsig=TERM", "--", "etcd", "--name", "e");
    // already under setpriv (as the postgres user): one setpriv, the signal set after the credentials change
    assertThat(ManagedProcess.withParentDeathSignal(List.of("setpriv", "--reuid=postgres", "--", "patroni", "p.yml")))
        .containsExactly("setpriv", "--pdeathsig=TERM", "--reuid=postgres", "--", "patroni", "p.yml");
  }
}
