package dev.backprop.text;

import dev.backprop.data.DataException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * BERT's WordPiece tokenizer, as HuggingFace {@code tokenizers} runs it from a
 * {@code tokenizer.json} whose model is {@code WordPiece}: the same normalizer, pre-tokenizer,
 * subword model and post-processor, in Java.
 * <ol>
 *   <li><b>Added tokens</b> ({@code [CLS]}, {@code [SEP]}, {@code [MASK]}...) written literally in the text are
 *       split out first and keep their ids.</li>
 *   <li><b>BertNormalizer</b>: drops NUL, U+FFFD and control characters and turns whitespace into
 *       spaces ({@code clean_text}); puts spaces around CJK ideographs ({@code handle_chinese_chars});
 *       removes accents by NFD and dropping non-spacing marks ({@code strip_accents}, by default when
 *       lower-casing); lower-cases character by character ({@code lowercase}).</li>
 *   <li><b>BertPreTokenizer</b>: splits on whitespace (dropped) and on punctuation (each mark a word;
 *       ASCII symbols such as {@code $ + < = > ^ ` |} count as punctuation, as in BERT).</li>
 *   <li><b>WordPiece</b>: each word becomes its longest vocabulary prefix, then the longest
 *       {@code ##}-prefixed continuation, and so on; a word with no such split, or longer than
 *       {@code max_input_chars_per_word} characters, becomes {@code [UNK]}.</li>
 *   <li><b>Post-processing</b> ({@link #encodeForModel}): {@code [CLS] tokens [SEP]}, truncated to
 *       the model's length.</li>
 * </ol>
 *
 * <pre>{@code
 * WordPieceTokenizer tok = WordPieceTokenizer.fromHuggingFace(Path.of("tokenizer.json"));
 * int[] ids = tok.encodeForModel("Hello, world!", 128);   // [101, 7592, 1010, 2088, 999, 102]
 * }</pre>
 *
 * <p>As a {@link Tokenizer}, {@link #encode} gives the ids without {@code [CLS]}/{@code [SEP]}, and
 * {@link #save} writes backprop's own compact form ({@code "type": "wordpiece"}), which
 * {@link Tokenizer#load} reads back. Immutable and thread-safe.
 */
public final class WordPieceTokenizer implements Tokenizer {
    /** The {@code "type"} written by {@link #save}. */
    public static final String TYPE = "wordpiece";

    /**
     * The settings besides the vocabulary.
     *
     * @param cleanText drop control characters and normalise whitespace
     * @param handleChineseChars put spaces around CJK ideographs
     * @param stripAccents remove accents (NFD, then drop non-spacing marks)
     * @param lowercase lower-case the text
     * @param prefix the continuing-subword prefix ({@code "##"})
     * @param maxInputCharsPerWord longer words become the unknown token
     * @param unk the unknown token ({@code [UNK]})
     * @param cls the token opening a sequence ({@code [CLS]})
     * @param sep the token closing a sequence ({@code [SEP]})
     * @param pad the padding token ({@code [PAD]})
     * @param maxLength the longest sequence the model takes, {@code [CLS]} and {@code [SEP]} included
     */
    public record Options(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase,
            String prefix, int maxInputCharsPerWord, String unk, String cls, String sep, String pad, int maxLength) {
        /** Checks the values. */
        public Options {
            Objects.requireNonNull(prefix, "prefix");
            if (maxInputCharsPerWord <= 0 || maxLength < 2) {
                throw new IllegalArgumentException("WordPieceTokenizer: maxInputCharsPerWord must be positive and "
                        + "maxLength at least 2, got " + maxInputCharsPerWord + " and " + maxLength);
            }
        }
    }

    private final String[] vocab;
    private final Map<String, Integer> ids;
    private final Options options;
    private final List<String> added; // added tokens matched literally, longest first
    private final boolean[] special;
    private final int unkId;
    private final int clsId;
    private final int sepId;
    private final int padId;
    private final int maskId;

    /**
     * A tokenizer over a vocabulary in id order.
     *
     * @param vocab the tokens, index = id
     * @param addedTokens tokens matched literally in the text before normalisation (the special tokens)
     * @throws IllegalArgumentException if a token repeats, or the unk/cls/sep/pad tokens are missing
     */
    public WordPieceTokenizer(List<String> vocab, List<String> addedTokens, Options options) {
        this.vocab = vocab.toArray(String[]::new);
        this.options = Objects.requireNonNull(options, "options");
        this.ids = new HashMap<>(vocab.size() * 2);
        for (int i = 0; i < this.vocab.length; i++) {
            if (ids.put(Objects.requireNonNull(this.vocab[i], "token " + i), i) != null) {
                throw new IllegalArgumentException("WordPieceTokenizer: token \"" + this.vocab[i] + "\" appears twice "
                        + "in the vocabulary (ids " + ids.get(this.vocab[i]) + " and " + i + ")");
            }
        }
        this.unkId = require(options.unk(), "unk");
        this.clsId = require(options.cls(), "cls");
        this.sepId = require(options.sep(), "sep");
        this.padId = require(options.pad(), "pad");
        this.maskId = ids.getOrDefault("[MASK]", -1);
        this.special = new boolean[this.vocab.length];
        List<String> sorted = new ArrayList<>();
        for (String t : addedTokens) {
            Integer id = ids.get(t);
            if (id == null) {
                throw new IllegalArgumentException("WordPieceTokenizer: added token \"" + t + "\" is not in the "
                        + "vocabulary");
            }
            special[id] = true;
            sorted.add(t);
        }
        for (int id : new int[] {unkId, clsId, sepId, padId}) {
            special[id] = true;
        }
        sorted.sort(Comparator.comparingInt(String::length).reversed());
        this.added = List.copyOf(sorted);
    }

    private int require(String token, String role) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new IllegalArgumentException("WordPieceTokenizer: the " + role + " token \"" + token
                    + "\" is not in the vocabulary");
        }
        return id;
    }

    // ------------------------------------------------------------------ HuggingFace tokenizer.json

    /**
     * Reads a HuggingFace {@code tokenizer.json} of a BERT-family model (model {@code WordPiece},
     * normalizer {@code BertNormalizer}, pre-tokenizer {@code BertPreTokenizer}).
     *
     * @throws DataException naming the file and the key if it is not such a file (a BPE or Unigram
     *     tokenizer, another normalizer), or a field is missing or malformed
     */
    public static WordPieceTokenizer fromHuggingFace(Path file) {
        return fromHuggingFace(JsonReader.read(Objects.requireNonNull(file, "file")));
    }

    /** {@link #fromHuggingFace(Path)} for an already parsed document; {@code source} names it in errors. */
    public static WordPieceTokenizer fromHuggingFace(Map<String, Object> json, String source) {
        return fromHuggingFace(JsonReader.of(json, source));
    }

    private static WordPieceTokenizer fromHuggingFace(JsonReader json) {
        if (json.has("type") && !json.has("model")) {
            throw new DataException(json.source(), "a backprop tokenizer of type \"" + json.raw().get("type")
                    + "\", not a HuggingFace tokenizer.json; read it with Tokenizer.load");
        }
        JsonReader model = json.object("model");
        String type = model.has("type") ? model.string("type") : "(none)";
        if (!type.equals("WordPiece")) {
            throw new DataException(json.source(), "key \"model.type\": expected a WordPiece tokenizer (BERT family), "
                    + "found \"" + type + "\"; backprop reads BPE models of its own format only (BpeTokenizer)");
        }
        boolean clean = true;
        boolean chinese = true;
        boolean lowercase = true;
        Boolean strip = null;
        if (json.has("normalizer") && json.raw().get("normalizer") != null) {
            JsonReader n = json.object("normalizer");
            String nt = n.string("type");
            if (!nt.equals("BertNormalizer")) {
                throw new DataException(json.source(), "key \"normalizer.type\": expected \"BertNormalizer\", found \""
                        + nt + "\"; this tokenizer.json is not a BERT one backprop can reproduce");
            }
            clean = n.bool("clean_text", true);
            chinese = n.bool("handle_chinese_chars", true);
            lowercase = n.bool("lowercase", true);
            strip = n.raw().get("strip_accents") instanceof Boolean b ? b : null;
        } else {
            clean = false;
            chinese = false;
            lowercase = false;
            strip = false;
        }
        if (json.has("pre_tokenizer") && json.raw().get("pre_tokenizer") != null) {
            String pt = json.object("pre_tokenizer").string("type");
            if (!pt.equals("BertPreTokenizer")) {
                throw new DataException(json.source(), "key \"pre_tokenizer.type\": expected \"BertPreTokenizer\", "
                        + "found \"" + pt + "\"");
            }
        }
        Object vocabObj = model.raw().get("vocab");
        if (!(vocabObj instanceof Map<?, ?> vocabMap)) {
            throw model.error("vocab", "an object of token to id", vocabObj);
        }
        String[] tokens = new String[vocabMap.size()];
        for (Map.Entry<?, ?> e : vocabMap.entrySet()) {
            if (!(e.getValue() instanceof Number n) || n.longValue() < 0 || n.longValue() >= tokens.length
                    || tokens[n.intValue()] != null) {
                throw model.error("vocab." + e.getKey(), "a distinct id in [0, " + tokens.length + ")", e.getValue());
            }
            tokens[n.intValue()] = (String) e.getKey();
        }
        String unk = model.has("unk_token") ? model.string("unk_token") : "[UNK]";
        String prefix = model.has("continuing_subword_prefix") ? model.string("continuing_subword_prefix") : "##";
        int maxChars = model.has("max_input_chars_per_word")
                ? ((Number) model.raw().get("max_input_chars_per_word")).intValue() : 100;
        String cls = "[CLS]";
        String sep = "[SEP]";
        if (json.has("post_processor") && json.raw().get("post_processor") != null) {
            JsonReader pp = json.object("post_processor");
            String ppt = pp.string("type");
            switch (ppt) {
                case "BertProcessing" -> {
                    cls = (String) pp.list("cls").get(0);
                    sep = (String) pp.list("sep").get(0);
                }
                case "TemplateProcessing" -> {
                    List<Object> single = pp.list("single");
                    List<String> specials = new ArrayList<>();
                    boolean sequenceInMiddle = false;
                    for (Object o : single) {
                        if (o instanceof Map<?, ?> m && m.get("SpecialToken") instanceof Map<?, ?> st) {
                            specials.add((String) st.get("id"));
                        } else if (o instanceof Map<?, ?> m && m.containsKey("Sequence")) {
                            sequenceInMiddle = specials.size() == 1;
                        }
                    }
                    if (specials.size() != 2 || !sequenceInMiddle) {
                        throw new DataException(json.source(), "key \"post_processor.single\": expected the template "
                                + "[CLS] $A [SEP], found " + single);
                    }
                    cls = specials.get(0);
                    sep = specials.get(1);
                }
                default -> throw new DataException(json.source(), "key \"post_processor.type\": expected "
                        + "\"TemplateProcessing\" or \"BertProcessing\", found \"" + ppt + "\"");
            }
        }
        String pad = "[PAD]";
        if (json.has("padding") && json.raw().get("padding") instanceof Map<?, ?> p && p.get("pad_token") instanceof String s) {
            pad = s;
        }
        int maxLength = 512;
        if (json.has("truncation") && json.raw().get("truncation") instanceof Map<?, ?> t
                && t.get("max_length") instanceof Number n) {
            maxLength = n.intValue();
        }
        List<String> addedTokens = new ArrayList<>();
        if (json.has("added_tokens")) {
            for (Object o : json.list("added_tokens")) {
                if (o instanceof Map<?, ?> m && m.get("content") instanceof String c) {
                    addedTokens.add(c);
                }
            }
        }
        try {
            return new WordPieceTokenizer(Arrays.asList(tokens), addedTokens, new Options(clean, chinese,
                    strip == null ? lowercase : strip, lowercase, prefix, maxChars, unk, cls, sep, pad, maxLength));
        } catch (IllegalArgumentException e) {
            throw new DataException(json.source(), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ encoding

    /** The ids of a text without {@code [CLS]}/{@code [SEP]}, never truncated. */
    @Override
    public int[] encode(String text) {
        IntList out = new IntList(16);
        String rest = Objects.requireNonNull(text, "text");
        // split out the added tokens, leftmost first (longest when several start at the same place)
        int from = 0;
        while (from <= rest.length()) {
            int best = -1;
            String bestToken = null;
            for (String t : added) {
                int at = rest.indexOf(t, from);
                if (at >= 0 && (best < 0 || at < best)) {
                    best = at;
                    bestToken = t;
                }
            }
            if (best < 0) {
                encodeSegment(rest.substring(from), out);
                break;
            }
            encodeSegment(rest.substring(from, best), out);
            out.add(ids.get(bestToken));
            from = best + bestToken.length();
        }
        return out.toArray();
    }

    /**
     * The ids the model takes: {@code [CLS] ids [SEP]}, the ids truncated so that the whole is at
     * most {@code maxLength} long.
     *
     * @throws IllegalArgumentException if maxLength is below 2
     */
    public int[] encodeForModel(String text, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 ([CLS] and [SEP]), got " + maxLength);
        }
        int[] body = encode(text);
        int n = Math.min(body.length, maxLength - 2);
        int[] out = new int[n + 2];
        out[0] = clsId;
        System.arraycopy(body, 0, out, 1, n);
        out[n + 1] = sepId;
        return out;
    }

    /** {@link #encodeForModel(String, int)} with the tokenizer's own maximum length. */
    public int[] encodeForModel(String text) {
        return encodeForModel(text, options.maxLength());
    }

    /** The normalised text (BertNormalizer), for inspection. */
    public String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (options.cleanText()) {
                if (c == 0 || c == 0xFFFD || isControl(c)) {
                    return;
                }
                if (isWhitespace(c)) {
                    sb.append(' ');
                    return;
                }
            }
            if (options.handleChineseChars() && isChinese(c)) {
                sb.append(' ').appendCodePoint(c).append(' ');
            } else {
                sb.appendCodePoint(c);
            }
        });
        String s = sb.toString();
        if (options.stripAccents()) {
            String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
            StringBuilder kept = new StringBuilder(nfd.length());
            nfd.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK)
                    .forEach(kept::appendCodePoint);
            s = kept.toString();
        }
        if (options.lowercase()) {
            StringBuilder lower = new StringBuilder(s.length());
            // character by character, as HuggingFace does: no final-sigma rule; İ becomes i + combining dot
            s.codePoints().forEach(c -> {
                if (c == 0x130) {
                    lower.append("i\u0307");
                } else {
                    lower.appendCodePoint(Character.toLowerCase(c));
                }
            });
            s = lower.toString();
        }
        return s;
    }

    /** The words of a normalised text (BertPreTokenizer). */
    public List<String> preTokenize(String normalized) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        normalized.codePoints().forEach(c -> {
            if (isWhitespace(c)) {
                flush(word, words);
            } else if (isPunctuation(c)) {
                flush(word, words);
                words.add(new String(Character.toChars(c)));
            } else {
                word.appendCodePoint(c);
            }
        });
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (!word.isEmpty()) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    private void encodeSegment(String segment, IntList out) {
        if (segment.isEmpty()) {
            return;
        }
        for (String w : preTokenize(normalize(segment))) {
            wordPiece(w, out);
        }
    }

    private void wordPiece(String word, IntList out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > options.maxInputCharsPerWord()) {
            out.add(unkId);
            return;
        }
        int mark = out.size();
        int start = 0;
        while (start < cps.length) {
            int end = cps.length;
            int found = -1;
            while (start < end) {
                String sub = new String(cps, start, end - start);
                Integer id = ids.get(start > 0 ? options.prefix() + sub : sub);
                if (id != null) {
                    found = id;
                    break;
                }
                end--;
            }
            if (found < 0) {
                out.truncate(mark);
                out.add(unkId);
                return;
            }
            out.add(found);
            start = end;
        }
    }

    static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x85 || c == 0xA0
                || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F
                || c == 0x205F || c == 0x3000;
    }

    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
                || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    static boolean isPunctuation(int c) {
        if (c < 128) {
            return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        }
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.END_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.OTHER_PUNCTUATION, Character.START_PUNCTUATION -> true;
            default -> false;
        };
    }

    static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    // ------------------------------------------------------------------ decoding and ids

    /** The text of ids, as HuggingFace's WordPiece decoder with cleanup ({@code ##} pieces glued). */
    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i]);
            String t = vocab[ids[i]];
            if (i > 0 && t.startsWith(options.prefix())) {
                sb.append(t, options.prefix().length(), t.length());
            } else {
                if (i > 0) {
                    sb.append(' ');
                }
                sb.append(t);
            }
        }
        return sb.toString().replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    @Override
    public boolean isSpecial(int id) {
        checkId(id);
        return special[id];
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public int vocabSize() {
        return vocab.length;
    }

    @Override
    public String token(int id) {
        checkId(id);
        return vocab[id];
    }

    @Override
    public int id(String token) {
        return ids.getOrDefault(token, -1);
    }

    @Override
    public SpecialTokens specialTokens() {
        return new SpecialTokens(options.pad(), options.cls(), options.sep(), options.unk(),
                maskId >= 0 ? List.of(vocab[maskId]) : List.of());
    }

    @Override
    public int padId() {
        return padId;
    }

    /** The id of {@code [CLS]}. */
    @Override
    public int bosId() {
        return clsId;
    }

    /** The id of {@code [SEP]}. */
    @Override
    public int eosId() {
        return sepId;
    }

    @Override
    public int unkId() {
        return unkId;
    }

    /** The settings. */
    public Options options() {
        return options;
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", TYPE);
        m.put("clean_text", options.cleanText());
        m.put("handle_chinese_chars", options.handleChineseChars());
        m.put("strip_accents", options.stripAccents());
        m.put("lowercase", options.lowercase());
        m.put("continuing_subword_prefix", options.prefix());
        m.put("max_input_chars_per_word", options.maxInputCharsPerWord());
        m.put("unk_token", options.unk());
        m.put("cls_token", options.cls());
        m.put("sep_token", options.sep());
        m.put("pad_token", options.pad());
        m.put("max_length", options.maxLength());
        List<String> addedTokens = new ArrayList<>();
        for (int i = 0; i < vocab.length; i++) {
            if (special[i] && added.contains(vocab[i])) {
                addedTokens.add(vocab[i]);
            }
        }
        m.put("added_tokens", addedTokens);
        m.put("vocab", Arrays.asList(vocab));
        return m;
    }

    static WordPieceTokenizer fromJson(JsonReader json) {
        Options o = new Options(json.bool("clean_text", true), json.bool("handle_chinese_chars", true),
                json.bool("strip_accents", true), json.bool("lowercase", true), json.string("continuing_subword_prefix"),
                ((Number) json.raw().getOrDefault("max_input_chars_per_word", 100)).intValue(), json.string("unk_token"),
                json.string("cls_token"), json.string("sep_token"), json.string("pad_token"),
                ((Number) json.raw().getOrDefault("max_length", 512)).intValue());
        try {
            return new WordPieceTokenizer(json.stringList("vocab"), json.stringList("added_tokens"), o);
        } catch (IllegalArgumentException e) {
            throw new DataException(json.source(), e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "WordPieceTokenizer(" + vocab.length + " tokens, lowercase=" + options.lowercase() + ")";
    }
}
