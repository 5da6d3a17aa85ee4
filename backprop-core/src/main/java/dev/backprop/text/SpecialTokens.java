package dev.backprop.text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The special tokens of a {@link Tokenizer}: padding, beginning and end of sequence, unknown, and
 * any extra ones (a separator, a mask token, language tags). Each role may be absent
 * ({@code null}); several roles may share one token (GPT-2 pads with its end-of-text token).
 *
 * <p>Every tokenizer of this package numbers its special tokens after its base vocabulary, in the
 * order of {@link #all()}: pad, bos, eos, unk, then the extra tokens, each distinct token once. A
 * special token is never produced by encoding plain text: {@code "<eos>"} in a text is encoded as
 * the characters (or bytes) {@code <}, {@code e}, ... like any other text.
 *
 * <pre>{@code
 * SpecialTokens.DEFAULT                               // <pad> <bos> <eos> <unk>
 * SpecialTokens.NONE.withPad("<pad>").withEos("<eos>")
 * }</pre>
 *
 * @param pad the padding token, or {@code null}
 * @param bos the beginning-of-sequence token, or {@code null}
 * @param eos the end-of-sequence token, or {@code null}
 * @param unk the token for unknown input, or {@code null}
 * @param extra further special tokens, in id order (copied)
 */
public record SpecialTokens(String pad, String bos, String eos, String unk, List<String> extra) {
    /** No special tokens. */
    public static final SpecialTokens NONE = new SpecialTokens(null, null, null, null, List.of());

    /** {@code <pad>}, {@code <bos>}, {@code <eos>} and {@code <unk>}. */
    public static final SpecialTokens DEFAULT = new SpecialTokens("<pad>", "<bos>", "<eos>", "<unk>", List.of());

    /**
     * Checks the tokens.
     *
     * @throws IllegalArgumentException if a token is empty or an extra token is {@code null}
     */
    public SpecialTokens {
        extra = List.copyOf(Objects.requireNonNull(extra, "extra"));
        for (String[] role : new String[][] {{"pad", pad}, {"bos", bos}, {"eos", eos}, {"unk", unk}}) {
            if (role[1] != null && role[1].isEmpty()) {
                throw new IllegalArgumentException("the " + role[0] + " token is empty; give a non-empty string such"
                        + " as \"<" + role[0] + ">\", or null for none");
            }
        }
        for (String t : extra) {
            if (t.isEmpty()) {
                throw new IllegalArgumentException("an extra special token is empty: " + extra);
            }
        }
    }

    /** These tokens with another pad token ({@code null}: none). */
    public SpecialTokens withPad(String token) {
        return new SpecialTokens(token, bos, eos, unk, extra);
    }

    /** These tokens with another beginning-of-sequence token ({@code null}: none). */
    public SpecialTokens withBos(String token) {
        return new SpecialTokens(pad, token, eos, unk, extra);
    }

    /** These tokens with another end-of-sequence token ({@code null}: none). */
    public SpecialTokens withEos(String token) {
        return new SpecialTokens(pad, bos, token, unk, extra);
    }

    /** These tokens with another unknown token ({@code null}: none). */
    public SpecialTokens withUnk(String token) {
        return new SpecialTokens(pad, bos, eos, token, extra);
    }

    /** These tokens with {@code tokens} appended to the extra ones. */
    public SpecialTokens withExtra(String... tokens) {
        List<String> more = new ArrayList<>(extra);
        more.addAll(List.of(tokens));
        return new SpecialTokens(pad, bos, eos, unk, more);
    }

    /** The distinct special tokens in id order: pad, bos, eos, unk, then the extra ones. */
    public List<String> all() {
        List<String> all = new ArrayList<>();
        for (String t : new String[] {pad, bos, eos, unk}) {
            if (t != null && !all.contains(t)) {
                all.add(t);
            }
        }
        for (String t : extra) {
            if (!all.contains(t)) {
                all.add(t);
            }
        }
        return List.copyOf(all);
    }

    /** The number of distinct special tokens. */
    public int count() {
        return all().size();
    }

    /**
     * The id of a role's token in a tokenizer whose base vocabulary has {@code baseSize} tokens, or
     * -1 when {@code token} is {@code null}.
     */
    int id(String token, int baseSize) {
        return token == null ? -1 : baseSize + all().indexOf(token);
    }

    /** The JSON form saved with a tokenizer: {@code {"pad":"<pad>", ..., "extra":[...]}}, absent roles left out. */
    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        putIfPresent(json, "pad", pad);
        putIfPresent(json, "bos", bos);
        putIfPresent(json, "eos", eos);
        putIfPresent(json, "unk", unk);
        if (!extra.isEmpty()) {
            json.put("extra", extra);
        }
        return json;
    }

    private static void putIfPresent(Map<String, Object> json, String key, String value) {
        if (value != null) {
            json.put(key, value);
        }
    }

    /** Reads {@link #toJson()}'s form; a missing object means {@link #NONE}. */
    static SpecialTokens fromJson(JsonReader json, String key) {
        if (!json.has(key)) {
            return NONE;
        }
        JsonReader o = json.object(key);
        List<String> extra = o.has("extra") ? o.stringList("extra") : List.of();
        return new SpecialTokens(o.optionalString("pad"), o.optionalString("bos"), o.optionalString("eos"),
                o.optionalString("unk"), extra);
    }
}
