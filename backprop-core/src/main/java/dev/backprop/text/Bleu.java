package dev.backprop.text;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Corpus BLEU as sacreBLEU 2.x computes it ({@code sacrebleu.corpus_bleu(hyps, [refs])}, or
 * {@code BLEU().corpus_score}), ported from its {@code metrics/bleu.py} and
 * {@code tokenizers/tokenizer_13a.py}, with its defaults: 13a tokenisation, mixed case, n-grams up
 * to 4, {@code exp} smoothing, no effective order.
 *
 * <pre>{@code
 * Bleu.Score s = Bleu.corpusScore(hypotheses, references);   // one reference per hypothesis
 * s.score();       // 0..100
 * s.toString();    // BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:backprop = 34.12 64.0/40.1/...
 * }</pre>
 *
 * <h2>The computation</h2>
 *
 * <ol>
 *   <li>Each hypothesis and reference is lower-cased if asked ({@link String#toLowerCase(Locale)}
 *       with {@link Locale#ROOT}, as Python's {@code str.lower()}), stripped of trailing whitespace,
 *       and tokenised ({@link #tokenize13a}, or split on whitespace only with
 *       {@link Tokenization#NONE}). Whitespace is Python's: {@code str.isspace()} characters.
 *   <li>For every sentence and n = 1..4: the n-grams of the hypothesis are counted, and each
 *       n-gram's count is clipped to its count in the reference (the largest count over the
 *       references, with several); the clipped counts ("correct") and the hypothesis n-gram counts
 *       ("total") are summed over the corpus, as are the hypothesis lengths c and the reference
 *       lengths r (with several references, the one closest to the hypothesis, the shorter on a tie).
 *   <li>{@link #fromStatistics} turns the sums into the score: brevity penalty
 *       BP = exp(1 - r/c) when c &lt; r (0 when c = 0), else 1; precision p_n = 100·correct_n/total_n;
 *       BLEU = BP · exp(mean over n of log p_n), which is already on the 0..100 scale. With no
 *       correct n-gram of any order BLEU is 0. A zero precision is smoothed as chosen (see
 *       {@link Smoothing}); an order with no hypothesis n-gram at all (total 0) ends the orders
 *       there, and a precision still 0 counts as log 0 = -9999999999, so BLEU is 0.
 * </ol>
 *
 * <p>Unlike sacreBLEU, which pairs lists of different lengths silently (Python's {@code zip}),
 * different numbers of hypotheses and references are an error.
 */
public final class Bleu {
    /** The default maximum n-gram order. */
    public static final int MAX_NGRAM_ORDER = 4;

    private static final Pattern PUNCTUATION = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([\\.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([\\.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Bleu() {}

    /** The tokenisation applied before counting n-grams. */
    public enum Tokenization {
        /** mteval-v13a's, sacreBLEU's default (see {@link #tokenize13a}). */
        THIRTEEN_A("13a"),
        /** None: the text is only split on whitespace (for text that is already tokenised). */
        NONE("none");

        private final String signature;

        Tokenization(String signature) {
            this.signature = signature;
        }

        /** The name in sacreBLEU's signature: {@code 13a} or {@code none}. */
        public String signature() {
            return signature;
        }
    }

    /**
     * What to do with a zero precision (Chen and Cherry, 2014, "A Systematic Comparison of
     * Smoothing Techniques for Sentence-Level BLEU").
     */
    public enum Smoothing {
        /** No smoothing: a zero precision makes BLEU 0. */
        NONE("none", Double.NaN),
        /** mteval-v13a's (sacreBLEU's default): the k-th zero precision becomes 100 / (2^k · total). */
        EXP("exp", Double.NaN),
        /** A zero precision becomes 100 · value / total (value 0.1 by default). */
        FLOOR("floor", 0.1),
        /** For n &gt; 1, value (1 by default) is added to correct and to total before dividing. */
        ADD_K("add-k", 1.0);

        private final String signature;
        private final double defaultValue;

        Smoothing(String signature, double defaultValue) {
            this.signature = signature;
            this.defaultValue = defaultValue;
        }

        /** The name in sacreBLEU's signature. */
        public String signature() {
            return signature;
        }

        /** The value used when none is given, NaN for methods without one. */
        public double defaultValue() {
            return defaultValue;
        }
    }

    /**
     * The settings, as sacreBLEU's {@code BLEU(...)} arguments.
     *
     * @param tokenization {@code tokenize}
     * @param smoothing {@code smooth_method}
     * @param smoothValue {@code smooth_value} for {@link Smoothing#FLOOR} and {@link Smoothing#ADD_K};
     *     NaN for the method's default
     * @param lowercase {@code lowercase}: compare lower-cased text
     * @param effectiveOrder {@code effective_order}: average only over the orders up to the last one
     *     with any hypothesis n-gram (for sentence-level BLEU)
     * @param maxNgramOrder {@code max_ngram_order}, at least 1
     */
    public record Options(Tokenization tokenization, Smoothing smoothing, double smoothValue, boolean lowercase,
            boolean effectiveOrder, int maxNgramOrder) {
        /** sacreBLEU's defaults: 13a, exp smoothing, mixed case, no effective order, order 4. */
        public static final Options DEFAULT = new Options(Tokenization.THIRTEEN_A, Smoothing.EXP, Double.NaN, false,
                false, MAX_NGRAM_ORDER);

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException if the order is below 1 or the smoothing value is negative
         */
        public Options {
            Objects.requireNonNull(tokenization, "tokenization");
            Objects.requireNonNull(smoothing, "smoothing");
            if (maxNgramOrder < 1) {
                throw new IllegalArgumentException("maxNgramOrder must be at least 1, got " + maxNgramOrder);
            }
            if (smoothValue < 0 || Double.isInfinite(smoothValue)) {
                throw new IllegalArgumentException("smoothValue must be a finite number at least 0 (or NaN for the"
                        + " default), got " + smoothValue);
            }
        }

        /** These options with another tokenisation. */
        public Options withTokenization(Tokenization value) {
            return new Options(value, smoothing, smoothValue, lowercase, effectiveOrder, maxNgramOrder);
        }

        /** These options with another smoothing method and its default value. */
        public Options withSmoothing(Smoothing value) {
            return new Options(tokenization, value, Double.NaN, lowercase, effectiveOrder, maxNgramOrder);
        }

        /** These options with another smoothing method and value. */
        public Options withSmoothing(Smoothing method, double value) {
            return new Options(tokenization, method, value, lowercase, effectiveOrder, maxNgramOrder);
        }

        /** These options with lower-casing on or off. */
        public Options withLowercase(boolean value) {
            return new Options(tokenization, smoothing, smoothValue, value, effectiveOrder, maxNgramOrder);
        }

        /** These options with effective order on or off. */
        public Options withEffectiveOrder(boolean value) {
            return new Options(tokenization, smoothing, smoothValue, lowercase, value, maxNgramOrder);
        }

        /** These options with another maximum n-gram order. */
        public Options withMaxNgramOrder(int value) {
            return new Options(tokenization, smoothing, smoothValue, lowercase, effectiveOrder, value);
        }

        /** The smoothing value in use: the given one, or the method's default. */
        public double effectiveSmoothValue() {
            return Double.isNaN(smoothValue) ? smoothing.defaultValue() : smoothValue;
        }

        /** sacreBLEU's signature without the number of references: {@code case:mixed|eff:no|tok:13a|smooth:exp}. */
        String signature() {
            String smooth = smoothing.signature();
            if (!Double.isNaN(smoothing.defaultValue())) {
                smooth += "[" + python(effectiveSmoothValue(), 2) + "]";
            }
            return "case:" + (lowercase ? "lc" : "mixed") + "|eff:" + (effectiveOrder ? "yes" : "no") + "|tok:"
                    + tokenization.signature() + "|smooth:" + smooth;
        }
    }

    /**
     * A BLEU score and its statistics, as sacreBLEU's {@code BLEUScore}.
     *
     * @param score BLEU, 0..100
     * @param counts the clipped n-gram matches ("correct") for n = 1..N
     * @param totals the hypothesis n-grams for n = 1..N
     * @param precisions the (smoothed) precisions in percent for n = 1..N
     * @param bp the brevity penalty
     * @param sysLen the total hypothesis length in tokens, c
     * @param refLen the total (closest) reference length in tokens, r
     * @param signature sacreBLEU's signature of the settings:
     *     {@code nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:backprop}
     */
    public record Score(double score, long[] counts, long[] totals, double[] precisions, double bp, long sysLen,
            long refLen, String signature) {
        /** Copies the arrays. */
        public Score {
            counts = counts.clone();
            totals = totals.clone();
            precisions = precisions.clone();
            Objects.requireNonNull(signature, "signature");
        }

        /** A copy of the clipped n-gram matches. */
        @Override
        public long[] counts() {
            return counts.clone();
        }

        /** A copy of the hypothesis n-gram counts. */
        @Override
        public long[] totals() {
            return totals.clone();
        }

        /** A copy of the precisions in percent. */
        @Override
        public double[] precisions() {
            return precisions.clone();
        }

        /** c / r, or 0 when r is 0. */
        public double ratio() {
            return refLen == 0 ? 0 : (double) sysLen / refLen;
        }

        /**
         * The score line without the signature, rounded as Python's format does:
         * {@code BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)}.
         */
        public String format() {
            StringBuilder sb = new StringBuilder("BLEU = ").append(python(score, 2)).append(' ');
            for (int i = 0; i < precisions.length; i++) {
                sb.append(i == 0 ? "" : "/").append(python(precisions[i], 1));
            }
            return sb.append(" (BP = ").append(python(bp, 3)).append(" ratio = ").append(python(ratio(), 3))
                    .append(" hyp_len = ").append(sysLen).append(" ref_len = ").append(refLen).append(')').toString();
        }

        /**
         * The score line with the signature, as the {@code sacrebleu} command prints it:
         * {@code BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:backprop = 48.53 82.4/...}.
         */
        @Override
        public String toString() {
            return "BLEU|" + signature + format().substring("BLEU".length());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Score s && Double.compare(score, s.score) == 0 && java.util.Arrays.equals(counts,
                    s.counts) && java.util.Arrays.equals(totals, s.totals) && java.util.Arrays.equals(precisions,
                    s.precisions) && Double.compare(bp, s.bp) == 0 && sysLen == s.sysLen && refLen == s.refLen
                    && signature.equals(s.signature);
        }

        @Override
        public int hashCode() {
            return Objects.hash(score, java.util.Arrays.hashCode(counts), java.util.Arrays.hashCode(totals), bp, sysLen,
                    refLen, signature);
        }
    }

    /** Corpus BLEU with sacreBLEU's defaults and one reference per hypothesis. */
    public static Score corpusScore(List<String> hypotheses, List<String> references) {
        return corpusScore(hypotheses, references, Options.DEFAULT);
    }

    /**
     * Corpus BLEU with one reference per hypothesis.
     *
     * @throws IllegalArgumentException if the lists differ in length, or a reference is empty
     */
    public static Score corpusScore(List<String> hypotheses, List<String> references, Options options) {
        return corpusScoreMultiReference(hypotheses, List.of(references), options);
    }

    /**
     * Corpus BLEU against several reference streams, as sacreBLEU's {@code corpus_score(hyps, refs)}:
     * {@code referenceStreams.get(k).get(i)} is the k-th reference of hypothesis i; a {@code null}
     * or empty reference is left out for that sentence (variable numbers of references).
     *
     * @throws IllegalArgumentException if a stream's length differs from the number of
     *     hypotheses, or a sentence has no non-empty reference
     */
    public static Score corpusScoreMultiReference(List<String> hypotheses, List<? extends List<String>> referenceStreams,
            Options options) {
        Objects.requireNonNull(options, "options");
        if (referenceStreams.isEmpty()) {
            throw new IllegalArgumentException("no reference streams; expected at least one list of references");
        }
        for (int k = 0; k < referenceStreams.size(); k++) {
            if (referenceStreams.get(k).size() != hypotheses.size()) {
                throw new IllegalArgumentException("expected as many references as hypotheses, found "
                        + hypotheses.size() + " hypotheses and " + referenceStreams.get(k).size() + " references"
                        + (referenceStreams.size() > 1 ? " in reference stream " + k : ""));
            }
        }
        int order = options.maxNgramOrder();
        long[] correct = new long[order];
        long[] total = new long[order];
        long sysLen = 0;
        long refLen = 0;
        TreeSet<Integer> numRefs = new TreeSet<>();
        for (int i = 0; i < hypotheses.size(); i++) {
            List<Map<String, Integer>> refNgrams = null;
            List<Integer> refLens = new ArrayList<>();
            for (List<String> stream : referenceStreams) {
                String ref = stream.get(i);
                if (ref == null || ref.isEmpty()) {
                    continue;
                }
                String[] tokens = tokens(ref, options);
                refLens.add(tokens.length);
                List<Map<String, Integer>> ngrams = ngrams(tokens, order);
                if (refNgrams == null) {
                    refNgrams = ngrams;
                } else {
                    for (int n = 0; n < order; n++) {
                        for (Map.Entry<String, Integer> e : ngrams.get(n).entrySet()) {
                            refNgrams.get(n).merge(e.getKey(), e.getValue(), Math::max);
                        }
                    }
                }
            }
            if (refNgrams == null) {
                throw new IllegalArgumentException("sentence " + i + " has no reference (empty or null); every"
                        + " hypothesis needs a non-empty reference");
            }
            numRefs.add(refLens.size());
            String hyp = hypotheses.get(i);
            if (hyp == null) {
                throw new IllegalArgumentException("hypothesis " + i + " is null; expected a string (\"\" for an empty"
                        + " output)");
            }
            String[] tokens = tokens(hyp, options);
            sysLen += tokens.length;
            refLen += closest(tokens.length, refLens);
            List<Map<String, Integer>> hypNgrams = ngrams(tokens, order);
            for (int n = 0; n < order; n++) {
                for (Map.Entry<String, Integer> e : hypNgrams.get(n).entrySet()) {
                    total[n] += e.getValue();
                    Integer inRef = refNgrams.get(n).get(e.getKey());
                    if (inRef != null) {
                        correct[n] += Math.min(e.getValue(), inRef);
                    }
                }
            }
        }
        String nrefs = numRefs.size() == 1 ? String.valueOf(numRefs.first()) : "var";
        return compute(correct, total, sysLen, refLen, options, "nrefs:" + nrefs + "|" + options.signature()
                + "|version:backprop");
    }

    /**
     * BLEU from summed statistics, as sacreBLEU's {@code BLEU.compute_bleu} (see the class comment);
     * the tokenisation and case of {@code options} only go into the signature.
     *
     * @param correct the clipped n-gram matches for n = 1..N (N = the options' order)
     * @param total the hypothesis n-grams for n = 1..N
     * @param sysLen the hypothesis length c
     * @param refLen the reference length r
     * @throws IllegalArgumentException if the arrays are not of length N
     */
    public static Score fromStatistics(long[] correct, long[] total, long sysLen, long refLen, Options options) {
        if (correct.length != options.maxNgramOrder() || total.length != options.maxNgramOrder()) {
            throw new IllegalArgumentException("expected " + options.maxNgramOrder() + " correct and total counts (one"
                    + " per n-gram order), found " + correct.length + " and " + total.length);
        }
        return compute(correct, total, sysLen, refLen, options, "nrefs:1|" + options.signature() + "|version:backprop");
    }

    private static Score compute(long[] correct, long[] total, long sysLen, long refLen, Options options,
            String signature) {
        int order = options.maxNgramOrder();
        double bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - (double) refLen / sysLen) : 0.0) : 1.0;
        double[] precisions = new double[order];
        boolean anyCorrect = false;
        for (long c : correct) {
            anyCorrect |= c != 0;
        }
        if (!anyCorrect) {
            return new Score(0.0, correct, total, precisions, bp, sysLen, refLen, signature);
        }
        double value = options.effectiveSmoothValue();
        double smoothMteval = 1;
        int effectiveOrder = order;
        for (int n = 1; n <= order; n++) {
            double c = correct[n - 1];
            double t = total[n - 1];
            if (options.smoothing() == Smoothing.ADD_K && n > 1) {
                c += value;
                t += value;
            }
            if (t == 0) {
                break;
            }
            if (options.effectiveOrder()) {
                effectiveOrder = n;
            }
            if (c == 0) {
                if (options.smoothing() == Smoothing.EXP) {
                    smoothMteval *= 2;
                    precisions[n - 1] = 100. / (smoothMteval * t);
                } else if (options.smoothing() == Smoothing.FLOOR) {
                    precisions[n - 1] = 100. * value / t;
                }
            } else {
                precisions[n - 1] = 100. * c / t;
            }
        }
        double sumLog = 0;
        for (int n = 0; n < effectiveOrder; n++) {
            sumLog += precisions[n] == 0.0 ? -9999999999.0 : Math.log(precisions[n]); // sacreBLEU's my_log
        }
        double score = bp * Math.exp(sumLog / effectiveOrder);
        return new Score(score, correct, total, precisions, bp, sysLen, refLen, signature);
    }

    /** The reference length closest to the hypothesis length, the shorter one on a tie. */
    private static int closest(int hypLen, List<Integer> refLens) {
        int bestDiff = -1;
        int best = -1;
        for (int len : refLens) {
            int diff = Math.abs(hypLen - len);
            if (bestDiff == -1 || diff < bestDiff) {
                bestDiff = diff;
                best = len;
            } else if (diff == bestDiff && len < best) {
                best = len;
            }
        }
        return best;
    }

    /** sacreBLEU's {@code _preprocess_segment} and the split of {@code extract_all_word_ngrams}. */
    private static String[] tokens(String sentence, Options options) {
        String s = options.lowercase() ? sentence.toLowerCase(Locale.ROOT) : sentence;
        s = rstrip(s);
        if (options.tokenization() == Tokenization.THIRTEEN_A) {
            s = tokenize13a(s);
        }
        return split(s);
    }

    /** The n-gram counts of orders 1..order; an n-gram is its tokens joined by single spaces. */
    private static List<Map<String, Integer>> ngrams(String[] tokens, int order) {
        List<Map<String, Integer>> out = new ArrayList<>(order);
        for (int n = 1; n <= order; n++) {
            Map<String, Integer> counts = new HashMap<>();
            for (int i = 0; i + n <= tokens.length; i++) {
                String key = n == 1 ? tokens[i] : String.join(" ", java.util.Arrays.asList(tokens).subList(i, i + n));
                counts.merge(key, 1, Integer::sum);
            }
            out.add(counts);
        }
        return out;
    }

    /**
     * sacreBLEU's 13a tokeniser (mteval-v13a.pl's, used by WMT), exactly: remove {@code <skipped>},
     * join lines broken after a hyphen ({@code -\n}), turn the other newlines into spaces, unescape
     * {@code &quot; &amp; &lt; &gt;}; then put spaces around the ASCII punctuation and symbols
     * {@code {|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ /}; split off a period or comma unless it is
     * between digits ({@code 3.5} and {@code 1,000} stay whole, {@code end.} does not); split a
     * dash that follows a digit; and finally collapse whitespace runs into single spaces, trimming
     * the ends. Apostrophes and other dashes are kept ({@code don't}, {@code well-known}).
     *
     * @return the tokens joined by single spaces
     */
    public static String tokenize13a(String line) {
        String s = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (s.indexOf('&') >= 0) {
            s = s.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        s = " " + s + " ";
        s = PUNCTUATION.matcher(s).replaceAll(" $1 ");
        s = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(s).replaceAll("$1 $2 ");
        s = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(s).replaceAll(" $1 $2");
        s = DASH_AFTER_DIGIT.matcher(s).replaceAll("$1 $2 ");
        return String.join(" ", split(s));
    }

    /** Python's {@code str.split()}: the runs of non-whitespace, by {@link #isPythonSpace}. */
    private static String[] split(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isPythonSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isPythonSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.add(s.substring(start, i));
            }
        }
        return out.toArray(new String[0]);
    }

    /** Python's {@code str.rstrip()}. */
    private static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && isPythonSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    /**
     * Python's {@code str.isspace()} for one character: bidirectional class WS, B or S, or category
     * Zs. That is Java's {@link Character#isWhitespace} (which leaves out the no-break spaces)
     * plus U+0085, U+00A0, U+2007 and U+202F. All are in the Basic Multilingual Plane.
     */
    static boolean isPythonSpace(char c) {
        return Character.isWhitespace(c) || c == '\u0085' || c == '\u00A0' || c == '\u2007' || c == '\u202F';
    }

    /** {@code f"{x:.{digits}f}"} in Python: the exact binary value rounded half to even. */
    static String python(double x, int digits) {
        return new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
    }
}
