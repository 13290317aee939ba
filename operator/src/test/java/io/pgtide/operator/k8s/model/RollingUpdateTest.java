package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.operator.k8s.model.RollingUpdate.Action;
import io.pgtide.operator.k8s.model.RollingUpdate.Pod;
import java.util.List;
import org.junit.jupiter.api.Test;

class RollingUpdateTest {
  static final String NEW = "rev2";

  @Test
  void replicasFirstHighestOrdinalFirstThenSwitchoverThenTheOldPrimary() {
    List<Pod> pods = List.of(new Pod("c-0", "rev1", true, true), new Pod("c-1", "rev1", true, false),
        new Pod("c-2", "rev1", true, false));
    assertThat(RollingUpdate.next(NEW, pods)).extracting(s -> s.action(), s -> s.target())
        .containsExactly(Action.DELETE_POD, "c-2");
    pods = List.of(pods.get(0), pods.get(1), new Pod("c-2", NEW, false, false));
    assertThat(RollingUpdate.next(NEW, pods).action()).as("one at a time: wait for the new pod").isEqualTo(Action.WAIT);
    pods = List.of(pods.get(0), pods.get(1), new Pod("c-2", NEW, true, false));
    assertThat(RollingUpdate.next(NEW, pods).target()).isEqualTo("c-1");
    pods = List.of(pods.get(0), new Pod("c-1", NEW, true, false), pods.get(2));
    assertThat(RollingUpdate.next(NEW, pods)).extracting(s -> s.action(), s -> s.target())
        .containsExactly(Action.SWITCHOVER, "c-1");
    pods = List.of(new Pod("c-0", "rev1", true, false), new Pod("c-1", NEW, true, true), pods.get(2));
    assertThat(RollingUpdate.next(NEW, pods)).extracting(s -> s.action(), s -> s.target())
        .containsExactly(Action.DELETE_POD, "c-0");
    pods = List.of(new Pod("c-0", NEW, true, false), pods.get(1), pods.get(2));
    assertThat(RollingUpdate.next(NEW, pods).action()).isEqualTo(Action.DONE);
  }

  @Test
  void theAPrimaryIsNeverDeletedWhileAReplicaCouldTakeOver() {
    List<Pod> pods = List.of(new Pod("c-0", "rev1", true, true), new Pod("c-1", "rev1", false, false));
    assertThat(RollingUpdate.next(NEW, pods).action()).isEqualTo(Action.WAIT);
    assertThat(RollingUpdate.next(NEW, List.of(new Pod("c-0", "rev1", true, true))))
        .extracting(s -> s.action(), s -> s.target()).containsExactly(Action.DELETE_POD, "c-0");
    assertThat(RollingUpdate.next(null, List.of(new Pod("c-0", "rev1", true, true))).action()).isEqualTo(Action.DONE);
  }
}
