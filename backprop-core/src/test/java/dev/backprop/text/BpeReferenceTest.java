package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The incremental trainer and the heap-based encoder against the plainest possible versions: a
 * trainer that recounts every pair after every merge, and GPT-2's {@code bpe()} loop (find the
 * pair with the earliest merge, merge it everywhere left to right, repeat).
 */
class BpeReferenceTest {
    @Test
    void incrementalTrainingEqualsRecountingEveryStep() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 40; trial++) {
            List<String> corpus = new ArrayList<>();
            int lines = 1 + rnd.nextInt(20);
            for (int i = 0; i < lines; i++) {
                corpus.add(randomText(rnd, rnd.nextInt(60)));
            }
            int vocab = 256 + rnd.nextInt(80);
            BpeTokenizer tok = BpeTokenizer.train(corpus, vocab, SpecialTokens.NONE);
            List<int[]> expected = naiveTrain(corpus, tok, vocab - 256);
            assertEquals(expected.size(), tok.numMerges(), "trial " + trial);
            for (int r = 0; r < expected.size(); r++) {
                assertArrayEquals(expected.get(r), tok.merges().get(r), "trial " + trial + ", merge " + r);
            }
            for (int i = 0; i < 20; i++) {
                String s = randomText(rnd, rnd.nextInt(40));
                assertArrayEquals(naiveEncode(tok, s), tok.encode(s), "trial " + trial + ": " + s);
            }
        }
    }

    /** Letters from a tiny alphabet so that pairs repeat and overlap ("aaaa"), spaces and punctuation. */
    private static String randomText(Random rnd, int length) {
        String alphabet = "aaaabbbcc d.!\u00e9";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    private static List<int[]> naiveTrain(List<String> corpus, BpeTokenizer tok, int maxMerges) {
        Map<String, Integer> pieceCounts = new LinkedHashMap<>();
        for (String text : corpus) {
            for (String piece : tok.pretokenize(text)) {
                pieceCounts.merge(piece, 1, Integer::sum);
            }
        }
        List<List<Integer>> words = new ArrayList<>();
        List<Integer> freqs = new ArrayList<>();
        for (Map.Entry<String, Integer> e : pieceCounts.entrySet()) {
            List<Integer> w = new ArrayList<>();
            for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) {
                w.add(b & 0xFF);
            }
            words.add(w);
            freqs.add(e.getValue());
        }
        List<int[]> merges = new ArrayList<>();
        for (int m = 0; m < maxMerges; m++) {
            Map<Long, Long> counts = new HashMap<>();
            for (int k = 0; k < words.size(); k++) {
                List<Integer> w = words.get(k);
                for (int i = 0; i + 1 < w.size(); i++) {
                    counts.merge(((long) w.get(i) << 32) | w.get(i + 1), (long) freqs.get(k), Long::sum);
                }
            }
            long best = -1;
            long bestCount = 0;
            for (Map.Entry<Long, Long> e : counts.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best < 0) {
                break;
            }
            int a = (int) (best >>> 32);
            int b = (int) best;
            merges.add(new int[] {a, b});
            for (List<Integer> w : words) {
                mergeAll(w, a, b, 256 + m);
            }
        }
        return merges;
    }

    private static void mergeAll(List<Integer> w, int a, int b, int merged) {
        for (int i = 0; i + 1 < w.size(); i++) {
            if (w.get(i) == a && w.get(i + 1) == b) {
                w.set(i, merged);
                w.remove(i + 1);
            }
        }
    }

    /** GPT-2's bpe(): the earliest-learned pair present, merged everywhere left to right, until none. */
    private static int[] naiveEncode(BpeTokenizer tok, String text) {
        Map<Long, Integer> ranks = new HashMap<>();
        List<int[]> merges = tok.merges();
        for (int r = 0; r < merges.size(); r++) {
            ranks.put(((long) merges.get(r)[0] << 32) | merges.get(r)[1], r);
        }
        List<Integer> out = new ArrayList<>();
        for (String piece : tok.pretokenize(text)) {
            List<Integer> w = new ArrayList<>();
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                w.add(b & 0xFF);
            }
            while (true) {
                int bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < w.size(); i++) {
                    Integer r = ranks.get(((long) w.get(i) << 32) | w.get(i + 1));
                    if (r != null && r < bestRank) {
                        bestRank = r;
                    }
                }
                if (bestRank == Integer.MAX_VALUE) {
                    break;
                }
                mergeAll(w, merges.get(bestRank)[0], merges.get(bestRank)[1], 256 + bestRank);
            }
            out.addAll(w);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
