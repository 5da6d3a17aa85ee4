package dev.backprop.text;

import dev.backprop.data.DataException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Byte-level byte-pair encoding, as GPT-2's tokenizer: text becomes UTF-8 bytes, ids 0..255 are
 * the 256 bytes, and each learned merge of two adjacent tokens into one is a further id. Every
 * string has an encoding, so there is no unknown input, and {@code decode(encode(s))} equals
 * {@code s} for every Java string.
 *
 * <pre>{@code
 * BpeTokenizer tok = BpeTokenizer.train(lines, 4000, SpecialTokens.DEFAULT);  // 3744 merges + 4 specials
 * int[] ids = tok.encode("naïve café ☕");
 * tok.decode(ids);                                                             // "naïve café ☕"
 * }</pre>
 *
 * <h2>Ids</h2>
 *
 * Id b &lt; 256 is the byte b; id 256 + r is merge r (the r-th merge learned); the special tokens
 * follow the merges. {@link #token(int)} writes a token's bytes in GPT-2's printable byte alphabet
 * (a space is {@code Ġ}, a newline {@code Ċ}), and {@link #tokenBytes(int)} gives the bytes.
 *
 * <h2>Pre-tokenisation</h2>
 *
 * Before merging, the text is split into pieces with a regular expression ({@link #pattern()}),
 * and merges never cross pieces, so a token never spans two words. The default,
 * {@link #DEFAULT_PATTERN}, is GPT-2's with combining marks kept with their letters:
 * <pre>{@code '(?:[sdmt]|ll|ve|re)| ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|\s+(?!\S)|\s+}</pre>
 * that is: English contraction endings; a run of letters (with an optional space before it); a
 * run of digits; a run of other characters (punctuation, symbols); whitespace, leaving the last
 * space of a run to the word after it. {@code \s} is ASCII whitespace here. Text that the pattern
 * does not match (none, with the default) is a piece of its own, so the encoding still covers
 * every character. The pattern is saved with the tokenizer.
 *
 * <h2>Training</h2>
 *
 * {@link #train} counts the distinct pieces of the corpus, then repeats: count every pair of
 * adjacent tokens within the pieces (a piece seen n times counts n times), merge the most frequent
 * pair into a new token everywhere (left to right, so {@code a a a} becomes {@code aa a}). Ties
 * between equally frequent pairs go to the smaller pair in (left id, right id) order, that is to
 * the pair of older tokens, bytes in byte order; so training is deterministic. It stops at the
 * requested vocabulary size or when no pair is left (every piece is one token).
 *
 * <h2>Encoding</h2>
 *
 * Each piece's bytes are merged in the order the merges were learned: repeatedly, the adjacent
 * pair with the earliest merge is merged, leftmost first, as GPT-2's {@code bpe()} does.
 *
 * <h2>Strings that are not Unicode text</h2>
 *
 * A Java string may hold an unpaired surrogate ({@code "\uD800"}), which has no UTF-8 encoding.
 * Instead of replacing it (which would break the round trip), it is encoded as the three bytes
 * of its code unit ({@code ED A0 80}, the WTF-8 convention) and decoded back to the same
 * surrogate. Decoding ids that do not form valid UTF-8 (a sequence cut in the middle of a
 * character, as a sampled sequence may be) gives U+FFFD for each invalid part.
 *
 * <p>Saved as {@code {"type":"bpe","pattern":"...","merges":[[left,right],...],"special_tokens":{...}}}.
 */
public final class BpeTokenizer extends AbstractTokenizer {
    static final String TYPE = "bpe";

    /** The default pre-tokenisation pattern (see the class comment). */
    public static final String DEFAULT_PATTERN =
            "'(?:[sdmt]|ll|ve|re)| ?[\\p{L}\\p{M}]+| ?\\p{N}+| ?[^\\s\\p{L}\\p{M}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /**
     * Pre-tokenisation patterns a tokenizer file may name: a regular expression is code, and one
     * read from an untrusted file could take exponential time on ordinary text (catastrophic
     * backtracking), so {@link Tokenizer#load} accepts only {@link #DEFAULT_PATTERN} and the
     * patterns registered with {@link #trustPattern(String)}.
     */
    private static final java.util.Set<String> TRUSTED_PATTERNS =
            ConcurrentHashMap.newKeySet();

    static {
        TRUSTED_PATTERNS.add(DEFAULT_PATTERN);
    }

    /**
     * Lets tokenizer files with this pre-tokenisation pattern load (a tokenizer trained with
     * {@link #train(Iterable, int, SpecialTokens, String)} saves its pattern; register it before
     * {@link Tokenizer#load} reads the file back).
     *
     * @throws IllegalArgumentException if the pattern is invalid
     */
    public static void trustPattern(String pattern) {
        compile(pattern);
        TRUSTED_PATTERNS.add(pattern);
    }

    /** The number of byte tokens, ids 0..255. */
    public static final int NUM_BYTES = 256;

    private static final int CACHE_LIMIT = 100_000;

    private final Pattern pattern;
    private final int[] mergeLeft; // by rank
    private final int[] mergeRight;
    private final LongLongMap ranks; // pair(left, right) -> rank
    private final byte[][] bytes; // by id, for ids below baseSize
    private final Map<String, Integer> printable; // token(id) -> id, base tokens
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeTokenizer(Pattern pattern, int[] mergeLeft, int[] mergeRight, LongLongMap ranks, byte[][] bytes,
            Map<String, Integer> printable, SpecialTokens specials) {
        super(specials, NUM_BYTES + mergeLeft.length, lookup(printable), "token");
        this.pattern = pattern;
        this.mergeLeft = mergeLeft;
        this.mergeRight = mergeRight;
        this.ranks = ranks;
        this.bytes = bytes;
        this.printable = printable;
    }

    private static ToIntFunction<String> lookup(Map<String, Integer> printable) {
        return s -> printable.getOrDefault(s, -1);
    }

    /**
     * Learns merges on a corpus with the default pre-tokenisation (see the class comment).
     *
     * @param texts the training texts: lines, documents, or one big string
     * @param vocabSize the size of the vocabulary before special tokens: 256 byte tokens plus the
     *     merges, so at least 256; fewer when the corpus runs out of pairs
     * @param specials the special tokens, numbered after the merges
     */
    public static BpeTokenizer train(Iterable<String> texts, int vocabSize, SpecialTokens specials) {
        return train(texts, vocabSize, specials, DEFAULT_PATTERN);
    }

    /**
     * Learns merges on a corpus with a pre-tokenisation pattern of one's own.
     *
     * @param pattern a {@link Pattern} whose matches are the pieces merges stay within
     * @throws IllegalArgumentException if {@code vocabSize} is below 256 or the pattern is invalid
     */
    public static BpeTokenizer train(Iterable<String> texts, int vocabSize, SpecialTokens specials, String pattern) {
        if (vocabSize < NUM_BYTES) {
            throw new IllegalArgumentException("vocabSize must be at least " + NUM_BYTES + " (the byte tokens), got "
                    + vocabSize);
        }
        Objects.requireNonNull(specials, "specials");
        Pattern compiled = compile(pattern);
        int[][] merges = BpeTrainer.learn(texts, compiled, vocabSize - NUM_BYTES);
        return build(compiled, merges[0], merges[1], specials);
    }

    /**
     * A tokenizer with given merges: {@code merges.get(r)} is {@code {left, right}}, merged into id
     * 256 + r.
     *
     * @throws IllegalArgumentException if a merge refers to an id that does not exist before it,
     *     a pair is merged twice, or the pattern is invalid
     */
    public static BpeTokenizer of(List<int[]> merges, SpecialTokens specials, String pattern) {
        int[] left = new int[merges.size()];
        int[] right = new int[merges.size()];
        for (int r = 0; r < merges.size(); r++) {
            int[] m = merges.get(r);
            if (m.length != 2) {
                throw new IllegalArgumentException("merge " + r + " has " + m.length + " ids; expected a pair"
                        + " {left, right}");
            }
            left[r] = m[0];
            right[r] = m[1];
        }
        return build(compile(pattern), left, right, specials);
    }

    private static Pattern compile(String pattern) {
        try {
            return Pattern.compile(Objects.requireNonNull(pattern, "pattern"));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid pre-tokenisation pattern: " + e.getMessage(), e);
        }
    }

    private static BpeTokenizer build(Pattern pattern, int[] left, int[] right, SpecialTokens specials) {
        int n = NUM_BYTES + left.length;
        byte[][] bytes = new byte[n][];
        for (int b = 0; b < NUM_BYTES; b++) {
            bytes[b] = new byte[] {(byte) b};
        }
        LongLongMap ranks = new LongLongMap(left.length);
        for (int r = 0; r < left.length; r++) {
            int id = NUM_BYTES + r;
            for (int side : new int[] {left[r], right[r]}) {
                if (side < 0 || side >= id) {
                    throw new IllegalArgumentException("merge " + r + " [" + left[r] + ", " + right[r] + "] refers to id "
                            + side + ", which does not exist before it (ids 0.." + (id - 1) + ")");
                }
            }
            long key = LongLongMap.pair(left[r], right[r]);
            long before = ranks.get(key, -1);
            if (before >= 0) {
                throw new IllegalArgumentException("merge " + r + " [" + left[r] + ", " + right[r] + "] repeats merge "
                        + before);
            }
            ranks.put(key, r);
            byte[] a = bytes[left[r]];
            byte[] b = bytes[right[r]];
            byte[] ab = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, ab, a.length, b.length);
            bytes[id] = ab;
        }
        Map<String, Integer> printable = new HashMap<>(n * 2);
        for (int id = 0; id < n; id++) {
            // two merges may spell the same bytes ((ab)c and a(bc)); the token text maps to the first
            printable.putIfAbsent(ByteAlphabet.printable(bytes[id]), id);
        }
        return new BpeTokenizer(pattern, left, right, ranks, bytes, printable, specials);
    }

    static BpeTokenizer fromJson(JsonReader json) {
        String pattern = json.has("pattern") ? json.string("pattern") : DEFAULT_PATTERN;
        if (!TRUSTED_PATTERNS.contains(pattern)) {
            throw new DataException(json.source(), "the pre-tokenisation \"pattern\" is not one this program trusts: "
                    + "a regular expression from a file could hang the tokenizer (catastrophic backtracking); "
                    + "expected the default pattern or one registered with BpeTokenizer.trustPattern, found "
                    + dev.backprop.io.Json.write(pattern.length() > 200 ? pattern.substring(0, 200) + "..." : pattern));
        }
        List<Object> raw = json.list("merges");
        List<int[]> merges = new ArrayList<>(raw.size());
        for (int r = 0; r < raw.size(); r++) {
            if (!(raw.get(r) instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof Long a)
                    || !(pair.get(1) instanceof Long b) || a < 0 || b < 0 || a > Integer.MAX_VALUE
                    || b > Integer.MAX_VALUE) {
                throw json.error("merges[" + r + "]", "a pair of token ids [left, right]", raw.get(r));
            }
            merges.add(new int[] {(int) (long) a, (int) (long) b});
        }
        SpecialTokens specials = SpecialTokens.fromJson(json, "special_tokens");
        try {
            return of(merges, specials, pattern);
        } catch (IllegalArgumentException e) {
            throw new DataException(json.source(), e.getMessage(), e);
        }
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The pre-tokenisation pattern. */
    public String pattern() {
        return pattern.pattern();
    }

    /** The number of merges, {@code vocabSize() - 256 - specialTokens().count()}. */
    public int numMerges() {
        return mergeLeft.length;
    }

    /** The merges in the order learned: element r is {@code {left, right}}, which became id 256 + r. */
    public List<int[]> merges() {
        List<int[]> out = new ArrayList<>(mergeLeft.length);
        for (int r = 0; r < mergeLeft.length; r++) {
            out.add(new int[] {mergeLeft[r], mergeRight[r]});
        }
        return out;
    }

    /**
     * The bytes of a token; for a special token, the UTF-8 bytes of its text.
     *
     * @throws IllegalArgumentException if the id is outside {@code [0, vocabSize())}
     */
    public byte[] tokenBytes(int id) {
        checkId(id);
        return id < baseSize ? bytes[id].clone() : specialText(id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The pieces of a text after pre-tokenisation (see the class comment); they concatenate to the text. */
    public List<String> pretokenize(String text) {
        List<String> pieces = new ArrayList<>();
        forEachPiece(text, (start, end) -> pieces.add(text.substring(start, end)));
        return pieces;
    }

    /** Receives the [start, end) range of each piece of a text. */
    interface PieceSink {
        void piece(int start, int end);
    }

    private void forEachPiece(String text, PieceSink sink) {
        forEachPiece(pattern, text, sink);
    }

    /** Calls {@code sink} for each piece of {@code text}: each match, and each stretch between matches. */
    static void forEachPiece(Pattern pattern, String text, PieceSink sink) {
        Matcher m = pattern.matcher(text);
        int at = 0;
        while (m.find()) {
            if (m.start() > at) {
                sink.piece(at, m.start()); // text the pattern skipped: still encoded
            }
            if (m.end() > m.start()) {
                sink.piece(m.start(), m.end());
            }
            at = m.end();
        }
        if (at < text.length()) {
            sink.piece(at, text.length());
        }
    }

    /** Never fails: every string has an encoding (see the class comment on unpaired surrogates). */
    @Override
    public int[] encode(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        forEachPiece(text, (start, end) -> {
            String piece = text.substring(start, end);
            int[] ids = cache.get(piece);
            if (ids == null) {
                ids = encodePiece(text, start, end);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(piece, ids);
            }
            out.addAll(ids);
        });
        return out.toArray();
    }

    /**
     * Merges the bytes of one piece: the pair with the earliest merge first, leftmost among equal
     * ones, using a heap of (rank, position) so that a long piece costs O(n log n), not O(n²).
     */
    private int[] encodePiece(String text, int start, int end) {
        IntList byteList = new IntList(end - start);
        Wtf8.encode(text, start, end, byteList);
        int n = byteList.size();
        int[] sym = byteList.toArray();
        if (n < 2 || mergeLeft.length == 0) {
            return sym;
        }
        int[] next = new int[n]; // -1 at the end; a merged-away position is never reached again
        int[] prev = new int[n];
        boolean[] alive = new boolean[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            alive[i] = true;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            pushPair(heap, sym, i, i + 1);
        }
        while (!heap.isEmpty()) {
            long entry = heap.pop();
            int rank = (int) (entry >>> 32);
            int p = (int) entry;
            int q = alive[p] ? next[p] : -1;
            if (q < 0 || ranks.get(LongLongMap.pair(sym[p], sym[q]), -1) != rank) {
                continue; // stale: a neighbour was merged since this pair was queued
            }
            sym[p] = NUM_BYTES + rank;
            alive[q] = false;
            next[p] = next[q];
            if (next[q] >= 0) {
                prev[next[q]] = p;
            }
            if (prev[p] >= 0) {
                pushPair(heap, sym, prev[p], p);
            }
            if (next[p] >= 0) {
                pushPair(heap, sym, p, next[p]);
            }
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            sym[count++] = sym[i];
        }
        return Arrays.copyOf(sym, count);
    }

    private void pushPair(LongHeap heap, int[] sym, int p, int q) {
        long rank = ranks.get(LongLongMap.pair(sym[p], sym[q]), -1);
        if (rank >= 0) {
            heap.push((rank << 32) | p);
        }
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 3);
        byte[] buf = new byte[Math.max(16, ids.length * 2)];
        int len = 0;
        for (int id : ids) {
            checkId(id);
            if (id < baseSize) {
                byte[] b = bytes[id];
                if (len + b.length > buf.length) {
                    buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + b.length));
                }
                System.arraycopy(b, 0, buf, len, b.length);
                len += b.length;
            } else {
                Wtf8.decode(buf, len, sb);
                len = 0;
                sb.append(specialText(id));
            }
        }
        Wtf8.decode(buf, len, sb);
        return sb.toString();
    }

    @Override
    public String token(int id) {
        checkId(id);
        return id < baseSize ? ByteAlphabet.printable(bytes[id]) : specialText(id);
    }

    /**
     * {@inheritDoc} When two merged tokens spell the same bytes (merges {@code (ab)c} and
     * {@code a(bc)} can both be learned), this is the older one.
     */
    @Override
    public int id(String token) {
        int special = specialId(token);
        if (special >= 0) {
            return special;
        }
        Integer id = printable.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("type", TYPE);
        json.put("pattern", pattern.pattern());
        json.put("merges", merges());
        if (!specialTokens().all().isEmpty()) {
            json.put("special_tokens", specialTokens().toJson());
        }
        return json;
    }

    @Override
    public String toString() {
        return "BpeTokenizer(" + vocabSize() + " tokens: 256 bytes + " + numMerges() + " merges + "
                + specialTokens().count() + " special " + specialTokens().all() + ")";
    }
}
