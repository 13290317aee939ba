package io.pgtide.common.crd;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/** A user kept outside the cluster resource (its own GitOps app), referencing a cluster in the same namespace. */
@Group("pgtide.io")
@Version("v1")
@Kind("PostgresUser")
@Plural("postgresusers")
public class PostgresUser extends CustomResource<PostgresUserSpec, PostgresUserStatus> implements Namespaced {
}
