package io.pgtide.common.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

@Group("pgtide.io")
@Version("v1")
@Kind("PostgresCluster")
@Plural("postgresclusters")
@ShortNames("pgc")
@AdditionalPrinterColumn(name = "Primary", jsonPath = ".status.primary", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Replicas", jsonPath = ".status.replicas", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.readyMembers", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@ValidationRule(value = "self.metadata.name.matches('" + PostgresCluster.NAME_PATTERN + "') && size(self.metadata.name)"
    + " <= " + PostgresCluster.NAME_MAX_LENGTH, message = PostgresCluster.NAME_RULE)
public class PostgresCluster extends CustomResource<PostgresClusterSpec, PostgresClusterStatus> implements Namespaced {
  /**
   * A cluster's name: it names Services (DNS-1035 labels) and the StatefulSet, whose pods' revision label adds 11
   * characters and may hold 63.
   */
  public static final String NAME_PATTERN = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
  public static final int NAME_MAX_LENGTH = 52;
  public static final String NAME_RULE = "metadata.name must be a DNS label of at most 52 characters (a-z, 0-9 and"
      + " '-', starting with a letter)";

  // without a spec there is nothing to run: the API server refuses it first
  @Override
  @Required
  public PostgresClusterSpec getSpec() {
    return super.getSpec();
  }
}
