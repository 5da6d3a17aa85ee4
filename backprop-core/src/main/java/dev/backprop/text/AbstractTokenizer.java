package dev.backprop.text;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * What the tokenizers of this package share: {@code baseSize} base tokens numbered from 0, then the
 * special tokens, whose ids are looked up once here instead of on every call.
 */
abstract class AbstractTokenizer implements Tokenizer {
    private final SpecialTokens specials;
    private final List<String> specialTexts; // id baseSize + i is specialTexts[i]
    private final Map<String, Integer> specialIds = new HashMap<>();
    final int baseSize;
    private final int pad;
    private final int bos;
    private final int eos;
    private final int unk;

    /**
     * @param baseId the base vocabulary's id of a string or -1, to refuse special tokens that are
     *     also base tokens (their text would have two ids)
     * @param baseWhat what a base token is, for the message: "character", "word"
     */
    AbstractTokenizer(SpecialTokens specials, int baseSize, ToIntFunction<String> baseId, String baseWhat) {
        this.specials = java.util.Objects.requireNonNull(specials, "specials");
        this.baseSize = baseSize;
        this.specialTexts = specials.all();
        for (int i = 0; i < specialTexts.size(); i++) {
            String t = specialTexts.get(i);
            if (baseId.applyAsInt(t) >= 0) {
                throw new IllegalArgumentException("special token \"" + t + "\" is also a " + baseWhat + " of the"
                        + " vocabulary; choose a special token that cannot occur as one, such as \"<" + t + ">\"");
            }
            specialIds.put(t, baseSize + i);
        }
        this.pad = specials.id(specials.pad(), baseSize);
        this.bos = specials.id(specials.bos(), baseSize);
        this.eos = specials.id(specials.eos(), baseSize);
        this.unk = specials.id(specials.unk(), baseSize);
    }

    @Override
    public final int vocabSize() {
        return baseSize + specialTexts.size();
    }

    @Override
    public final SpecialTokens specialTokens() {
        return specials;
    }

    @Override
    public final boolean isSpecial(int id) {
        checkId(id);
        return id >= baseSize;
    }

    @Override
    public final int padId() {
        return pad;
    }

    @Override
    public final int bosId() {
        return bos;
    }

    @Override
    public final int eosId() {
        return eos;
    }

    @Override
    public final int unkId() {
        return unk;
    }

    /** The text of a special id (at least {@code baseSize}). */
    final String specialText(int id) {
        return specialTexts.get(id - baseSize);
    }

    /** The id of a special token's text, or -1. */
    final int specialId(String text) {
        Integer id = specialIds.get(text);
        return id == null ? -1 : id;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + vocabSize() + " tokens: " + baseSize + " base + "
                + specialTexts.size() + " special " + specialTexts + ")";
    }
}
