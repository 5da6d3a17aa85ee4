package dev.backprop.text;

import dev.backprop.data.CharVocab;
import dev.backprop.data.DataException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One token per character (Unicode code point, as in Python's {@code str}), for character-level
 * language models.
 *
 * <p>{@link #fromText(String)} numbers the sorted distinct characters of a text 0, 1, 2, ..., as
 * {@link CharVocab#of} and Python's {@code sorted(set(text))} do, so the ids are those of the
 * existing character models. Special tokens, if any, follow the characters.
 *
 * <p>Saved as {@code {"type":"char","chars":"<the characters in id order>"}}, plus
 * {@code "special_tokens"} when there are some: a file with only {@code type} and {@code chars}
 * (as the character language models write) loads as a tokenizer without special tokens.
 *
 * <p>A character that is not in the vocabulary becomes the unknown token when there is one, and
 * is an error naming the character and its position otherwise.
 */
public final class CharTokenizer extends AbstractTokenizer {
    static final String TYPE = "char";

    private final int[] codePoints; // by id
    private final int[] sorted; // the code points, ascending
    private final int[] sortedIds; // sortedIds[i] is the id of sorted[i]

    private CharTokenizer(int[] codePoints, SpecialTokens specials) {
        super(specials, codePoints.length, CharTokenizer.lookup(codePoints), "character");
        this.codePoints = codePoints;
        Integer[] order = new Integer[codePoints.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Integer.compare(codePoints[a], codePoints[b]));
        this.sorted = new int[codePoints.length];
        this.sortedIds = new int[codePoints.length];
        for (int i = 0; i < order.length; i++) {
            sorted[i] = codePoints[order[i]];
            sortedIds[i] = order[i];
        }
    }

    /** A lookup of single-character strings for the special-token clash check, before the fields exist. */
    private static java.util.function.ToIntFunction<String> lookup(int[] codePoints) {
        return s -> {
            if (s.codePointCount(0, s.length()) != 1) {
                return -1;
            }
            int cp = s.codePointAt(0);
            for (int i = 0; i < codePoints.length; i++) {
                if (codePoints[i] == cp) {
                    return i;
                }
            }
            return -1;
        };
    }

    /** The tokenizer of the sorted distinct characters of {@code text}, without special tokens. */
    public static CharTokenizer fromText(String text) {
        return fromText(text, SpecialTokens.NONE);
    }

    /**
     * The tokenizer of the sorted distinct characters of {@code text}, then the special tokens.
     *
     * @throws IllegalArgumentException if the text has an unpaired surrogate, or a special token is
     *     a single character of the text
     */
    public static CharTokenizer fromText(String text, SpecialTokens specials) {
        Unicode.requireWellFormed(Objects.requireNonNull(text, "text"), "the text");
        return new CharTokenizer(text.codePoints().sorted().distinct().toArray(), specials);
    }

    /**
     * The tokenizer whose character with id i is the i-th character of {@code chars} (a saved
     * vocabulary), then the special tokens.
     *
     * @throws IllegalArgumentException if a character occurs twice or is an unpaired surrogate
     */
    public static CharTokenizer of(String chars, SpecialTokens specials) {
        Unicode.requireWellFormed(Objects.requireNonNull(chars, "chars"), "the characters");
        int[] cps = chars.codePoints().toArray();
        int[] copy = cps.clone();
        Arrays.sort(copy);
        for (int i = 1; i < copy.length; i++) {
            if (copy[i] == copy[i - 1]) {
                throw new IllegalArgumentException("character " + Unicode.describe(copy[i]) + " occurs twice in the"
                        + " characters of the vocabulary; each character must have one id");
            }
        }
        return new CharTokenizer(cps, specials);
    }

    /** The tokenizer with the ids of an existing {@link CharVocab}, then the special tokens. */
    public static CharTokenizer of(CharVocab vocab, SpecialTokens specials) {
        return of(vocab.chars(), specials);
    }

    static CharTokenizer fromJson(JsonReader json) {
        String chars = json.string("chars");
        SpecialTokens specials = SpecialTokens.fromJson(json, "special_tokens");
        try {
            return of(chars, specials);
        } catch (IllegalArgumentException e) {
            throw new DataException(json.source(), "key \"chars\": " + e.getMessage(), e);
        }
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The characters in id order (special tokens not included). */
    public String chars() {
        return new String(codePoints, 0, codePoints.length);
    }

    /** The number of characters, the vocabulary without the special tokens. */
    public int numChars() {
        return codePoints.length;
    }

    /** The id of a character, or -1 when it is not in the vocabulary. */
    public int charId(int codePoint) {
        int i = Arrays.binarySearch(sorted, codePoint);
        return i < 0 ? -1 : sortedIds[i];
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException without an unknown token: at the first character not in
     *     the vocabulary, naming it and its position (the index in code points, and in UTF-16 units
     *     when they differ)
     */
    @Override
    public int[] encode(String text) {
        int[] ids = new int[text.codePointCount(0, text.length())];
        int k = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int id = charId(cp);
            if (id < 0) {
                id = unkId();
                if (id < 0) {
                    String at = k == i ? "position " + k : "position " + k + " (UTF-16 index " + i + ")";
                    throw new IllegalArgumentException("character " + Unicode.describe(cp) + " at " + at
                            + " is not in the vocabulary of " + codePoints.length + " characters, and the tokenizer"
                            + " has no unknown token; build it from a text that has this character, or give it"
                            + " SpecialTokens with an unk token");
                }
            }
            ids[k++] = id;
            i += Character.charCount(cp);
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length);
        for (int id : ids) {
            checkId(id);
            if (id < baseSize) {
                sb.appendCodePoint(codePoints[id]);
            } else {
                sb.append(specialText(id));
            }
        }
        return sb.toString();
    }

    @Override
    public String token(int id) {
        checkId(id);
        return id < baseSize ? Character.toString(codePoints[id]) : specialText(id);
    }

    @Override
    public int id(String token) {
        int special = specialId(token);
        if (special >= 0) {
            return special;
        }
        return token.codePointCount(0, token.length()) == 1 ? charId(token.codePointAt(0)) : -1;
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("type", TYPE);
        json.put("chars", chars());
        if (!specialTokens().all().isEmpty()) {
            json.put("special_tokens", specialTokens().toJson());
        }
        return json;
    }
}
