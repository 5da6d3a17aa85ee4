package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.CharVocab;
import dev.backprop.tensor.Generator;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Picking tokens: greedy, temperature, top-k, reproducible seeds, and generation from both models. */
class SamplerTest {
    private static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 3.0f, 0.0f};

    @Test
    void temperatureZeroIsGreedyWithTheLowestIdAmongEquals() {
        Sampler greedy = new Sampler(0, 0, new Generator(1));
        for (int i = 0; i < 5; i++) {
            assertEquals(1, greedy.sample(LOGITS));
        }
        assertEquals(1, new Sampler(5.0, 1, new Generator(2)).sample(LOGITS), "top-1 is greedy at any temperature");
    }

    @Test
    void frequenciesFollowTheSoftmaxOfTheScaledLogits() {
        double temperature = 0.7;
        Sampler s = new Sampler(temperature, 0, new Generator(3));
        int draws = 60_000;
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < draws; i++) {
            counts[s.sample(LOGITS)]++;
        }
        double sum = 0;
        double[] p = new double[LOGITS.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(LOGITS[i] / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            double expected = p[i] / sum * draws;
            double sd = Math.sqrt(expected * (1 - p[i] / sum));
            assertTrue(Math.abs(counts[i] - expected) < 5 * sd + 1, "token " + i + ": " + counts[i] + " vs " + expected);
        }
    }

    @Test
    void topKDrawsOnlyAmongTheKLargestKeepingTies() {
        Sampler top2 = new Sampler(1.0, 2, new Generator(4));
        boolean[] seen = new boolean[LOGITS.length];
        for (int i = 0; i < 2000; i++) {
            seen[top2.sample(LOGITS)] = true;
        }
        assertArrayEquals(new boolean[] {false, true, false, false, true, false}, seen, "the two 3.0s");
        Sampler top3 = new Sampler(1.0, 3, new Generator(5));
        Arrays.fill(seen, false);
        for (int i = 0; i < 2000; i++) {
            seen[top3.sample(LOGITS)] = true;
        }
        assertArrayEquals(new boolean[] {false, true, true, false, true, false}, seen);
    }

    @Test
    void theSameSeedGivesTheSameTextAndAnotherSeedAnother() {
        GPT gpt = new GPT(GPTTest.SMALL, new Generator(1));
        CharLSTM lstm = new CharLSTM(new CharLSTM.Config(11, 6, 8, 1), new Generator(1));
        for (LanguageModel m : new LanguageModel[] {gpt, lstm}) {
            long[] prompt = {1, 2, 3};
            long[] a = new Sampler(1.0, 0, new Generator(42)).generate(m, prompt, 30);
            long[] b = new Sampler(1.0, 0, new Generator(42)).generate(m, prompt, 30);
            long[] c = new Sampler(1.0, 0, new Generator(43)).generate(m, prompt, 30);
            assertArrayEquals(a, b);
            assertFalse(Arrays.equals(a, c), "another seed");
            long[] g1 = new Sampler(0, 0, new Generator(1)).generate(m, prompt, 30);
            long[] g2 = new Sampler(0, 0, new Generator(2)).generate(m, prompt, 30);
            assertArrayEquals(g1, g2, "greedy decoding ignores the seed");
            assertEquals(30, a.length);
            for (long id : a) {
                assertTrue(id >= 0 && id < 11);
            }
        }
        // more tokens than the GPT's context of 8: the window slides
        assertEquals(50, new Sampler(0.8, 5, new Generator(1)).generate(gpt, new long[] {0}, 50).length);
    }

    @Test
    void characterGenerationAndBadInput() {
        CharVocab vocab = CharVocab.of("abcdefghij ");
        GPT gpt = new GPT(new GPT.Config(vocab.size(), 8, 1, 1, 8, 16), new Generator(1));
        String text = new Sampler(1.0, 0, new Generator(9)).generate(gpt, vocab, "abc", 12);
        assertEquals(12, text.codePointCount(0, text.length()));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(1.0, 0, new Generator(9)).generate(gpt, vocab, "abz", 5));
        assertTrue(unknown.getMessage().contains("'z' (U+007A) at index 2 is not in the vocabulary"),
                unknown.getMessage());
        assertArrayEquals(new int[] {'z', 'Q'}, vocab.unknown("azbQz"));
        assertEquals("'z' (U+007A), (U+0009)", CharVocab.describe(new int[] {'z', '\t'}));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-1, 0, new Generator(1)));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(Double.NaN, 0, new Generator(1)));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, -1, new Generator(1)));
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(1, 0, new Generator(1)).generate(gpt, new long[0], 3));
    }
}
