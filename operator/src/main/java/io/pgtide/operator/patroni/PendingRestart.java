package io.pgtide.operator.patroni;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The next step to apply parameters that Patroni flags {@code pending_restart}: replicas first, one at a time and
 * only while every member is live and every replica streams; then a planned switchover away from the primary;
 * then the old primary, now a replica. A single-member cluster restarts in place. Pure.
 */
public final class PendingRestart {
  private PendingRestart() {
  }

  public enum Action { NONE, WAIT, RESTART, SWITCHOVER }

  /** {@code target} is the member to restart, or the primary to switch over from. */
  public record Step(Action action, String target, String reason) {
  }

  public static Step next(ClusterView view) {
    List<MemberView> members = List.copyOf(view.members().values());
    List<MemberView> pending = members.stream().filter(m -> m.report() != null && m.report().pendingRestart())
        .toList();
    if (pending.isEmpty()) {
      return new Step(Action.NONE, null, "no member has a restart pending");
    }
    Optional<MemberView> notLive = members.stream().filter(m -> !m.live(view.at(), view.staleAfterMs()))
        .min(Comparator.comparing(m -> m.id().member()));
    if (notLive.isPresent()) {
      return new Step(Action.WAIT, notLive.get().id().member(), notLive.get().id().member() + " is not live");
    }
    Optional<MemberView> catchingUp = members.stream()
        .filter(m -> m.role() == Role.REPLICA && !"streaming".equals(m.report().walReceiverStatus()))
        .min(Comparator.comparing(m -> m.id().member()));
    if (catchingUp.isPresent()) {
      return new Step(Action.WAIT, catchingUp.get().id().member(), catchingUp.get().id().member()
          + " does not stream yet");
    }
    Optional<MemberView> replica = pending.stream().filter(m -> m.role() == Role.REPLICA)
        .max(Comparator.comparingInt(m -> ordinal(m.id().member())));
    if (replica.isPresent()) {
      return new Step(Action.RESTART, replica.get().id().member(), "replica " + replica.get().id().member()
          + " has a restart pending");
    }
    Optional<MemberView> primary = pending.stream().filter(m -> m.role() == Role.PRIMARY).findFirst();
    if (primary.isEmpty()) {
      return new Step(Action.WAIT, pending.get(0).id().member(), pending.get(0).id().member()
          + " has a restart pending but is neither primary nor replica");
    }
    String name = primary.get().id().member();
    if (members.size() == 1) {
      return new Step(Action.RESTART, name, "single member " + name + " restarts in place (no replica to switch to)");
    }
    return new Step(Action.SWITCHOVER, name, "only the primary " + name
        + " has a restart pending: switching over first");
  }

  private static int ordinal(String member) {
    return MemberId.ordinal(member);
  }
}
