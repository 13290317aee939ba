package io.pgtide.operator.k8s.reconcile;

import io.fabric8.kubernetes.api.model.Quantity;

/** Volume sizes compared by their bytes, not their text ("1Gi" equals "1024Mi"). Pure. */
final class VolumeSizes {
  private VolumeSizes() {
  }

  /** Negative when {@code want} is smaller than {@code have}, 0 when equal or unknown, positive when larger. */
  static int compare(Quantity want, Quantity have) {
    if (want == null || have == null) {
      return 0;
    }
    return Quantity.getAmountInBytes(want).compareTo(Quantity.getAmountInBytes(have));
  }
}
