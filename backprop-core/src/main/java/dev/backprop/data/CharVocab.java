package dev.backprop.data;

import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.io.JsonException;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A character-level vocabulary: the distinct characters (Unicode code points) of a text, sorted,
 * numbered 0, 1, 2, ... in that order, as {@code sorted(set(text))} in Python.
 *
 * <p>Saved as a tokenizer file ({@link #save}, {@link #load}): the JSON object
 * {@code {"type": "char", "chars": "<the characters in id order>"}}.
 */
public final class CharVocab {
    private final int[] codePoints; // sorted, distinct; id i is codePoints[i]

    private CharVocab(int[] codePoints) {
        this.codePoints = codePoints;
    }

    /** The vocabulary of the distinct characters of {@code text}. */
    public static CharVocab of(String text) {
        return new CharVocab(text.codePoints().sorted().distinct().toArray());
    }

    /** A vocabulary of these code points (sorted and deduplicated here), for a saved vocabulary. */
    public static CharVocab ofCodePoints(int[] codePoints) {
        int[] sorted = Arrays.stream(codePoints).sorted().distinct().toArray();
        for (int cp : sorted) {
            if (!Character.isValidCodePoint(cp)) {
                throw new IllegalArgumentException("CharVocab: " + cp + " is not a Unicode code point");
            }
        }
        return new CharVocab(sorted);
    }

    /** Number of characters. */
    public int size() {
        return codePoints.length;
    }

    /** A copy of the code points, by id. */
    public int[] codePoints() {
        return codePoints.clone();
    }

    /** The vocabulary as one string, the characters in id order. */
    public String chars() {
        return new String(codePoints, 0, codePoints.length);
    }

    /** The id of a character, or -1 when it is not in the vocabulary. */
    public int id(int codePoint) {
        int i = Arrays.binarySearch(codePoints, codePoint);
        return i < 0 ? -1 : i;
    }

    /** The character with id {@code id}, as a string. */
    public String symbol(int id) {
        checkId(id);
        return Character.toString(codePoints[id]);
    }

    /**
     * The ids of the characters of {@code text}.
     *
     * @throws IllegalArgumentException naming the first character that is not in the vocabulary
     */
    public long[] encode(String text) {
        long[] ids = new long[text.codePointCount(0, text.length())];
        int k = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int id = id(cp);
            if (id < 0) {
                throw new IllegalArgumentException("character " + describe(cp) + " at index " + k
                        + " is not in the vocabulary of " + codePoints.length + " characters");
            }
            ids[k++] = id;
            i += Character.charCount(cp);
        }
        return ids;
    }

    /**
     * The distinct characters of {@code text} that are not in the vocabulary, as code points in
     * order of first appearance; empty when {@link #encode} would succeed.
     */
    public int[] unknown(String text) {
        return text.codePoints().filter(cp -> id(cp) < 0).distinct().toArray();
    }

    /**
     * The characters of {@code codePoints} for a message: {@code 'é' (U+00E9), '\t' (U+0009)};
     * invisible ones by code only.
     */
    public static String describe(int[] codePoints) {
        List<String> parts = new ArrayList<>(codePoints.length);
        for (int cp : codePoints) {
            parts.add(describe(cp));
        }
        return String.join(", ", parts);
    }

    /** The ids of the characters of {@code text} as an int64 tensor (L). */
    public Tensor encodeTensor(String text) {
        long[] ids = encode(text);
        return Tensor.ofLongs(ids, ids.length);
    }

    /**
     * The text of a sequence of ids.
     *
     * @throws IllegalArgumentException if an id is outside {@code [0, size())}
     */
    public String decode(long[] ids) {
        StringBuilder sb = new StringBuilder(ids.length);
        for (long id : ids) {
            checkId(id);
            sb.appendCodePoint(codePoints[(int) id]);
        }
        return sb.toString();
    }

    /** The text of an int64 tensor of ids of any shape, in row-major order. */
    public String decode(Tensor ids) {
        ids.requireType(DType.INT64, "CharVocab.decode");
        return decode(ids.toLongArray());
    }

    private void checkId(long id) {
        if (id < 0 || id >= codePoints.length) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + codePoints.length
                    + " characters");
        }
    }

    // ------------------------------------------------------------------ tokenizer file

    /** The tokenizer file's JSON: {@code {"type":"char","chars":"..."}}, the characters in id order. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "char");
        m.put("chars", chars());
        return Json.write(m);
    }

    /**
     * A vocabulary from the tokenizer JSON of {@link #toJson()}.
     *
     * @param source names the input in error messages (a file name)
     * @throws DataException if it is not such an object, or its characters are not sorted and
     *     distinct (ids would change)
     */
    public static CharVocab fromJson(String json, String source) {
        Map<String, Object> m;
        try {
            m = Json.parseObject(json);
        } catch (JsonException e) {
            throw new DataException(source, "not a tokenizer file: " + e.getMessage(), e);
        }
        if (!"char".equals(m.get("type")) || !(m.get("chars") instanceof String chars)) {
            throw new DataException(source, "expected a character tokenizer {\"type\": \"char\", \"chars\": \"...\"}, "
                    + "got type " + m.get("type") + " with keys " + m.keySet());
        }
        int[] cps = chars.codePoints().toArray();
        for (int i = 1; i < cps.length; i++) {
            if (cps[i] <= cps[i - 1]) {
                throw new DataException(source, "the characters of a char tokenizer must be sorted and distinct (they "
                        + "are numbered in that order), but " + describe(cps[i]) + " follows " + describe(cps[i - 1]));
            }
        }
        return new CharVocab(cps);
    }

    /** Writes the tokenizer file ({@link #toJson()}), atomically. */
    public void save(Path file) throws IOException {
        AtomicFiles.writeString(file, toJson() + "\n");
    }

    /**
     * Reads a tokenizer file written by {@link #save}.
     *
     * @throws DataException if it is missing, unreadable or not a char tokenizer
     */
    public static CharVocab load(Path file) {
        try {
            return fromJson(Files.readString(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new DataException(file.toString(), "no such tokenizer file", e);
        } catch (IOException e) {
            throw new DataException(file.toString(), "cannot read the tokenizer file: " + e, e);
        }
    }

    static String describe(int cp) {
        boolean invisible = Character.isISOControl(cp) || Character.isWhitespace(cp);
        String shown = invisible ? "" : "'" + Character.toString(cp) + "' ";
        return shown + String.format("(U+%04X)", cp);
    }

    @Override
    public String toString() {
        return "CharVocab(" + codePoints.length + " characters)";
    }
}
