package dev.backprop.text;

import dev.backprop.data.DataException;
import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Turns text into token ids and back. Implementations: {@link CharTokenizer} (one id per Unicode
 * code point), {@link WordTokenizer} (one id per word or punctuation mark, with an unknown token),
 * {@link BpeTokenizer} (byte-level byte-pair encoding that round-trips any string) and
 * {@link WordPieceTokenizer} (BERT's, read from a HuggingFace {@code tokenizer.json}; its special
 * tokens keep the vocabulary's ids).
 *
 * <pre>{@code
 * Tokenizer tok = BpeTokenizer.train(lines, 2000, SpecialTokens.DEFAULT);
 * int[] ids = tok.encode("Hello, world!");
 * String back = tok.decode(ids);                       // "Hello, world!"
 * tok.save(runDir.resolve("tokenizer.json"));          // saved with the model
 * Tokenizer same = Tokenizer.load(runDir.resolve("tokenizer.json"));
 * }</pre>
 *
 * <h2>Ids</h2>
 *
 * Ids run from 0 to {@link #vocabSize()} - 1: first the base vocabulary (characters, words, or
 * bytes and merges), then the {@linkplain SpecialTokens special tokens} in the order pad, bos, eos,
 * unk, extra. A role the tokenizer does not have has id -1. {@link #encode} never produces a
 * special token from plain text; {@link Padding} adds bos, eos and pad to sequences.
 *
 * <h2>Saving</h2>
 *
 * {@link #save} writes a JSON object with a {@code "type"} field ({@code "char"}, {@code "word"}
 * or {@code "bpe"}) and the implementation's fields, atomically (a crash never leaves half a
 * file); {@link #load} reads any of them back, {@link #toJson()} and {@link #fromJson} do the same
 * for a tokenizer embedded in a larger JSON document. Unknown keys are ignored when loading.
 *
 * <h2>Strings that are not Unicode text</h2>
 *
 * A Java string may hold an unpaired surrogate ({@code "\uD800"}), which is not a character and
 * has no UTF-8 encoding. {@link BpeTokenizer} encodes it as the three bytes of its code unit
 * (WTF-8) and decodes it back, so its round trip holds for every string. {@link CharTokenizer} and
 * {@link WordTokenizer} refuse one in the text they are built from (it could not be saved as JSON)
 * and treat one in a text to encode as an unknown character or word.
 *
 * <p>Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {
    /** The {@code "type"} written by {@link #save}: {@code "char"}, {@code "word"} or {@code "bpe"}. */
    String type();

    /**
     * The ids of a text.
     *
     * @throws IllegalArgumentException if the text has a character or word this tokenizer cannot
     *     represent and it has no unknown token (naming the character or word and its position)
     */
    int[] encode(String text);

    /**
     * The text of a sequence of ids; special tokens appear as their text ({@code "<eos>"}).
     *
     * @throws IllegalArgumentException if an id is outside {@code [0, vocabSize())}
     */
    String decode(int[] ids);

    /**
     * The text of a sequence of ids, leaving out the special tokens when {@code skipSpecialTokens}
     * (to show a generated sequence that still holds its bos, eos and padding).
     *
     * @throws IllegalArgumentException if an id is outside {@code [0, vocabSize())}
     */
    default String decode(int[] ids, boolean skipSpecialTokens) {
        if (!skipSpecialTokens) {
            return decode(ids);
        }
        int n = 0;
        int[] kept = new int[ids.length];
        for (int id : ids) {
            checkId(id);
            if (!isSpecial(id)) {
                kept[n++] = id;
            }
        }
        return decode(java.util.Arrays.copyOf(kept, n));
    }

    /** The number of ids, special tokens included. */
    int vocabSize();

    /**
     * The token with this id as a string: the character, the word, the special token's text, or
     * for {@link BpeTokenizer} its bytes in GPT-2's printable byte alphabet ({@code "Ġthe"}).
     *
     * @throws IllegalArgumentException if the id is outside {@code [0, vocabSize())}
     */
    String token(int id);

    /** The id of a token as {@link #token(int)} writes it, or -1 when there is none. */
    int id(String token);

    /** The special tokens (roles and text). */
    SpecialTokens specialTokens();

    /** Whether this id is one of the special tokens. */
    default boolean isSpecial(int id) {
        checkId(id);
        return id >= vocabSize() - specialTokens().count();
    }

    /** The padding id, or -1 when the tokenizer has no pad token. */
    default int padId() {
        return specialTokens().id(specialTokens().pad(), vocabSize() - specialTokens().count());
    }

    /** The beginning-of-sequence id, or -1. */
    default int bosId() {
        return specialTokens().id(specialTokens().bos(), vocabSize() - specialTokens().count());
    }

    /** The end-of-sequence id, or -1. */
    default int eosId() {
        return specialTokens().id(specialTokens().eos(), vocabSize() - specialTokens().count());
    }

    /** The unknown-token id, or -1 (then unknown input is an error, where it can occur). */
    default int unkId() {
        return specialTokens().id(specialTokens().unk(), vocabSize() - specialTokens().count());
    }

    /** The JSON object {@link #save} writes, with its {@code "type"} first. */
    Map<String, Object> toJson();

    /**
     * Writes {@link #toJson()} to a UTF-8 file atomically (a temporary file renamed over the target).
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    default void save(Path file) {
        try {
            AtomicFiles.writeString(file, Json.write(toJson()) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer to " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a tokenizer written by {@link #save}, of any type.
     *
     * @throws DataException naming the file if it is missing, not JSON, of an unknown type, or has
     *     a missing or malformed field (naming the key)
     */
    static Tokenizer load(Path file) {
        return fromJson(JsonReader.read(Objects.requireNonNull(file, "file")));
    }

    /**
     * A tokenizer from its {@link #toJson()} form, for one embedded in a larger document.
     *
     * @param source names the document in error messages
     * @throws DataException if the type is unknown or a field is missing or malformed
     */
    static Tokenizer fromJson(Map<String, Object> json, String source) {
        return fromJson(JsonReader.of(Objects.requireNonNull(json, "json"), source));
    }

    private static Tokenizer fromJson(JsonReader json) {
        try {
            return fromJsonUnchecked(json);
        } catch (IllegalArgumentException e) { // a field the constructors refuse (an empty special token, ...)
            throw new DataException(json.source(), e.getMessage(), e);
        }
    }

    private static Tokenizer fromJsonUnchecked(JsonReader json) {
        if (!json.has("type") && json.has("model")) {
            return WordPieceTokenizer.fromHuggingFace(json.raw(), json.source()); // a HuggingFace tokenizer.json
        }
        String type = json.string("type");
        return switch (type) {
            case CharTokenizer.TYPE -> CharTokenizer.fromJson(json);
            case WordTokenizer.TYPE -> WordTokenizer.fromJson(json);
            case BpeTokenizer.TYPE -> BpeTokenizer.fromJson(json);
            case WordPieceTokenizer.TYPE -> WordPieceTokenizer.fromJson(json);
            default -> throw new DataException(json.source(), "unknown tokenizer type \"" + type + "\"; expected \""
                    + CharTokenizer.TYPE + "\", \"" + WordTokenizer.TYPE + "\", \"" + BpeTokenizer.TYPE + "\" or \""
                    + WordPieceTokenizer.TYPE + "\" (a HuggingFace tokenizer.json: WordPieceTokenizer.fromHuggingFace)");
        };
    }

    /**
     * Checks an id.
     *
     * @throws IllegalArgumentException if it is outside {@code [0, vocabSize())}
     */
    default void checkId(int id) {
        if (id < 0 || id >= vocabSize()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocabSize()
                    + " tokens (0.." + (vocabSize() - 1) + ")");
        }
    }
}
