package dev.backprop.text;

import dev.backprop.data.DataException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One token per word or punctuation mark, with a vocabulary learned from a corpus: the most
 * frequent words, up to a cap, and an unknown token for the rest.
 *
 * <pre>{@code
 * WordTokenizer tok = WordTokenizer.train(sentences, WordTokenizer.Options.DEFAULT
 *         .withMaxWords(10_000).withMinFrequency(2).withLowercase(true));
 * tok.encode("Don't panic!");           // ids of "don't", "panic", "!"
 * }</pre>
 *
 * <h2>Pre-tokenisation ({@link #split})</h2>
 *
 * The text is lower-cased first when the tokenizer lower-cases ({@link String#toLowerCase(Locale)}
 * with {@link Locale#ROOT}). Then, code point by code point:
 *
 * <ul>
 *   <li>whitespace ({@link Character#isWhitespace} or {@link Character#isSpaceChar}) separates
 *       tokens and is dropped;
 *   <li>a <em>word</em> is a maximal run of letters, combining marks, digits and other numbers, and
 *       connector punctuation such as {@code _} (Unicode categories L, M, N and Pc); an apostrophe
 *       ({@code '} or {@code ’}) with a word character on both sides belongs to the word
 *       ({@code don't}, {@code l'homme});
 *   <li>every other character (punctuation, symbols, emoji, controls) is a token by itself.
 * </ul>
 *
 * So {@code "Hello, world... it's 3.5km!"} is {@code Hello , world . . . it's 3 . 5km !}.
 *
 * <h2>Vocabulary</h2>
 *
 * Words are counted over the corpus after pre-tokenisation. Those seen at least
 * {@code minFrequency} times are ordered by count, most frequent first, ties by the word's code
 * points in ascending order (so the result never depends on hash order), and the first
 * {@code maxWords} are ids 0, 1, 2, ...; the special tokens follow.
 *
 * <h2>Decoding</h2>
 *
 * {@link #decode} joins the tokens with single spaces: it is not the inverse of {@link #encode}
 * (spacing, and case when lower-casing, are lost), but it is what BLEU's tokenisation sees alike.
 *
 * <p>Saved as {@code {"type":"word","lowercase":false,"words":[...],"special_tokens":{...}}}.
 */
public final class WordTokenizer extends AbstractTokenizer {
    static final String TYPE = "word";

    /**
     * How to learn a vocabulary.
     *
     * @param maxWords the most words kept (special tokens not counted), at least 1
     * @param minFrequency the fewest occurrences a word needs to be kept, at least 1
     * @param lowercase lower-case text before splitting it, in training and encoding
     * @param specials the special tokens; with an unk token, unknown words map to it, without
     *     one they are an error
     */
    public record Options(int maxWords, int minFrequency, boolean lowercase, SpecialTokens specials) {
        /** At most 30,000 words, each seen at least once, case kept, {@link SpecialTokens#DEFAULT}. */
        public static final Options DEFAULT = new Options(30_000, 1, false, SpecialTokens.DEFAULT);

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException if {@code maxWords} or {@code minFrequency} is below 1
         */
        public Options {
            if (maxWords < 1) {
                throw new IllegalArgumentException("maxWords must be at least 1, got " + maxWords);
            }
            if (minFrequency < 1) {
                throw new IllegalArgumentException("minFrequency must be at least 1, got " + minFrequency);
            }
            Objects.requireNonNull(specials, "specials");
        }

        /** These options with another word cap. */
        public Options withMaxWords(int value) {
            return new Options(value, minFrequency, lowercase, specials);
        }

        /** These options with another minimum frequency. */
        public Options withMinFrequency(int value) {
            return new Options(maxWords, value, lowercase, specials);
        }

        /** These options with lower-casing on or off. */
        public Options withLowercase(boolean value) {
            return new Options(maxWords, minFrequency, value, specials);
        }

        /** These options with other special tokens. */
        public Options withSpecials(SpecialTokens value) {
            return new Options(maxWords, minFrequency, lowercase, value);
        }
    }

    private final List<String> words; // by id
    private final Map<String, Integer> ids;
    private final boolean lowercase;

    private WordTokenizer(List<String> words, Map<String, Integer> ids, boolean lowercase, SpecialTokens specials) {
        super(specials, words.size(), w -> ids.getOrDefault(w, -1), "word");
        this.words = words;
        this.ids = ids;
        this.lowercase = lowercase;
    }

    /**
     * Learns the vocabulary of a corpus (see the class comment).
     *
     * @param texts the training texts: lines, sentences or documents
     * @throws IllegalArgumentException if a text has an unpaired surrogate, or no text has a word
     */
    public static WordTokenizer train(Iterable<String> texts, Options options) {
        Map<String, long[]> counts = new HashMap<>();
        int index = 0;
        for (String text : texts) {
            Unicode.requireWellFormed(text, "text " + index);
            for (String w : split(text, options.lowercase())) {
                counts.computeIfAbsent(w, _ -> new long[1])[0]++;
            }
            index++;
        }
        if (counts.isEmpty()) {
            throw new IllegalArgumentException("the training texts (" + index + ") have no words; expected some text");
        }
        List<Map.Entry<String, long[]>> kept = new ArrayList<>();
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            if (e.getValue()[0] >= options.minFrequency()) {
                kept.add(e);
            }
        }
        kept.sort((a, b) -> {
            int byCount = Long.compare(b.getValue()[0], a.getValue()[0]);
            return byCount != 0 ? byCount : compareCodePoints(a.getKey(), b.getKey());
        });
        List<String> words = new ArrayList<>();
        for (int i = 0; i < Math.min(kept.size(), options.maxWords()); i++) {
            words.add(kept.get(i).getKey());
        }
        return build(words, options.lowercase(), options.specials());
    }

    /**
     * A tokenizer with a given vocabulary: word i has id i.
     *
     * @throws IllegalArgumentException if a word is empty or occurs twice, or a special token is
     *     also a word
     */
    public static WordTokenizer of(List<String> words, boolean lowercase, SpecialTokens specials) {
        for (String w : words) {
            Unicode.requireWellFormed(w, "word \"" + w + "\"");
        }
        return build(List.copyOf(words), lowercase, specials);
    }

    private static WordTokenizer build(List<String> words, boolean lowercase, SpecialTokens specials) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (w.isEmpty()) {
                throw new IllegalArgumentException("word " + i + " of the vocabulary is empty");
            }
            Integer before = ids.put(w, i);
            if (before != null) {
                throw new IllegalArgumentException("word \"" + w + "\" occurs twice in the vocabulary (ids " + before
                        + " and " + i + ")");
            }
        }
        return new WordTokenizer(List.copyOf(words), ids, lowercase, specials);
    }

    static WordTokenizer fromJson(JsonReader json) {
        List<String> words = json.stringList("words");
        boolean lowercase = json.bool("lowercase", false);
        SpecialTokens specials = SpecialTokens.fromJson(json, "special_tokens");
        try {
            return of(words, lowercase, specials);
        } catch (IllegalArgumentException e) {
            throw new DataException(json.source(), "key \"words\": " + e.getMessage(), e);
        }
    }

    /** Compares strings by code point, not by UTF-16 unit (they differ above U+FFFF). */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /**
     * The tokens of a text by this package's word pre-tokenisation (see the class comment).
     *
     * @param lowercase lower-case the text first
     */
    public static List<String> split(String text, boolean lowercase) {
        String s = lowercase ? text.toLowerCase(Locale.ROOT) : text;
        List<String> out = new ArrayList<>();
        split(s, (start, end) -> out.add(s.substring(start, end)));
        return out;
    }

    private interface Sink {
        void token(int start, int end);
    }

    /** Calls {@code sink} with the [start, end) UTF-16 range of each token of {@code s}. */
    private static void split(String s, Sink sink) {
        int i = 0;
        int n = s.length();
        while (i < n) {
            int cp = s.codePointAt(i);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                i += Character.charCount(cp);
            } else if (isWordChar(cp)) {
                int start = i;
                i += Character.charCount(cp);
                while (i < n) {
                    int c = s.codePointAt(i);
                    if (isWordChar(c)) {
                        i += Character.charCount(c);
                    } else if ((c == '\'' || c == '\u2019') && i + 1 < n && isWordChar(s.codePointAt(i + 1))) {
                        i++;
                    } else {
                        break;
                    }
                }
                sink.token(start, i);
            } else {
                int start = i;
                i += Character.charCount(cp);
                sink.token(start, i);
            }
        }
    }

    private static boolean isWordChar(int cp) {
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER, Character.NON_SPACING_MARK,
                    Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK, Character.DECIMAL_DIGIT_NUMBER,
                    Character.LETTER_NUMBER, Character.OTHER_NUMBER, Character.CONNECTOR_PUNCTUATION -> true;
            default -> false;
        };
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** Whether text is lower-cased before it is split. */
    public boolean lowercase() {
        return lowercase;
    }

    /** The words in id order (special tokens not included). */
    public List<String> words() {
        return words;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException without an unknown token: at the first word not in the
     *     vocabulary, naming it and its UTF-16 index in the (lower-cased) text
     */
    @Override
    public int[] encode(String text) {
        String s = lowercase ? text.toLowerCase(Locale.ROOT) : text;
        IntList out = new IntList(16);
        split(s, (start, end) -> {
            String w = s.substring(start, end);
            Integer id = ids.get(w);
            if (id == null && unkId() < 0) {
                throw new IllegalArgumentException("word \"" + w + "\" at index " + start + (lowercase ? " of the"
                        + " lower-cased text" : "") + " is not in the vocabulary of " + words.size() + " words, and the"
                        + " tokenizer has no unknown token; give it SpecialTokens with an unk token");
            }
            out.add(id == null ? unkId() : id);
        });
        return out.toArray();
    }

    /** The tokens of the ids joined by single spaces (see the class comment). */
    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(token(id));
        }
        return sb.toString();
    }

    @Override
    public String token(int id) {
        checkId(id);
        return id < baseSize ? words.get(id) : specialText(id);
    }

    @Override
    public int id(String token) {
        int special = specialId(token);
        if (special >= 0) {
            return special;
        }
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("type", TYPE);
        json.put("lowercase", lowercase);
        json.put("words", words);
        if (!specialTokens().all().isEmpty()) {
            json.put("special_tokens", specialTokens().toJson());
        }
        return json;
    }
}
