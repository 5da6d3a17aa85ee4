package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.text.Bleu.Options;
import dev.backprop.text.Bleu.Score;
import dev.backprop.text.Bleu.Smoothing;
import dev.backprop.text.Bleu.Tokenization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BleuTest {
    private static final double EPS = 1e-9;

    @TempDir
    Path dir;

    @Test
    void anExactMatchIs100() {
        Score s = Bleu.corpusScore(List.of("The cat sat on the mat.", "Hello, world!"),
                List.of("The cat sat on the mat.", "Hello, world!"));
        assertEquals(100.0, s.score(), EPS);
        assertEquals(1.0, s.bp());
        // 13a: "The cat sat on the mat ." (7 tokens) and "Hello , world !" (4 tokens)
        assertEquals(11, s.sysLen());
        assertEquals(11, s.refLen());
        assertArrayEquals(new long[] {11, 9, 7, 5}, s.totals());
        assertArrayEquals(new long[] {11, 9, 7, 5}, s.counts());
        assertEquals("BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:backprop = 100.00"
                + " 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 11 ref_len = 11)", s.toString());
    }

    /**
     * A hypothesis that is the first 6 of the reference's 8 tokens: every precision is 100%, and
     * BLEU = BP · 100 = exp(1 - 8/6) · 100 = exp(-1/3) · 100 = 71.6531...
     */
    @Test
    void aShortHypothesisPaysTheBrevityPenalty() {
        Score s = Bleu.corpusScore(List.of("one two three four five six"),
                List.of("one two three four five six seven eight"));
        assertEquals(Math.exp(1 - 8.0 / 6.0), s.bp(), EPS);
        assertEquals(Math.exp(-1.0 / 3.0) * 100, s.score(), 1e-9);
        assertEquals(71.65313105737893, s.score(), 1e-9);
        assertEquals("BLEU = 71.65 100.0/100.0/100.0/100.0 (BP = 0.717 ratio = 0.750 hyp_len = 6 ref_len = 8)",
                s.format());
        // a longer hypothesis pays no penalty
        assertEquals(1.0, Bleu.corpusScore(List.of("one two three"), List.of("one two")).bp());
    }

    /**
     * Reference "one two three four five", hypothesis "one two three zero four five":
     *
     * <pre>
     * 1-grams: 5 of 6 match (zero does not)                  p1 = 500/6 = 83.33
     * 2-grams: one two, two three, four five: 3 of 5          p2 = 60
     * 3-grams: one two three: 1 of 4                          p3 = 25
     * 4-grams: none of 3                                      p4 = 0
     * exp smoothing, first zero: p4 = 100 / (2 · 3) = 16.67
     * BP = 1 (6 &gt; 5); BLEU = (83.33 · 60 · 25 · 16.67)^(1/4) = (2,083,333.3)^(1/4) = 37.9918...
     * no smoothing: log 0 is -9999999999, BLEU = 0
     * floor 0.1: p4 = 100 · 0.1 / 3 = 3.333; BLEU = (83.33 · 60 · 25 · 3.333)^(1/4) = 25.4066...
     * </pre>
     */
    @Test
    void zeroFourGramMatchesAreSmoothed() {
        List<String> hyp = List.of("one two three zero four five");
        List<String> ref = List.of("one two three four five");
        Score exp = Bleu.corpusScore(hyp, ref);
        assertArrayEquals(new long[] {5, 3, 1, 0}, exp.counts());
        assertArrayEquals(new long[] {6, 5, 4, 3}, exp.totals());
        assertArrayEquals(new double[] {500.0 / 6, 60, 25, 100.0 / 6}, exp.precisions(), 1e-12);
        assertEquals(Math.pow(500.0 / 6 * 60 * 25 * 100.0 / 6, 0.25), exp.score(), 1e-9);
        assertEquals(37.99178428257963, exp.score(), 1e-6);

        Score none = Bleu.corpusScore(hyp, ref, Options.DEFAULT.withSmoothing(Smoothing.NONE));
        assertEquals(0.0, none.score());
        assertEquals(0.0, none.precisions()[3]);
        assertTrue(none.toString().contains("|smooth:none|"), none.toString());

        Score floor = Bleu.corpusScore(hyp, ref, Options.DEFAULT.withSmoothing(Smoothing.FLOOR));
        assertEquals(Math.pow(500.0 / 6 * 60 * 25 * 10.0 / 3, 0.25), floor.score(), 1e-9);
        assertTrue(floor.toString().contains("|smooth:floor[0.10]|"), floor.toString());
    }

    /**
     * Two zero orders with exp smoothing: reference "a b c d", hypothesis "a x b y c": 1-grams 3 of
     * 5, 2-grams 0 of 4 (first zero: 100 / (2 · 4) = 12.5), 3-grams 0 of 3 (second zero: 100 / (4 · 3)
     * = 8.33), 4-grams 0 of 2 (third: 100 / (8 · 2) = 6.25). BP = 1 (5 &gt; 4).
     */
    @Test
    void expSmoothingHalvesAgainForEachZeroOrder() {
        Score s = Bleu.corpusScore(List.of("a x b y c"), List.of("a b c d"));
        assertArrayEquals(new double[] {60, 12.5, 100.0 / 12, 6.25}, s.precisions(), 1e-12);
        assertEquals(Math.pow(60 * 12.5 * 100.0 / 12 * 6.25, 0.25), s.score(), 1e-9);
    }

    /** The clipped counts are summed over the corpus before dividing, not averaged per sentence. */
    @Test
    void countsAreSummedOverTheCorpus() {
        // sentence 1: "the the the" vs "the cat": 1-grams clipped to 1 of 3; 2-grams 0 of 2; 3-grams 0 of 1
        // sentence 2: "a b c d" vs "a b c d": 4/4, 3/3, 2/2, 1/1
        Score s = Bleu.corpusScore(List.of("the the the", "a b c d"), List.of("the cat", "a b c d"));
        assertArrayEquals(new long[] {5, 3, 2, 1}, s.counts());
        assertArrayEquals(new long[] {7, 5, 3, 1}, s.totals());
        assertEquals(7, s.sysLen());
        assertEquals(6, s.refLen());
        assertEquals(Math.pow(500.0 / 7 * 60 * 200.0 / 3 * 100, 0.25), s.score(), 1e-9);
    }

    @Test
    void noMatchAtAllIsZeroAndEmptyHypothesesCount() {
        Score s = Bleu.corpusScore(List.of("x y z"), List.of("a b c"));
        assertEquals(0.0, s.score());
        Score empty = Bleu.corpusScore(List.of(""), List.of("a b c"));
        assertEquals(0.0, empty.score());
        assertEquals(0.0, empty.bp(), "c = 0");
        assertEquals(0, empty.sysLen());
        assertEquals(3, empty.refLen());
    }

    @Test
    void tokenizes13aAsSacrebleu() {
        assertEquals("Hello , world ! It's 3.5 km .", Bleu.tokenize13a("Hello, world! It's 3.5 km."));
        assertEquals("1,000 , 2 .", Bleu.tokenize13a("1,000, 2."));
        assertEquals("1990 - 2000 well-known", Bleu.tokenize13a("1990-2000 well-known"));
        assertEquals("\" a & b < c > \"", Bleu.tokenize13a("&quot;a &amp; b&lt;c&gt;&quot;"));
        assertEquals("snake _ case ( x ) [ y ] { z } a / b @ c # d $ 5 % e ^ f ` g | h ~ i * j + k = l ; m : n ?",
                Bleu.tokenize13a("snake_case (x) [y] {z} a/b @c #d $5% e^f `g|h~i*j+k=l;m:n?"));
        assertEquals("hy phen joined line", Bleu.tokenize13a("hy phen join-\ned\nline"));
        assertEquals("a b", Bleu.tokenize13a("a<skipped> b"));
        assertEquals("x", Bleu.tokenize13a("\u00a0x\u3000"), "Python's whitespace, no-break spaces included");
        assertEquals("U . S . A .", Bleu.tokenize13a("U.S.A."), "a period after a letter is split off");
        assertEquals("a . .", Bleu.tokenize13a("a.."));
    }

    /** sacreBLEU's own test cases (test/test_bleu.py), with two references per sentence. */
    @Test
    void matchesSacrebleusOwnTestCases() {
        List<List<String>> refs = List.of(
                List.of("The dog bit the man.", "It was not unexpected.", "The man bit him first."),
                List.of("The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."));
        List<String> hyps = List.of("The dog bit the man.", "It wasn't surprising.", "The man had just bitten him.");
        assertEquals(48.530827, Bleu.corpusScoreMultiReference(hyps, refs, Options.DEFAULT).score(), 1e-6);
        assertEquals(49.1919566, Bleu.corpusScoreMultiReference(hyps, refs, Options.DEFAULT
                .withTokenization(Tokenization.NONE)).score(), 1e-6);
        assertEquals(48.530827, Bleu.corpusScoreMultiReference(hyps, refs, Options.DEFAULT
                .withSmoothing(Smoothing.NONE)).score(), 1e-6);
        assertEquals(0.0, Bleu.corpusScoreMultiReference(List.of("", "", ""), refs, Options.DEFAULT).score());
        assertTrue(Bleu.corpusScoreMultiReference(hyps, refs, Options.DEFAULT).toString()
                .startsWith("BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:backprop = 48.53 "));

        // raw_corpus_bleu: floor smoothing 0.01, no tokenisation, effective order
        Options raw = Options.DEFAULT.withTokenization(Tokenization.NONE).withSmoothing(Smoothing.FLOOR, 0.01)
                .withEffectiveOrder(true);
        assertEquals(100.0, Bleu.corpusScore(List.of("this is a test"), List.of("this is a test"), raw).score(), 1e-9);
        assertEquals(22.3606797749979, Bleu.corpusScore(List.of("this is a fest"), List.of("this is a test"), raw)
                .score(), 1e-9);
        assertEquals(36.78794411714425, Bleu.corpusScore(List.of("test"), List.of("a test"), raw).score(), 1e-9);
        assertEquals(3.218297948685433, Bleu.corpusScore(List.of("a little test"), List.of("a test"), raw).score(),
                1e-9);
        Score stats = Bleu.corpusScore(List.of("am I am a character sequence"),
                List.of("I am a symbol string sequence a a"), raw);
        assertArrayEquals(new long[] {4, 2, 1, 0}, stats.counts());
        assertArrayEquals(new long[] {6, 5, 4, 3}, stats.totals());
        assertEquals(15.55722182, Bleu.corpusScore(List.of("am I am a character sequence"),
                List.of("I am a symbol string sequence a a"), raw.withSmoothing(Smoothing.FLOOR)).score(), 1e-8);
        assertEquals(0.0, Bleu.corpusScore(List.of("am I am a character sequence"),
                List.of("I am a symbol string sequence a a"), raw.withSmoothing(Smoothing.FLOOR, 0.0)).score());
        // compute_bleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11) without smoothing
        assertEquals(83.75922397, Bleu.fromStatistics(new long[] {9, 7, 5, 3}, new long[] {10, 8, 6, 4}, 11, 11,
                Options.DEFAULT.withSmoothing(Smoothing.NONE)).score(), 1e-8);
    }

    /**
     * add-k with k = 1: for n &gt; 1, correct and total both grow by 1. Reference "a b c d",
     * hypothesis "a b x y": 1-grams 2/4 = 50; 2-grams (1+1)/(3+1) = 50; 3-grams (0+1)/(2+1) = 33.3;
     * 4-grams (0+1)/(1+1) = 50.
     */
    @Test
    void addKSmoothing() {
        Score s = Bleu.corpusScore(List.of("a b x y"), List.of("a b c d"), Options.DEFAULT.withSmoothing(
                Smoothing.ADD_K));
        assertArrayEquals(new double[] {50, 50, 100.0 / 3, 50}, s.precisions(), 1e-12);
        assertEquals(Math.pow(50 * 50 * 100.0 / 3 * 50, 0.25), s.score(), 1e-9);
        assertTrue(s.toString().contains("|smooth:add-k[1.00]|"), s.toString());
        assertArrayEquals(new long[] {2, 1, 0, 0}, s.counts(), "the counts reported are the raw ones");
    }

    @Test
    void lowercaseAndTrailingWhitespace() {
        Score mixed = Bleu.corpusScore(List.of("The Cat"), List.of("the cat"));
        Score lc = Bleu.corpusScore(List.of("The Cat  \t"), List.of("the cat"), Options.DEFAULT.withLowercase(true));
        assertEquals(0.0, mixed.score());
        assertArrayEquals(new long[] {2, 1, 0, 0}, lc.counts());
        assertTrue(lc.toString().contains("|case:lc|"), lc.toString());
    }

    @Test
    void refusesMismatchedOrMissingReferences() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Bleu.corpusScore(List.of("a", "b"), List.of("a")));
        assertTrue(e.getMessage().contains("found 2 hypotheses and 1 references"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Bleu.corpusScore(List.of("a", "b"), List.of("a", "")));
        assertTrue(e.getMessage().contains("sentence 1 has no reference"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bleu.fromStatistics(new long[3], new long[4], 1, 1,
                Options.DEFAULT));
    }

    @Test
    void formatsNumbersAsPython() {
        assertEquals("0.12", Bleu.python(0.125, 2), "0.125 is exact in binary: half to even");
        assertEquals("0.38", Bleu.python(0.375, 2));
        assertEquals("2.67", Bleu.python(2.675, 2), "2.675 is 2.67499999... in binary, as Python prints it");
        assertEquals("100.00", Bleu.python(100.0, 2));
    }

    /**
     * Against a real sacreBLEU, when one is installed: Debian's python3-sacrebleu
     * (/usr/lib/python3/dist-packages/sacrebleu), or the folder holding a {@code sacrebleu} package
     * named by the environment variable {@code BACKPROP_SACREBLEU_PYTHONPATH}. Skipped otherwise.
     * Random sentences with punctuation, digits, entities and Unicode whitespace are tokenised and
     * scored by both, under several options.
     */
    @Test
    void agreesWithAnInstalledSacrebleu() throws IOException, InterruptedException {
        String pythonPath = System.getenv("BACKPROP_SACREBLEU_PYTHONPATH");
        if (pythonPath == null && Files.isDirectory(Path.of("/usr/lib/python3/dist-packages/sacrebleu"))) {
            pythonPath = "/usr/lib/python3/dist-packages";
        }
        assumeTrue(pythonPath != null && Files.isDirectory(Path.of(pythonPath, "sacrebleu")), "skipped: sacreBLEU is"
                + " not installed (python3-sacrebleu, or BACKPROP_SACREBLEU_PYTHONPATH naming a folder with sacrebleu/)");
        java.util.Random rnd = new java.util.Random(3);
        List<String> hyps = new ArrayList<>();
        List<String> refs = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String ref = randomSentence(rnd);
            refs.add(ref);
            hyps.add(rnd.nextInt(10) == 0 ? "" : rnd.nextBoolean() ? mutate(ref, rnd) : randomSentence(rnd));
        }
        Path in = dir.resolve("in.json");
        Files.writeString(in, dev.backprop.io.Json.write(java.util.Map.of("hyps", hyps, "refs", refs)),
                StandardCharsets.UTF_8);
        String script = String.join("\n",
                "import json, sys",
                "from sacrebleu.metrics import BLEU",
                "from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a",
                "d = json.load(open(sys.argv[1], encoding='utf-8'))",
                "tok = Tokenizer13a()",
                "out = {'tokens': [tok(s) for s in d['hyps'] + d['refs']], 'scores': []}",
                "for kw in [{}, {'smooth_method': 'none'}, {'lowercase': True}, {'tokenize': 'none'},",
                "           {'smooth_method': 'floor', 'smooth_value': 0.05, 'effective_order': True},",
                "           {'smooth_method': 'add-k', 'max_ngram_order': 3}]:",
                "    for n in [300, 7, 2]:",
                "        s = BLEU(**kw).corpus_score(d['hyps'][:n], [d['refs'][:n]])",
                "        out['scores'].append([s.score, s.bp, s.sys_len, s.ref_len] + list(s.counts) + list(s.totals))",
                "print(json.dumps(out))");
        ProcessBuilder pb = new ProcessBuilder("python3", "-c", script, in.toString()).redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", pythonPath);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        java.util.Map<String, Object> result = dev.backprop.io.Json.parseObject(out.strip().lines()
                .reduce((a, b) -> b).orElseThrow());
        List<?> tokens = (List<?>) result.get("tokens");
        List<String> all = new ArrayList<>(hyps);
        all.addAll(refs);
        for (int i = 0; i < all.size(); i++) {
            assertEquals(tokens.get(i), Bleu.tokenize13a(all.get(i)), "13a of \"" + all.get(i) + "\"");
        }
        List<Options> options = List.of(Options.DEFAULT, Options.DEFAULT.withSmoothing(Smoothing.NONE),
                Options.DEFAULT.withLowercase(true), Options.DEFAULT.withTokenization(Tokenization.NONE),
                Options.DEFAULT.withSmoothing(Smoothing.FLOOR, 0.05).withEffectiveOrder(true),
                Options.DEFAULT.withSmoothing(Smoothing.ADD_K).withMaxNgramOrder(3));
        List<?> scores = (List<?>) result.get("scores");
        int k = 0;
        for (Options o : options) {
            for (int n : new int[] {300, 7, 2}) {
                List<?> expected = (List<?>) scores.get(k++);
                Score s = Bleu.corpusScore(hyps.subList(0, n), refs.subList(0, n), o);
                String where = o + ", " + n + " sentences: sacreBLEU " + expected + ", here " + s;
                assertEquals(((Number) expected.get(0)).doubleValue(), s.score(), 1e-9, where);
                assertEquals(((Number) expected.get(1)).doubleValue(), s.bp(), 1e-12, where);
                assertEquals(((Number) expected.get(2)).longValue(), s.sysLen(), where);
                assertEquals(((Number) expected.get(3)).longValue(), s.refLen(), where);
                int order = o.maxNgramOrder();
                for (int m = 0; m < order; m++) {
                    // add-k reports its smoothed counts; compare the raw ones
                    double addK = o.smoothing() == Smoothing.ADD_K && m > 0 ? 1 : 0;
                    assertEquals(((Number) expected.get(4 + m)).doubleValue() - addK, s.counts()[m], 1e-12, where);
                    assertEquals(((Number) expected.get(4 + order + m)).doubleValue() - addK, s.totals()[m], 1e-12,
                            where);
                }
            }
        }
    }

    private static final String[] PIECES = {"the", "The", "cat", "sat", "on", "mat", "it's", "don't", "U.S.", "3.5",
        "1,000", "2019-2020", "well-known", "&quot;", "&amp;", "&lt;b&gt;", "\"", "(", ")", "[x]", "{y}", "a/b",
        "e-mail", "50%", "$5", "#1", "@home", "x_y", "~", "|", "^", "`", "caf\u00e9", "STRASSE", "\u00c4rger",
        "\u4e2d\u6587", "\ud83d\ude00", "<skipped>", "end.", "end,", ".", ",", "...", "-", "--", "?!", ";", ":", "=",
        "+", "*"};
    private static final String[] SPACES = {" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2009", "", "\n", "-\n"};

    private static String randomSentence(java.util.Random rnd) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + rnd.nextInt(14);
        for (int i = 0; i < n; i++) {
            sb.append(PIECES[rnd.nextInt(PIECES.length)]).append(SPACES[rnd.nextInt(SPACES.length)]);
        }
        return sb.toString();
    }

    /** The sentence with a few pieces dropped or replaced, so that n-grams partly match. */
    private static String mutate(String s, java.util.Random rnd) {
        String[] words = s.split(" ");
        StringBuilder sb = new StringBuilder();
        for (String w : words) {
            int r = rnd.nextInt(8);
            if (r == 0) {
                continue;
            }
            sb.append(r == 1 ? PIECES[rnd.nextInt(PIECES.length)] : w).append(' ');
        }
        return sb.toString();
    }
}
