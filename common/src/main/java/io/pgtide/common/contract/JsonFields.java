package io.pgtide.common.contract;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** Typed reads of a JSON message that fail with a {@link ContractException} naming the field. */
final class JsonFields {
  private JsonFields() {
  }

  static JsonObject object(JsonObject json, String field) {
    Object value = required(json, field);
    if (!(value instanceof JsonObject obj)) {
      throw wrongType(field, "an object");
    }
    return obj;
  }

  static JsonObject optObject(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject obj)) {
      throw wrongType(field, "an object");
    }
    return obj;
  }

  static String string(JsonObject json, String field) {
    Object value = required(json, field);
    if (!(value instanceof String s)) {
      throw wrongType(field, "a string");
    }
    return s;
  }

  static String optString(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value != null && !(value instanceof String)) {
      throw wrongType(field, "a string");
    }
    return (String) value;
  }

  static long longValue(JsonObject json, String field) {
    Object value = required(json, field);
    if (!(value instanceof Number n)) {
      throw wrongType(field, "a number");
    }
    return n.longValue();
  }

  static Long optLong(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value != null && !(value instanceof Number)) {
      throw wrongType(field, "a number");
    }
    return value == null ? null : ((Number) value).longValue();
  }

  static Double optDouble(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value != null && !(value instanceof Number)) {
      throw wrongType(field, "a number");
    }
    return value == null ? null : ((Number) value).doubleValue();
  }

  static double doubleOr(JsonObject json, String field, double fallback) {
    Double value = optDouble(json, field);
    return value == null ? fallback : value;
  }

  static boolean bool(JsonObject json, String field, boolean fallback) {
    Object value = json.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Boolean b)) {
      throw wrongType(field, "a boolean");
    }
    return b;
  }

  static boolean requiredBool(JsonObject json, String field) {
    required(json, field);
    return bool(json, field, false);
  }

  static List<JsonObject> objects(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray array)) {
      throw wrongType(field, "an array");
    }
    List<JsonObject> out = new ArrayList<>(array.size());
    for (Object item : array) {
      if (!(item instanceof JsonObject obj)) {
        throw wrongType(field + "[]", "an object");
      }
      out.add(obj);
    }
    return out;
  }

  static List<String> strings(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray array)) {
      throw wrongType(field, "an array");
    }
    List<String> out = new ArrayList<>(array.size());
    for (Object item : array) {
      if (!(item instanceof String s)) {
        throw wrongType(field + "[]", "a string");
      }
      out.add(s);
    }
    return out;
  }

  static <E extends Enum<E>> E enumValue(JsonObject json, String field, Class<E> type) {
    String text = string(json, field);
    try {
      return Enum.valueOf(type, text);
    } catch (IllegalArgumentException e) {
      throw new ContractException("invalid-field", "field '" + field + "' has unknown value '" + text + "'");
    }
  }

  private static Object required(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value == null) {
      throw new ContractException("missing-field", "required field '" + field + "' is missing");
    }
    return value;
  }

  private static ContractException wrongType(String field, String expected) {
    return new ContractException("invalid-field", "field '" + field + "' must be " + expected);
  }
}
