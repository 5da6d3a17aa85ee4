package dev.backprop.data;

import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A UTF-8 text for a character-level language model: its vocabulary, its characters encoded as
 * token ids, and a train/validation split (the first {@code trainFraction} of the characters for
 * training, the rest for validation), as tiny-Shakespeare workloads do:
 *
 * <pre>{@code
 * TextCorpus corpus = TextCorpus.read(Path.of("tinyshakespeare.txt"));     // 90% / 10%
 * WindowSampler train = corpus.trainWindows(64);
 * Batch b = train.sample(12, gen);                                          // (12, 64) int64
 * String s = corpus.vocab().decode(b.inputs());
 * }</pre>
 *
 * <p>Characters are Unicode code points (as in Python's {@code str}), the vocabulary is the sorted
 * distinct characters of the whole text, and the split point is {@code (int) (trainFraction * L)}
 * for a text of L characters.
 */
public final class TextCorpus {
    /** The split of {@link #read(Path)}: 90% training, 10% validation. */
    public static final double DEFAULT_TRAIN_FRACTION = 0.9;

    private final String text;
    private final CharVocab vocab;
    private final Tensor tokens; // (L) int64
    private final int split; // tokens [0, split) train, [split, L) validation

    private TextCorpus(String text, double trainFraction) {
        this(text, trainFraction, CharVocab.of(text));
    }

    private TextCorpus(String text, double trainFraction, CharVocab vocab) {
        if (!(trainFraction >= 0 && trainFraction <= 1)) {
            throw new IllegalArgumentException("train fraction must lie in [0, 1], got " + trainFraction);
        }
        this.text = text;
        this.vocab = vocab;
        this.tokens = vocab.encodeTensor(text);
        this.split = (int) (trainFraction * tokens.numel());
    }

    /** A corpus of {@code text} with the given training fraction. */
    public static TextCorpus of(String text, double trainFraction) {
        return new TextCorpus(Objects.requireNonNull(text, "text"), trainFraction);
    }

    /**
     * A corpus of {@code text} over a given vocabulary (the vocabulary of a model being fine-tuned,
     * extended with the text's new characters by the caller).
     *
     * @throws IllegalArgumentException if the text has characters the vocabulary lacks (naming them)
     */
    public static TextCorpus of(String text, double trainFraction, CharVocab vocab) {
        int[] unknown = vocab.unknown(Objects.requireNonNull(text, "text"));
        if (unknown.length > 0) {
            throw new IllegalArgumentException("the text has " + unknown.length + " characters the vocabulary lacks: "
                    + CharVocab.describe(unknown));
        }
        return new TextCorpus(text, trainFraction, vocab);
    }

    /** Reads a UTF-8 file, 90% training and 10% validation. */
    public static TextCorpus read(Path file) {
        return read(file, DEFAULT_TRAIN_FRACTION);
    }

    /**
     * Reads a UTF-8 file.
     *
     * @throws DataException if the file is missing, unreadable or not valid UTF-8 (the message gives
     *     the byte offset and the bad bytes)
     */
    public static TextCorpus read(Path file, double trainFraction) {
        return new TextCorpus(readUtf8(file), trainFraction);
    }

    /**
     * The contents of a file as strictly decoded UTF-8.
     *
     * @throws DataException if the file is missing or unreadable, or at the first invalid byte
     *     sequence, with its byte offset
     */
    public static String readUtf8(Path file) {
        String source = file.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(source, "no such file", e);
        } catch (IOException e) {
            throw new DataException(source, "cannot read the file: " + e, e);
        }
        return decodeUtf8(bytes, source);
    }

    /**
     * Strictly decodes UTF-8 (no replacement characters): overlong forms, surrogates, stray
     * continuation bytes and a sequence cut off at the end are errors.
     *
     * @param source names the input in the error message
     * @throws DataException at the first invalid byte sequence, with its byte offset
     */
    public static String decodeUtf8(byte[] bytes, String source) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never needs more chars than bytes
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            int at = in.position();
            StringBuilder shown = new StringBuilder();
            for (int i = at; i < Math.min(bytes.length, at + Math.max(r.length(), 1)); i++) {
                shown.append(String.format(" 0x%02X", bytes[i] & 0xFF));
            }
            throw new DataException(source, "invalid UTF-8 at byte offset " + at + " (bytes" + shown + " do not form a"
                    + " valid character); the text must be UTF-8");
        }
        out.flip();
        return out.toString();
    }

    /** The whole text. */
    public String text() {
        return text;
    }

    /** The vocabulary (sorted distinct characters of the whole text). */
    public CharVocab vocab() {
        return vocab;
    }

    /** The length in characters (code points), L. */
    public int length() {
        return tokens.numel();
    }

    /** The number of training characters: {@code (int) (trainFraction * L)}. */
    public int trainLength() {
        return split;
    }

    /** The whole text as token ids, (L) int64. */
    public Tensor tokens() {
        return tokens;
    }

    /** The training part, the first {@link #trainLength()} tokens: a view, (L_train) int64. */
    public Tensor train() {
        return tokens.slice(0, 0, split);
    }

    /** The validation part, the remaining tokens: a view, (L - L_train) int64. */
    public Tensor val() {
        return tokens.slice(0, split, tokens.numel());
    }

    /** Random windows of the training part. */
    public WindowSampler trainWindows(int blockSize) {
        return new WindowSampler(train(), blockSize);
    }

    /** Random windows of the validation part. */
    public WindowSampler valWindows(int blockSize) {
        return new WindowSampler(val(), blockSize);
    }

    @Override
    public String toString() {
        return "TextCorpus(" + length() + " characters, vocabulary " + vocab.size() + ", train " + split + ", val "
                + (length() - split) + ")";
    }
}
