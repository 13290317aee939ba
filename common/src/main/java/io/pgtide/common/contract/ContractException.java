package io.pgtide.common.contract;

/** A message that breaks the contract. {@code code} is stable and machine-readable; the message says what was wrong. */
public class ContractException extends RuntimeException {
  private final String code;

  public ContractException(String code, String message) {
    super(code + ": " + message);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
