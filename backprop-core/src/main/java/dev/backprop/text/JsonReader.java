package dev.backprop.text;

import dev.backprop.data.DataException;
import dev.backprop.io.Json;
import dev.backprop.io.JsonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Typed reads from a parsed JSON object, failing with a {@link DataException} that names the
 * source, the key path ({@code special_tokens.pad}, {@code merges[12]}), what was expected and
 * what was found. Unknown keys are ignored, so that a newer writer can add fields.
 */
final class JsonReader {
    private final Map<String, Object> map;
    private final String source;
    private final String path; // "" at the top level, else "key." style prefix without the dot

    private JsonReader(Map<String, Object> map, String source, String path) {
        this.map = map;
        this.source = source;
        this.path = path;
    }

    /** Reads a UTF-8 JSON file whose top level must be an object. */
    static JsonReader read(Path file) {
        String source = file.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(source, "no such file", e);
        } catch (IOException e) {
            throw new DataException(source, "cannot read the file: " + e, e);
        }
        Object value;
        try {
            value = Json.parse(bytes);
        } catch (JsonException e) {
            throw new DataException(source, "not valid JSON: " + e.getMessage(), e);
        }
        if (!(value instanceof Map<?, ?>)) {
            throw new DataException(source, "expected a JSON object at the top level, found " + describe(value));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) value;
        return new JsonReader(map, source, "");
    }

    /** Wraps an already parsed object; {@code source} names it in messages. */
    static JsonReader of(Map<String, Object> map, String source) {
        return new JsonReader(map, source, "");
    }

    /** The object itself (read-only use), for a large map read in bulk such as a vocabulary. */
    Map<String, Object> raw() {
        return map;
    }

    String source() {
        return source;
    }

    boolean has(String key) {
        return map.containsKey(key) && map.get(key) != null;
    }

    String string(String key) {
        Object v = required(key);
        if (v instanceof String s) {
            return s;
        }
        throw error(key, "a string", v);
    }

    String optionalString(String key) {
        return has(key) ? string(key) : null;
    }

    boolean bool(String key, boolean orElse) {
        if (!has(key)) {
            return orElse;
        }
        Object v = map.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw error(key, "true or false", v);
    }

    List<Object> list(String key) {
        Object v = required(key);
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        throw error(key, "an array", v);
    }

    List<String> stringList(String key) {
        List<Object> items = list(key);
        List<String> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            if (!(items.get(i) instanceof String s)) {
                throw error(key + "[" + i + "]", "a string", items.get(i));
            }
            out.add(s);
        }
        return out;
    }

    JsonReader object(String key) {
        Object v = required(key);
        if (v instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked")
            Map<String, Object> map = (Map<String, Object>) m;
            return new JsonReader(map, source, where(key));
        }
        throw error(key, "an object", v);
    }

    private Object required(String key) {
        if (!map.containsKey(key)) {
            throw new DataException(source, "missing key \"" + where(key) + "\""
                    + "; the keys present are " + map.keySet());
        }
        Object v = map.get(key);
        if (v == null) {
            throw new DataException(source, "key \"" + where(key) + "\" is null; expected a value");
        }
        return v;
    }

    /** A {@link DataException} for the value at {@code key} (which may carry an index suffix). */
    DataException error(String key, String expected, Object found) {
        return new DataException(source, "key \"" + where(key) + "\": expected " + expected + ", found "
                + describe(found));
    }

    private String where(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    static String describe(Object value) {
        return switch (value) {
            case null -> "null";
            case Map<?, ?> _ -> "an object";
            case List<?> l -> "an array of " + l.size();
            case String s -> "the string \"" + (s.length() > 40 ? s.substring(0, 37) + "..." : s) + "\"";
            case Boolean b -> b.toString();
            default -> "the number " + value;
        };
    }
}
