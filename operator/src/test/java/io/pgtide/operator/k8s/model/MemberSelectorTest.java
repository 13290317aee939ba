package io.pgtide.operator.k8s.model;

import io.pgtide.operator.k8s.api.SecretPasswords;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class MemberSelectorTest {
  @Test
  void oneSelectorAsLabelsAndAsText() {
    MemberSelector s = MemberSelector.of("pg1");
    assertThat(s.labels()).containsExactly(java.util.Map.entry("application", "spilo"),
        java.util.Map.entry("cluster-name", "pg1"));
    assertThat(s).hasToString("application=spilo,cluster-name=pg1");
    assertThat(ClusterModel.selector("pg1")).isEqualTo(s.toString());
    assertThat(ClusterModel.labels("pg1")).containsAllEntriesOf(s.labels())
        .containsEntry("app.kubernetes.io/managed-by", "pgtide");
  }

  @Test
  void aSecretsPasswordIsReadFromDataOrStringDataAndAbsentIsNull() {
    Secret data = new SecretBuilder().addToData("password",
        Base64.getEncoder().encodeToString("s3cr€t".getBytes(StandardCharsets.UTF_8))).build();
    Secret stringData = new SecretBuilder().addToStringData("password", "plain").build();
    assertThat(SecretPasswords.passwordOf(data)).isEqualTo("s3cr€t");
    assertThat(SecretPasswords.passwordOf(stringData)).isEqualTo("plain");
    assertThat(SecretPasswords.passwordOf(new Secret())).isNull();
  }
}
