package io.pgtide.common.crd;

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
public class PostgresCluster extends CustomResource<PostgresClusterSpec, PostgresClusterStatus> implements Namespaced {
}
