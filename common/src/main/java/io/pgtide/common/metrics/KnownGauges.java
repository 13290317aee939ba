package io.pgtide.common.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Gauges whose series exist only while their value is known: an unknown value (null or NaN) leaves the series out
 * rather than exporting NaN, which Prometheus would store and every expression would carry along. Values are read
 * when {@link #refresh()} is called, by whoever knows they changed (a new report, a backup pass).
 */
public final class KnownGauges {
  private final MeterRegistry registry;
  private final Tags tags;
  private final List<Runnable> refreshers = new CopyOnWriteArrayList<>();

  public KnownGauges(MeterRegistry registry, Tags tags) {
    this.registry = registry;
    this.tags = tags;
  }

  public void add(String name, String help, Supplier<? extends Number> value) {
    MultiGauge gauge = MultiGauge.builder(name).description(help).tags(tags).register(registry);
    refreshers.add(() -> {
      Number v = value.get();
      boolean known = v != null && !(v instanceof Double d && d.isNaN());
      gauge.register(known ? List.of(MultiGauge.Row.of(Tags.empty(), v)) : List.of(), true);
    });
  }

  public void refresh() {
    refreshers.forEach(Runnable::run);
  }
}
