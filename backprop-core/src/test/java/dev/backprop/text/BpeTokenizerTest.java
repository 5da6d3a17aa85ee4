package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataException;
import dev.backprop.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTokenizerTest {
    @TempDir
    Path dir;

    private static final int A = 'a';
    private static final int B = 'b';
    private static final int C = 'c';
    private static final int D = 'd';

    private static List<List<Integer>> merges(BpeTokenizer tok) {
        return tok.merges().stream().map(m -> List.of(m[0], m[1])).toList();
    }

    /**
     * "aaabdaaabac" is one piece (all letters). Its bytes: a a a b d a a a b a c.
     *
     * <pre>
     * pairs: (a,a) 4 [positions 0,1,5,6], (a,b) 2, (b,d) 1, (d,a) 1, (b,a) 1, (a,c) 1
     * merge 0: (a,a) -> 256, left to right: [256 a b d 256 a b a c]
     * pairs: (256,a) 2, (a,b) 2, (b,d) 1, (d,256) 1, (b,a) 1, (a,c) 1
     *   tie at 2: (97,98) < (256,97) by left id
     * merge 1: (a,b) -> 257: [256 257 d 256 257 a c]
     * pairs: (256,257) 2, others 1
     * merge 2: (256,257) -> 258 "aaab": [258 d 258 a c]
     * pairs: (258,d) (d,258) (258,a) (a,c), all 1: the smallest is (97,99)
     * merge 3: (a,c) -> 259: [258 d 258 259]
     * merge 4: (d,258) = (100,258) < (258,100), (258,259) -> 260: [258 260 259]
     * merge 5: (258,260) -> 261: [261 259]
     * merge 6: (261,259) -> 262: one token, no pair left, training stops at 263 tokens
     * </pre>
     */
    @Test
    void goldenMergesComputedByHand() {
        BpeTokenizer tok = BpeTokenizer.train(List.of("aaabdaaabac"), 1000, SpecialTokens.NONE);
        assertEquals(List.of(List.of(A, A), List.of(A, B), List.of(256, 257), List.of(A, C), List.of(D, 258),
                List.of(258, 260), List.of(261, 259)), merges(tok));
        assertEquals(263, tok.vocabSize(), "stops when every piece is one token");

        BpeTokenizer three = BpeTokenizer.train(List.of("aaabdaaabac"), 259, SpecialTokens.NONE);
        assertEquals(3, three.numMerges());
        assertArrayEquals(new int[] {258, D, 258, A, C}, three.encode("aaabdaaabac"));
        // merges apply in the order learned, not greedily by length: "aab" is (a,a) first, then (aa, b) has no merge
        assertArrayEquals(new int[] {256, B}, three.encode("aab"));
        assertArrayEquals(new int[] {256, 256}, three.encode("aaaa"), "left to right: (aa)(aa)");
        assertArrayEquals(new int[] {256, A}, three.encode("aaa"));
        assertArrayEquals(new int[] {257}, three.encode("ab"));
        assertEquals("aaab", three.token(258));
    }

    /**
     * "ab ab ab" pre-tokenises to "ab", " ab", " ab": merges never cross pieces, so (b, space) is never
     * counted.
     *
     * <pre>
     * pairs: (a,b) 1 + 2 = 3, (space,a) 2
     * merge 0: (a,b) -> 256; pieces "ab" = [256], " ab" = [32 256] twice
     * merge 1: (32,256) -> 257 " ab"; no pair left
     * </pre>
     */
    @Test
    void mergesStayWithinPieces() {
        BpeTokenizer tok = BpeTokenizer.train(List.of("ab ab ab"), 300, SpecialTokens.DEFAULT);
        assertEquals(List.of("ab", " ab", " ab"), tok.pretokenize("ab ab ab"));
        assertEquals(List.of(List.of(A, B), List.of(32, 256)), merges(tok));
        assertEquals(256 + 2 + 4, tok.vocabSize());
        assertArrayEquals(new int[] {256, 257, 257}, tok.encode("ab ab ab"));
        assertEquals("\u0120ab", tok.token(257), "GPT-2's printable alphabet: a space is \u0120");
        assertEquals(257, tok.id("\u0120ab"));
        assertEquals(32, tok.id("\u0120"));
        assertEquals(-1, tok.id("zzz"));
    }

    @Test
    void specialTokensFollowTheMergesAndAreNeverProducedFromText() {
        BpeTokenizer tok = BpeTokenizer.train(List.of("ab ab ab"), 300, SpecialTokens.DEFAULT.withExtra("<sep>"));
        assertEquals(258, tok.padId());
        assertEquals(259, tok.bosId());
        assertEquals(260, tok.eosId());
        assertEquals(261, tok.unkId());
        assertEquals(262, tok.id("<sep>"));
        assertEquals(263, tok.vocabSize());
        int[] ids = tok.encode("<eos>");
        assertTrue(Arrays.stream(ids).allMatch(id -> id < 256), Arrays.toString(ids));
        assertEquals("<eos>", tok.decode(ids));
        assertEquals("<bos>ab<eos>", tok.decode(new int[] {259, 256, 260}));
        assertEquals("ab ab", tok.decode(new int[] {259, 256, 257, 260, 258, 258}, true));
        assertArrayEquals("<eos>".getBytes(java.nio.charset.StandardCharsets.UTF_8), tok.tokenBytes(260));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {263}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
        // GPT-2 style: the end-of-text token doubles as padding
        BpeTokenizer gpt = BpeTokenizer.train(List.of("ab"), 256, SpecialTokens.NONE.withPad("<|endoftext|>")
                .withEos("<|endoftext|>"));
        assertEquals(257, gpt.vocabSize());
        assertEquals(256, gpt.padId());
        assertEquals(256, gpt.eosId());
    }

    @Test
    void roundTripsAnyString() {
        BpeTokenizer tok = BpeTokenizer.train(List.of(Corpus.english(20_000, 1)), 600, SpecialTokens.DEFAULT);
        List<String> edge = List.of("", " ", "  ", "\t", "\r\n", "a\r\nb", "\u0000", "x\u0000y", "  hello  ", " \n ",
                "\uD83D\uDE00", "\uD83D\uDC4D\uD83C\uDFFD", "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67",
                "\u4E2D\u6587\u5B57", "e\u0301", "\u1100\u1161\u11A8", "\uFEFFbom", "\uFFFD", "\uFFFF", "\uDBFF\uDFFF",
                "it's", "don't 'quote'", "123,456.78", "caf\u00e9 na\u00efve", "\u0627\u0644\u0639\u0631\u0628\u064A\u0629",
                // unpaired surrogates: encoded as WTF-8 (ED A0 80 for U+D800) and decoded back to the same
                "\uD800", "\uDFFF", "a\uD800b", "\uDC00\uD800", "\uD800\uD800", "x\uDBFF", "\uDC00y");
        for (String s : edge) {
            assertEquals(s, tok.decode(tok.encode(s)), () -> "round trip of " + escape(s));
        }
        Random rnd = new Random(7);
        for (int trial = 0; trial < 3000; trial++) {
            String s = randomString(rnd, rnd.nextInt(30));
            int[] ids = tok.encode(s);
            assertEquals(s, tok.decode(ids), () -> "round trip of " + escape(s));
        }
    }

    @Test
    void unpairedSurrogatesBecomeWtf8Bytes() {
        BpeTokenizer bytesOnly = BpeTokenizer.train(List.of(""), 256, SpecialTokens.NONE);
        assertArrayEquals(new int[] {0xED, 0xA0, 0x80}, bytesOnly.encode("\uD800"));
        assertArrayEquals(new int[] {0xF0, 0x9F, 0x98, 0x80}, bytesOnly.encode("\uD83D\uDE00"), "a pair is UTF-8");
        assertArrayEquals(new int[] {0}, bytesOnly.encode("\u0000"));
        // bytes that are not UTF-8 decode to U+FFFD, one per maximal invalid part
        assertEquals("\uFFFD", bytesOnly.decode(new int[] {0xC3}));
        assertEquals("\uFFFDa", bytesOnly.decode(new int[] {0xE2, 0x82, 'a'}));
        assertEquals("\uFFFD\uFFFD", bytesOnly.decode(new int[] {0xFF, 0x80}));
        assertEquals("\uFFFD\uFFFD", bytesOnly.decode(new int[] {0xC0, 0xAF}), "overlong");
        assertEquals("\u00e9", bytesOnly.decode(new int[] {0xC3, 0xA9}));
    }

    @Test
    void trainingIsDeterministicAndSaveLoadKeepsEncodings() throws IOException {
        List<String> corpus = Corpus.lines(2_000, 3);
        BpeTokenizer a = BpeTokenizer.train(corpus, 800, SpecialTokens.DEFAULT);
        BpeTokenizer b = BpeTokenizer.train(new ArrayList<>(corpus), 800, SpecialTokens.DEFAULT);
        assertEquals(merges(a), merges(b));
        assertEquals(800 + 4, a.vocabSize());
        Path p = dir.resolve("bpe.json");
        a.save(p);
        Tokenizer loaded = Tokenizer.load(p);
        assertTrue(loaded instanceof BpeTokenizer);
        assertEquals(Json.write(a.toJson()), Json.write(loaded.toJson()));
        for (String line : Corpus.lines(300, 99)) {
            assertArrayEquals(a.encode(line), loaded.encode(line), line);
        }
        String json = Files.readString(p);
        assertTrue(json.startsWith("{\"type\":\"bpe\",\"pattern\":"), json.substring(0, 40));
    }

    @Test
    void loadingRefusesMalformedMerges() throws IOException {
        Path p = dir.resolve("bad.json");
        Files.writeString(p, "{\"type\":\"bpe\",\"merges\":[[97,98],[256,300]]}");
        DataException e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains("merge 1 [256, 300] refers to id 300, which does not exist before it"),
                e.getMessage());
        Files.writeString(p, "{\"type\":\"bpe\",\"merges\":[[97,98],[97]]}");
        e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains("key \"merges[1]\": expected a pair of token ids"), e.getMessage());
        Files.writeString(p, "{\"type\":\"bpe\",\"merges\":[[97,98],[97,98]]}");
        e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains("repeats merge 0"), e.getMessage());
        // without "pattern" the default applies
        Files.writeString(p, "{\"type\":\"bpe\",\"merges\":[[97,98]]}");
        assertEquals(BpeTokenizer.DEFAULT_PATTERN, ((BpeTokenizer) Tokenizer.load(p)).pattern());
        assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.train(List.of("a"), 255, SpecialTokens.NONE));
    }

    @Test
    void aPatternThatSkipsTextStillEncodesEverything() {
        BpeTokenizer tok = BpeTokenizer.train(List.of("abc abc"), 300, SpecialTokens.NONE, "b");
        assertEquals(List.of("a", "b", "c a", "b", "c"), tok.pretokenize("abc abc"));
        assertEquals("abc abc", tok.decode(tok.encode("abc abc")));
    }

    @Test
    void trainsOnAMegabyteInSecondsAndEncodesTenThousandSentencesFast() {
        String text = Corpus.english(1_000_000, 11);
        long t0 = System.nanoTime();
        BpeTokenizer tok = BpeTokenizer.train(List.of(text), 2000, SpecialTokens.DEFAULT);
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(2000 - 256, tok.numMerges());
        List<String> sentences = Corpus.lines(10_000, 12);
        long t1 = System.nanoTime();
        long ids = 0;
        for (String s : sentences) {
            ids += tok.encode(s).length;
        }
        double encodeSeconds = (System.nanoTime() - t1) / 1e9;
        System.out.printf("BPE: trained 1744 merges on %,d chars in %.2f s; encoded 10,000 sentences (%,d ids) in"
                + " %.3f s%n", text.length(), trainSeconds, ids, encodeSeconds);
        // generous bounds: the machine is shared; typical times are well below
        assertTrue(trainSeconds < 20, "training took " + trainSeconds + " s");
        assertTrue(encodeSeconds < 2, "encoding took " + encodeSeconds + " s");
    }

    @Test
    void trainsOnTinyShakespeareAndRoundTripsIt() {
        Path file = SharedData.file("tinyshakespeare.txt");
        String text = dev.backprop.data.TextCorpus.readUtf8(file);
        long t0 = System.nanoTime();
        BpeTokenizer tok = BpeTokenizer.train(List.of(text), 4000, SpecialTokens.DEFAULT);
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        int[] ids = tok.encode(text);
        double encodeSeconds = (System.nanoTime() - t1) / 1e9;
        System.out.printf("BPE on tinyshakespeare (%,d chars): 3744 merges in %.2f s, encoded to %,d ids (%.2f chars per"
                + " id) in %.2f s%n", text.length(), trainSeconds, ids.length, (double) text.length() / ids.length,
                encodeSeconds);
        assertEquals(4000 + 4, tok.vocabSize());
        assertEquals(text, tok.decode(ids));
        assertTrue(trainSeconds < 30, "training took " + trainSeconds + " s");
    }

    @Test
    void aLongPieceEncodesInLinearithmicTime() {
        BpeTokenizer tok = BpeTokenizer.train(List.of("aaaa bbbb abab"), 270, SpecialTokens.NONE);
        String s = "ab".repeat(200_000); // one piece of 400,000 letters
        long t0 = System.nanoTime();
        int[] ids = tok.encode(s);
        assertTrue((System.nanoTime() - t0) / 1e9 < 5);
        assertEquals(s, tok.decode(ids));
    }

    private static String randomString(Random rnd, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            switch (rnd.nextInt(10)) {
                case 0 -> sb.append(' ');
                case 1 -> sb.append((char) rnd.nextInt(0x80)); // ASCII, controls and NUL included
                case 2 -> sb.append((char) (0x80 + rnd.nextInt(0x780))); // 2-byte UTF-8
                case 3 -> sb.append((char) (0x800 + rnd.nextInt(0xD800 - 0x800))); // 3-byte, CJK
                case 4 -> sb.appendCodePoint(0x10000 + rnd.nextInt(0x10FFFF - 0x10000)); // 4-byte, pairs
                case 5 -> sb.append((char) (0xD800 + rnd.nextInt(0x800))); // a lone surrogate (maybe pairing up)
                case 6 -> sb.append("\r\n");
                case 7 -> sb.append((char) (0x0300 + rnd.nextInt(0x70))); // combining marks
                case 8 -> sb.append((char) (0xE000 + rnd.nextInt(0x2000))); // private use, FFFx
                default -> sb.append("the ".charAt(rnd.nextInt(4)));
            }
        }
        return sb.toString();
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.chars().forEach(c -> sb.append(c < 0x20 || c > 0x7E ? String.format("\\u%04X", c) : String.valueOf((char) c)));
        return sb.toString();
    }
}
