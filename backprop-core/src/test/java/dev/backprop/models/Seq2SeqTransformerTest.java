package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.optim.AdamW;
import dev.backprop.optim.Clip;
import dev.backprop.optim.LRScheduler;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Masks that really mask, incremental decoding = full decoding, beam 1 = greedy, and a toy task learned. */
class Seq2SeqTransformerTest {
    static final int PAD = 0;
    static final int BOS = 1;
    static final int EOS = 2;
    static final int FIRST_SYMBOL = 3;

    static Seq2SeqTransformer model(int vocab, float dropout) {
        Generator.defaultGenerator().manualSeed(7);
        return new Seq2SeqTransformer(new Seq2SeqTransformer.Config(vocab, PAD, BOS, EOS, 32, 4, 2, 2, 64, dropout, 64));
    }

    static Tensor ids(long[][] rows) {
        int width = Arrays.stream(rows).mapToInt(r -> r.length).max().orElse(0);
        long[] flat = new long[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * width, rows[i].length); // the rest stays PAD = 0
        }
        return Tensor.ofLongs(flat, rows.length, width);
    }

    @Test
    void sourcePaddingDoesNotChangeTheOutput() {
        Seq2SeqTransformer m = (Seq2SeqTransformer) model(20, 0f).eval();
        Tensor tgt = ids(new long[][] {{BOS, 5, 6, 7}, {BOS, 8, 9, 3}});
        Tensor batch = ids(new long[][] {{4, 5, 6}, {7, 8, 9, 10, 11, 12}}); // row 0 padded with 3 PADs
        Tensor alone = ids(new long[][] {{4, 5, 6}});
        GradMode.noGrad(() -> {
            Tensor batched = m.forward(batch, tgt).select(0, 0);
            Tensor single = m.forward(alone, tgt.slice(0, 0, 1)).select(0, 0);
            assertTrue(batched.allClose(single, 1e-5, 1e-5), "a padded row must decode as the same row unpadded");

            // the memory at padded positions is never read: change it, the logits stay the same bit for bit
            Seq2SeqTransformer.Memory memory = m.encode(batch);
            Tensor noisy = memory.memory().copy();
            noisy.select(0, 0).slice(0, 3, 6).copyFrom(Tensor.randn(new Generator(3), 3, 32).mul(10f));
            Tensor before = m.decode(tgt, memory);
            Tensor after = m.decode(tgt, new Seq2SeqTransformer.Memory(noisy, memory.paddingMask()));
            assertArrayEquals(before.toFloatArray(), after.toFloatArray());
            // ... and without the mask the same change does show (the test can fail)
            Tensor unmasked = m.decode(tgt, new Seq2SeqTransformer.Memory(noisy,
                    Tensor.ofBools(new boolean[12], 2, 6)));
            assertFalse(unmasked.select(0, 0).allClose(before.select(0, 0), 1e-3, 1e-3));
            return null;
        });
    }

    @Test
    void futureTargetTokensDoNotAffectEarlierPositions() {
        Seq2SeqTransformer m = (Seq2SeqTransformer) model(20, 0f).eval();
        Tensor src = ids(new long[][] {{4, 5, 6, 7}});
        GradMode.noGrad(() -> {
            Tensor a = m.forward(src, ids(new long[][] {{BOS, 8, 9, 10, 11}}));
            Tensor b = m.forward(src, ids(new long[][] {{BOS, 8, 9, 15, 3}}));
            assertArrayEquals(a.slice(1, 0, 3).toFloatArray(), b.slice(1, 0, 3).toFloatArray());
            assertFalse(a.slice(1, 3, 5).allClose(b.slice(1, 3, 5), 1e-3, 1e-3));
            return null;
        });
    }

    @Test
    void incrementalDecodingMatchesTheFullDecoder() {
        Seq2SeqTransformer m = (Seq2SeqTransformer) model(20, 0f).eval();
        Tensor src = ids(new long[][] {{4, 5, 6}, {7, 8, 9, 10, 11}});
        long[][] prefix = {{BOS, 5, 6, 7, 8}, {BOS, 9, 3, 4, 12}};
        GradMode.noGrad(() -> {
            Seq2SeqTransformer.Memory memory = m.encode(src);
            Seq2SeqTransformer.DecoderState state = m.startDecoding(memory);
            for (int t = 0; t < 5; t++) {
                long[] col = {prefix[0][t], prefix[1][t]};
                Tensor step = m.decodeStep(Tensor.ofLongs(col, 2, 1), state);
                long[][] upTo = {Arrays.copyOf(prefix[0], t + 1), Arrays.copyOf(prefix[1], t + 1)};
                Tensor full = m.decode(ids(upTo), memory).select(1, t);
                assertTrue(step.allClose(full, 1e-4, 1e-4), "step " + t);
            }
            assertEquals(5, state.length());
            return null;
        });
    }

    @Test
    void beamOfOneIsGreedy() {
        Seq2SeqTransformer m = model(20, 0.1f);
        Tensor src = ids(new long[][] {{4, 5, 6}, {7, 8, 9, 10, 11}, {12, 13}, {14, 15, 16, 17}});
        List<int[]> greedy = m.greedy(src, 6);
        List<int[]> beam = m.beamSearch(src, 1, 0.6, 6);
        for (int i = 0; i < greedy.size(); i++) {
            assertArrayEquals(greedy.get(i), beam.get(i), "row " + i);
        }
        assertTrue(m.isTraining(), "decoding restores the training mode");
        assertThrows(IllegalArgumentException.class, () -> m.beamSearch(src, 0, 0.6, 6));
    }

    @Test
    void rejectsBadInput() {
        Seq2SeqTransformer m = model(20, 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.zeros(2, 3), ids(new long[][] {{BOS}, {BOS}})));
        assertTrue(e.getMessage().contains("int64 token ids"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new Seq2SeqTransformer.Config(20, 0, 1, 25, 32, 4, 1, 1, 64, 0f, 64));
        assertThrows(IllegalArgumentException.class, () -> m.forward(ids(new long[][] {new long[70]}),
                ids(new long[][] {{BOS}})));
    }

    /**
     * Reversal of random digit strings: needs cross-attention (the output depends on the source)
     * and positions (order), so a broken mask, cache or attention fails it.
     */
    @Test
    void learnsToReverseSequences() {
        int symbols = 10;
        Seq2SeqTransformer m = model(FIRST_SYMBOL + symbols, 0f);
        Random rng = new Random(1);
        AdamW opt = new AdamW(m.parameters(), 3e-3, 0.9, 0.98, 1e-9, 0.0);
        LRScheduler schedule = LRScheduler.inverseSqrt(opt, 50);
        for (int step = 0; step < 400; step++) {
            long[][][] b = reversalBatch(rng, 32, symbols);
            m.zeroGrad();
            Tensor loss = m.loss(ids(b[0]), ids(b[1]), ids(b[2]), 0f);
            loss.backward();
            Clip.gradNorm(m.parameters(), 1.0);
            opt.step();
            schedule.step();
        }
        long[][][] test = reversalBatch(new Random(99), 50, symbols);
        for (int beam : new int[] {1, 4}) {
            List<int[]> out = beam == 1 ? m.greedy(ids(test[0]), 3) : m.beamSearch(ids(test[0]), beam, 0.6, 3);
            int correct = 0;
            for (int i = 0; i < out.size(); i++) {
                long[] want = Arrays.copyOfRange(test[2][i], 0, test[2][i].length - 1); // without eos
                correct += Arrays.equals(Arrays.stream(out.get(i)).asLongStream().toArray(), want) ? 1 : 0;
            }
            assertTrue(correct >= 45, "beam " + beam + ": " + correct + "/50 reversed exactly");
        }
    }

    /** src, tgtIn (bos + reversed), tgtOut (reversed + eos), lengths 3..7. */
    static long[][][] reversalBatch(Random rng, int n, int symbols) {
        long[][] src = new long[n][];
        long[][] in = new long[n][];
        long[][] out = new long[n][];
        for (int i = 0; i < n; i++) {
            int len = 3 + rng.nextInt(5);
            src[i] = new long[len];
            in[i] = new long[len + 1];
            out[i] = new long[len + 1];
            in[i][0] = BOS;
            for (int j = 0; j < len; j++) {
                src[i][j] = FIRST_SYMBOL + rng.nextInt(symbols);
            }
            for (int j = 0; j < len; j++) {
                in[i][j + 1] = src[i][len - 1 - j];
                out[i][j] = src[i][len - 1 - j];
            }
            out[i][len] = EOS;
        }
        return new long[][][] {src, in, out};
    }
}
