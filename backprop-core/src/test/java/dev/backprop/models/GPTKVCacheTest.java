package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.nn.Init;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The key/value cache of {@link GPT}: the incremental forward gives the logits of the full forward
 * at every position (token by token, in chunks, batched), and decoding slides past the context.
 */
class GPTKVCacheTest {
    private static final double TOLERANCE = 1e-5;

    /** A model whose weights are far from GPT-2's tiny initialisation, so attention is far from uniform. */
    private static GPT model(GPT.Config config, long seed) {
        GPT m = new GPT(config, new Generator(seed));
        Generator g = new Generator(seed + 1);
        for (Tensor p : m.parameters()) {
            Init.normal(p, 0, 0.3, g);
        }
        return m;
    }

    private static Tensor tokens(Generator g, int vocab, int b, int t) {
        return Tensor.randint(g, 0, vocab, b, t);
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        float[] e = expected.contiguous().toFloatArray();
        float[] a = actual.contiguous().toFloatArray();
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            worst = Math.max(worst, Math.abs(e[i] - a[i]) / Math.max(1, Math.abs(e[i])));
        }
        assertTrue(worst <= TOLERANCE, what + ": largest difference " + worst);
    }

    @Test
    void tokenByTokenLogitsEqualTheFullForwardAtEveryPosition() {
        for (GPT.Config config : new GPT.Config[] {GPTTest.SMALL, GPT.Config.w3()}) {
            GPT m = model(config, 3);
            int t = config.contextLength();
            Tensor idx = tokens(new Generator(5), config.vocabSize(), 1, t);
            Tensor full = GradMode.noGrad(() -> m.forward(idx)); // (1, T, V)
            GPT.KVCache cache = m.newCache(1);
            for (int i = 0; i < t; i++) {
                Tensor step = m.forward(idx.slice(1, i, i + 1), cache);
                assertEquals(i + 1, cache.length());
                assertClose(full.slice(1, i, i + 1), step, config + " position " + i);
            }
        }
    }

    @Test
    void chunksAndBatchesEqualTheFullForward() {
        GPT.Config config = new GPT.Config(13, 16, 2, 4, 32, 64);
        GPT m = model(config, 7);
        Tensor idx = tokens(new Generator(9), 13, 3, 16);
        Tensor full = GradMode.noGrad(() -> m.forward(idx));
        GPT.KVCache cache = m.newCache(3);
        int[] cuts = {0, 5, 6, 11, 16}; // a prompt of 5, one token, 5, then 5 more
        for (int c = 0; c + 1 < cuts.length; c++) {
            Tensor part = m.forward(idx.slice(1, cuts[c], cuts[c + 1]), cache);
            assertClose(full.slice(1, cuts[c], cuts[c + 1]), part, "positions " + cuts[c] + ".." + cuts[c + 1]);
        }
        cache.clear();
        assertClose(full, m.forward(idx, cache), "the whole sequence at once after clear()");
    }

    @Test
    void decodingWithAndWithoutTheCacheAgreeWithinTheContext() {
        GPT m = model(GPTTest.SMALL, 11);
        long[] ids = {1, 4, 2, 9, 0, 3, 3, 7};
        LanguageModel.Decoding cached = m.decoding(true);
        LanguageModel.Decoding full = m.decoding(false);
        float[] a = cached.feed(Arrays.copyOf(ids, 3));
        float[] b = full.feed(Arrays.copyOf(ids, 3));
        assertClose(Tensor.of(b, b.length), Tensor.of(a, a.length), "after the prompt");
        for (int i = 3; i < ids.length; i++) {
            a = cached.feed(ids[i]);
            b = full.feed(ids[i]);
            assertClose(Tensor.of(b, b.length), Tensor.of(a, a.length), "after token " + i);
        }
        assertEquals(8, cached.position());
    }

    @Test
    void decodingSlidesPastTheContext() {
        GPT m = model(GPTTest.SMALL, 13); // context 8
        LanguageModel.Decoding d = m.decoding();
        Generator g = new Generator(4);
        long[] history = new long[40];
        float[] logits = null;
        for (int i = 0; i < history.length; i++) {
            history[i] = g.nextInt(11);
            logits = d.feed(history[i]);
        }
        assertEquals(40, d.position());
        // a full cache (8) slides to the last 4 tokens: at token 9, then 4 tokens later the cache is full
        // again and token 14 slides, and so on every 5 tokens; at token 40 (40 - 9 = 31 = 6 * 5 + 1) the
        // window holds the 4 kept at token 39 and 1 more: the logits are the full forward's on those 5
        int sinceSlide = 4 + (40 - 9) % 5;
        long[] window = Arrays.copyOfRange(history, 40 - sinceSlide, 40);
        Tensor full = GradMode.noGrad(() -> m.forward(Tensor.ofLongs(window, 1, window.length)));
        Tensor last = full.select(1, window.length - 1).reshape(-1);
        assertClose(last, Tensor.of(logits, logits.length), "after sliding");
        // a prompt longer than the context keeps its last contextLength tokens
        LanguageModel.Decoding d2 = m.decoding();
        float[] fromLong = d2.feed(history);
        long[] tail = Arrays.copyOfRange(history, 32, 40);
        Tensor f2 = GradMode.noGrad(() -> m.forward(Tensor.ofLongs(tail, 1, 8)));
        assertClose(f2.select(1, 7).reshape(-1), Tensor.of(fromLong, fromLong.length), "a long prompt");
    }

    @Test
    void theCacheRecordsNoGraphAndChecksItsInput() {
        GPT m = model(GPTTest.SMALL, 17);
        GPT.KVCache cache = m.newCache(2);
        Tensor out = m.forward(Tensor.ofLongs(new long[] {1, 2, 3, 4}, 2, 2), cache);
        assertEquals(null, out.gradFn());
        IllegalArgumentException overflow = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.ofLongs(new long[14], 2, 7), cache));
        assertTrue(overflow.getMessage().contains("7 new tokens after 2 cached ones exceed the context length 8")
                && overflow.getMessage().contains("clear() the cache"), overflow.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.ofLongs(new long[] {1}, 1, 1), cache));
        assertTrue(batch.getMessage().contains("newCache(1)"), batch.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> model(GPTTest.SMALL, 17).forward(Tensor.ofLongs(new long[] {1, 2}, 2, 1), cache));
        assertTrue(other.getMessage().contains("of another model"), other.getMessage());
        IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class, () -> m.decoding().feed(11));
        assertTrue(vocab.getMessage().contains("token id 11 is outside the vocabulary [0, 11)"), vocab.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.decoding().feed());
    }
}
