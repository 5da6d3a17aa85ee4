package dev.backprop.nn;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.kernels.Kernels;
import dev.backprop.ops.Attention;
import dev.backprop.ops.ReferenceCases;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The fused ops behind {@link F#scaledDotProductAttention} and {@link F#layerNorm}: PyTorch
 * reference cases (reference-extra/sdpa, generator in reference-extra/generator), agreement with
 * the same computation written as separate ops (forward and every gradient) on strided,
 * broadcast and masked inputs, layouts, thread-count independence and error messages.
 */
class FusedOpsTest {

    // ------------------------------------------------------------------ PyTorch reference cases

    @TestFactory
    Stream<DynamicTest> scaledDotProductAttentionReferenceCases() {
        List<ReferenceCases.Case> cases = sdpaCases();
        assertTrue(cases.size() >= 5, "reference-extra/sdpa cases: " + cases.size());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Tensor q = c.get("in.q").copy().requiresGrad(true);
            Tensor k = c.get("in.k").copy().requiresGrad(true);
            Tensor v = c.get("in.v").copy().requiresGrad(true);
            Tensor mask = c.args().get("mask") == null ? null : c.get("in.mask");
            double scale = c.has("scale") ? c.number("scale") : Double.NaN;
            Tensor out = F.scaledDotProductAttention(q, k, v, mask, Boolean.TRUE.equals(c.args().get("causal")), scale);
            assertClose(c.name() + ": out", out, c.get("out"));
            out.backward(c.get("grad_out"));
            assertClose(c.name() + ": grad.in.q", q.grad(), c.get("grad.in.q"));
            assertClose(c.name() + ": grad.in.k", k.grad(), c.get("grad.in.k"));
            assertClose(c.name() + ": grad.in.v", v.grad(), c.get("grad.in.v"));
        }));
    }

    private static List<ReferenceCases.Case> sdpaCases() {
        return ReferenceCases.fromIndex("/reference-extra/sdpa");
    }

    // ------------------------------------------------------------------ attention against separate ops

    /** softmax(q kᵀ · scale, masked) v as separate ops; masks as for MultiheadAttention (true = blocked). */
    private static Tensor composite(Tensor q, Tensor k, Tensor v, Tensor blockMask, Tensor addMask, boolean causal,
            float scale) {
        Tensor s = q.matmul(k.transpose(-2, -1)).mul(scale);
        int l = q.size(-2);
        int len = k.size(-2);
        if (causal) {
            s = s.maskedFill(MultiheadAttention.causalMask(l, len), Float.NEGATIVE_INFINITY);
        }
        if (blockMask != null) {
            s = s.maskedFill(blockMask, Float.NEGATIVE_INFINITY);
        }
        if (addMask != null) {
            s = s.add(addMask);
        }
        return s.softmax(-1).matmul(v);
    }

    /**
     * Runs {@code fused} and {@code separate} on copies of the leaves with the same upstream
     * gradient, and compares the outputs and every leaf's gradient.
     */
    private static void assertSame(String what, Function<List<Tensor>, Tensor> fused,
            Function<List<Tensor>, Tensor> separate, Tensor... leaves) {
        List<Tensor> a = new ArrayList<>();
        List<Tensor> b = new ArrayList<>();
        for (Tensor t : leaves) {
            a.add(t.copy().requiresGrad(true));
            b.add(t.copy().requiresGrad(true));
        }
        Tensor ya = fused.apply(a);
        Tensor yb = separate.apply(b);
        assertArrayEquals(yb.shape(), ya.shape(), what + ": shape");
        assertTrue(ya.allClose(yb, 1e-5, 2e-6), what + ": output\n" + ya + "\n" + yb);
        Tensor g = Tensor.randn(new Generator(99), ya.shape());
        ya.backward(g);
        yb.backward(g);
        for (int i = 0; i < leaves.length; i++) {
            assertTrue(a.get(i).grad().allClose(b.get(i).grad(), 1e-4, 1e-5), what + ": gradient of input " + i
                    + "\n" + a.get(i).grad() + "\n" + b.get(i).grad());
        }
    }

    @Test
    void headsSplitFromAPackedProjectionAreReadInPlace() {
        Generator g = new Generator(1);
        int b = 2;
        int t = 7;
        int h = 3;
        int hd = 4;
        int d = h * hd;
        Tensor packed = Tensor.randn(g, b * t, 3 * d);
        Function<Tensor, Tensor[]> split = x -> new Tensor[] {
            x.slice(1, 0, d).reshape(b, t, h, hd).transpose(1, 2),
            x.slice(1, d, 2 * d).reshape(b, t, h, hd).transpose(1, 2),
            x.slice(1, 2 * d, 3 * d).reshape(b, t, h, hd).transpose(1, 2)};
        float scale = (float) (1 / Math.sqrt(hd));
        assertSame("causal, GPT layout", in -> {
            Tensor[] qkv = split.apply(in.get(0));
            return F.scaledDotProductAttention(qkv[0], qkv[1], qkv[2], null, true);
        }, in -> {
            Tensor[] qkv = split.apply(in.get(0));
            return composite(qkv[0], qkv[1], qkv[2], null, null, true, scale);
        }, packed);
        // the (B, H, T, hd) output is stored as (B, T, H, hd): merging the heads is a view
        Tensor[] qkv = split.apply(packed);
        Tensor y = F.scaledDotProductAttention(qkv[0], qkv[1], qkv[2], null, true);
        assertArrayEquals(new int[] {b, h, t, hd}, y.shape());
        Tensor merged = y.transpose(1, 2).reshape(b * t, d);
        assertTrue(merged.sharesStorageWith(y), "merging the heads copied");
        assertTrue(merged.isContiguous());
    }

    @Test
    void packedSelfAttentionEqualsTheSplitHeads() {
        Generator g = new Generator(11);
        int b = 3;
        int t = 6;
        int h = 2;
        int hd = 5;
        int d = h * hd;
        for (boolean causal : new boolean[] {true, false}) {
            Tensor packed = Tensor.randn(g, b, t, 3 * d);
            Tensor a = packed.copy().requiresGrad(true);
            Tensor c = packed.copy().requiresGrad(true);
            Tensor ya = Attention.packed(a, h, causal, 0.4);
            Function<Integer, Tensor> head = i -> c.slice(2, i * d, (i + 1) * d).reshape(b, t, h, hd).transpose(1, 2);
            Tensor yc = F.scaledDotProductAttention(head.apply(0), head.apply(1), head.apply(2), null, causal, 0.4)
                    .transpose(1, 2).reshape(b, t, d);
            assertArrayEquals(new int[] {b, t, d}, ya.shape());
            assertArrayEquals(yc.toFloatArray(), ya.toFloatArray(), "the same products in the same order");
            Tensor up = Tensor.randn(g, b, t, d);
            ya.backward(up);
            yc.backward(up);
            assertArrayEquals(c.grad().toFloatArray(), a.grad().toFloatArray(), "causal " + causal + ": gradient");
        }
        // unbatched (T, 3·H·D) and a strided gradient from above
        Tensor x = Tensor.randn(g, t, 3 * d).requiresGrad(true);
        Attention.packed(x, h, true, Double.NaN).sum().backward();
        assertArrayEquals(new int[] {t, 3 * d}, x.grad().shape());
        assertTrue(x.grad().isAllFinite());
        assertMessage("expected a packed q/k/v projection (…, T, 3·4·D), got [6, 30]",
                () -> Attention.packed(x, 4, true, Double.NaN));
    }

    @Test
    void masksOfBothConventionsAndAdditiveMasksBroadcast() {
        Generator g = new Generator(2);
        Tensor q = Tensor.randn(g, 2, 3, 4, 5);
        Tensor k = Tensor.randn(g, 2, 3, 6, 5);
        Tensor v = Tensor.randn(g, 2, 3, 6, 2);
        boolean[] keep = new boolean[4 * 6];
        boolean[] block = new boolean[4 * 6];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = i % 6 == 0 || (i * 7) % 5 < 3;
            block[i] = !keep[i];
        }
        Tensor keepMask = Tensor.ofBools(keep, 4, 6);
        Tensor blockMask = Tensor.ofBools(block, 4, 6);
        assertSame("bool mask, true = attend", in -> F.scaledDotProductAttention(in.get(0), in.get(1), in.get(2),
                keepMask, false, 0.7), in -> composite(in.get(0), in.get(1), in.get(2), blockMask, null, false, 0.7f),
                q, k, v);
        byte[] bytes = new byte[keep.length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (keep[i] ? 1 : 0);
        }
        assertSame("uint8 mask", in -> F.scaledDotProductAttention(in.get(0), in.get(1), in.get(2),
                Tensor.ofBytes(bytes, 4, 6), false, 0.7), in -> composite(in.get(0), in.get(1), in.get(2), blockMask,
                null, false, 0.7f), q, k, v);
        Tensor additive = Tensor.randn(g, 2, 1, 4, 6);
        assertSame("float mask (2, 1, L, S)", in -> F.scaledDotProductAttention(in.get(0), in.get(1), in.get(2),
                additive, false), in -> composite(in.get(0), in.get(1), in.get(2), null, additive, false,
                (float) (1 / Math.sqrt(5))), q, k, v);
        // MultiheadAttention's convention and two masks at once, with the causal mask
        Tensor padding = Tensor.ofBools(new boolean[] {false, false, false, false, false, true,
            false, true, false, false, false, false}, 2, 1, 1, 6);
        assertSame("causal + blocking mask + float mask", in -> Attention.apply(in.get(0), in.get(1), in.get(2), true,
                0.5, Attention.Mask.blockWhereTrue(padding), Attention.Mask.additive(additive)),
                in -> composite(in.get(0), in.get(1), in.get(2), padding, additive, true, 0.5f), q, k, v);
    }

    @Test
    void batchDimensionsBroadcastAndStridedInputsWork() {
        Generator g = new Generator(3);
        Tensor q = Tensor.randn(g, 3, 2, 4, 5);
        Tensor k = Tensor.randn(g, 1, 2, 6, 5); // broadcast over the first batch dimension
        Tensor v = Tensor.randn(g, 6, 3); // no batch dimensions at all
        assertSame("broadcast batch", in -> F.scaledDotProductAttention(in.get(0), in.get(1), in.get(2), null, false),
                in -> composite(in.get(0), in.get(1), in.get(2), null, null, false, (float) (1 / Math.sqrt(5))),
                q, k, v);
        // k given transposed (its rows strided, its columns contiguous), v non-contiguous both ways
        Tensor kt = Tensor.randn(g, 2, 5, 6);
        Tensor vp = Tensor.randn(g, 6, 2, 3, 2);
        assertSame("strided key and value", in -> F.scaledDotProductAttention(in.get(0),
                in.get(1).transpose(-2, -1), in.get(2).slice(3, 0, 2, 2).squeeze(3).permute(1, 0, 2), null, true),
                in -> composite(in.get(0), in.get(1).transpose(-2, -1),
                        in.get(2).slice(3, 0, 2, 2).squeeze(3).permute(1, 0, 2), null, null, true,
                        (float) (1 / Math.sqrt(5))), Tensor.randn(g, 2, 4, 5), kt, vp);
        // unbatched, more queries than keys, causal
        assertSame("unbatched L > S causal", in -> F.scaledDotProductAttention(in.get(0), in.get(1), in.get(2), null,
                true, 0.3), in -> composite(in.get(0), in.get(1), in.get(2), null, null, true, 0.3f),
                Tensor.randn(g, 6, 3), Tensor.randn(g, 4, 3), Tensor.randn(g, 4, 2));
    }

    @Test
    void onlyTheInputsThatNeedAGradientGetOne() {
        Generator g = new Generator(4);
        Tensor q = Tensor.randn(g, 2, 3, 4);
        Tensor k = Tensor.randn(g, 2, 5, 4).requiresGrad(true);
        Tensor v = Tensor.randn(g, 2, 5, 2);
        F.scaledDotProductAttention(q, k, v, null, false).sum().backward();
        assertNotNull(k.grad());
        assertEquals(null, q.grad());
        assertFalse(F.scaledDotProductAttention(q, k.detach(), v, null, false).requiresGrad());
    }

    @Test
    void aQueryWithEveryKeyMaskedIsNaNAsInPyTorch() {
        Generator g = new Generator(5);
        Tensor q = Tensor.randn(g, 3, 4);
        Tensor k = Tensor.randn(g, 5, 4);
        Tensor v = Tensor.randn(g, 5, 2);
        boolean[] keep = new boolean[15];
        Arrays.fill(keep, true);
        Arrays.fill(keep, 5, 10, false); // query 1 sees nothing
        Tensor out = F.scaledDotProductAttention(q, k, v, Tensor.ofBools(keep, 3, 5), false);
        assertTrue(Float.isNaN(out.get(1, 0)) && Float.isNaN(out.get(1, 1)));
        assertTrue(out.select(0, 0).isAllFinite() && out.select(0, 2).isAllFinite());
        assertTrue(F.scaledDotProductAttention(q, k, v, null, true).isAllFinite(), "causal rows always see key 0");
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Generator g = new Generator(6);
        Tensor q = Tensor.randn(g, 4, 3, 9, 8);
        Tensor k = Tensor.randn(g, 4, 3, 9, 8);
        Tensor v = Tensor.randn(g, 4, 3, 9, 8);
        Tensor x = Tensor.randn(g, 300, 128);
        Tensor w = Tensor.randn(g, 128);
        Tensor bias = Tensor.randn(g, 128);
        int before = Kernels.threads();
        List<float[]> results = new ArrayList<>();
        try {
            for (int threads : new int[] {1, 3}) {
                Kernels.setThreads(threads);
                Tensor[] leaves = {q.copy().requiresGrad(true), k.copy().requiresGrad(true),
                    v.copy().requiresGrad(true), x.copy().requiresGrad(true), w.copy().requiresGrad(true),
                    bias.copy().requiresGrad(true)};
                Tensor y = F.scaledDotProductAttention(leaves[0], leaves[1], leaves[2], null, true);
                Tensor z = F.layerNorm(leaves[3], new int[] {128}, leaves[4], leaves[5], 1e-5f);
                y.mul(y).sum().add(z.mul(z.sin()).sum()).backward();
                results.add(y.toFloatArray());
                results.add(z.toFloatArray());
                for (Tensor leaf : leaves) {
                    results.add(leaf.grad().toFloatArray());
                }
            }
        } finally {
            Kernels.setThreads(before);
        }
        int half = results.size() / 2;
        for (int i = 0; i < half; i++) {
            assertArrayEquals(results.get(i), results.get(half + i), "result " + i + " differs between 1 and 3 threads");
        }
    }

    @Test
    void attentionArgumentsAreChecked() {
        Tensor q = Tensor.zeros(2, 3, 4);
        Tensor k = Tensor.zeros(2, 5, 4);
        Tensor v = Tensor.zeros(2, 5, 6);
        assertMessage("pass either attnMask or causal=true", () -> F.scaledDotProductAttention(q, k, v,
                Tensor.ones(3, 5), true));
        assertMessage("expected query (…, L, E), key (…, S, E) and value (…, S, Ev)", () ->
                F.scaledDotProductAttention(q, Tensor.zeros(2, 5, 3), v, null, false));
        assertMessage("expected query (…, L, E), key (…, S, E) and value (…, S, Ev)", () ->
                F.scaledDotProductAttention(q, k, Tensor.zeros(2, 4, 6), null, false));
        assertMessage("do not broadcast", () -> F.scaledDotProductAttention(q, Tensor.zeros(3, 5, 4),
                Tensor.zeros(3, 5, 6), null, false));
        assertMessage("cannot be broadcast to the scores' shape", () -> F.scaledDotProductAttention(q, k, v,
                Tensor.ones(3, 4), false));
        assertMessage("a mask must be bool/uint8 or float32", () -> F.scaledDotProductAttention(q, k, v,
                Tensor.ofLongs(new long[15], 3, 5), false));
        assertMessage("at least 2 dimensions", () -> F.scaledDotProductAttention(Tensor.zeros(4), k, v, null, false));
        assertMessage("expected a float32 tensor", () -> F.scaledDotProductAttention(q,
                Tensor.ofLongs(new long[40], 2, 5, 4), v, null, false));
    }

    private static void assertMessage(String expected, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage());
    }

    // ------------------------------------------------------------------ layer norm against separate ops

    /** The composite form F.layerNorm used before the fused op. */
    private static Tensor compositeLayerNorm(Tensor x, int k, Tensor weight, Tensor bias, float eps) {
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) {
            dims[i] = x.dim() - k + i;
        }
        Tensor centered = x.sub(x.mean(dims, true));
        Tensor y = centered.div(centered.mul(centered).mean(dims, true).add(eps).sqrt());
        if (weight != null) {
            y = y.mul(weight);
        }
        return bias == null ? y : y.add(bias);
    }

    @Test
    void layerNormMatchesTheCompositeForm() {
        Generator g = new Generator(7);
        Tensor x = Tensor.randn(g, 3, 4, 2, 5);
        Tensor w = Tensor.randn(g, 2, 5);
        Tensor b = Tensor.randn(g, 2, 5);
        int[] shape = {2, 5};
        assertSame("weight and bias", in -> F.layerNorm(in.get(0), shape, in.get(1), in.get(2), 1e-5f),
                in -> compositeLayerNorm(in.get(0), 2, in.get(1), in.get(2), 1e-5f), x, w, b);
        assertSame("weight only", in -> F.layerNorm(in.get(0), shape, in.get(1), null, 1e-5f),
                in -> compositeLayerNorm(in.get(0), 2, in.get(1), null, 1e-5f), x, w);
        assertSame("bias only, eps 0.1", in -> F.layerNorm(in.get(0), shape, null, in.get(1), 0.1f),
                in -> compositeLayerNorm(in.get(0), 2, null, in.get(1), 0.1f), x, b);
        assertSame("no affine, non-contiguous input", in -> F.layerNorm(in.get(0).transpose(0, 1), new int[] {5},
                null, null, 1e-5f), in -> compositeLayerNorm(in.get(0).transpose(0, 1), 1, null, null, 1e-5f),
                Tensor.randn(g, 4, 3, 5));
        // rows far from zero: the variance is taken about the mean
        Tensor shifted = Tensor.randn(g, 6, 64).mul(0.5f).add(200f);
        Tensor y = F.layerNorm(shifted, new int[] {64}, null, null, 1e-5f);
        for (int r = 0; r < 6; r++) {
            float[] row = y.select(0, r).toFloatArray();
            double mean = 0;
            double sq = 0;
            for (float v : row) {
                mean += v;
                sq += (double) v * v;
            }
            assertEquals(0, mean / 64, 1e-3, "row " + r + " mean");
            assertEquals(1, sq / 64, 1e-2, "row " + r + " variance");
        }
    }

    @Test
    void layerNormKeepsItsChecksAndBroadcastWeights() {
        Tensor x = Tensor.zeros(2, 3);
        assertMessage("layer_norm: expected input of shape (*, 4), got [2, 3]",
                () -> F.layerNorm(x, new int[] {4}, null, null, 1e-5f));
        // a weight that only broadcasts to the normalized shape keeps working (the composite form)
        Generator g = new Generator(8);
        Tensor in = Tensor.randn(g, 4, 3);
        Tensor w = Tensor.randn(g, 1);
        assertTrue(F.layerNorm(in, new int[] {3}, w, null, 1e-5f)
                .allClose(F.layerNorm(in, new int[] {3}, null, null, 1e-5f).mul(w), 1e-6, 1e-6));
        Supplier<Tensor> empty = () -> F.layerNorm(Tensor.zeros(0, 3), new int[] {3}, null, null, 1e-5f);
        assertArrayEquals(new int[] {0, 3}, empty.get().shape());
    }
}
