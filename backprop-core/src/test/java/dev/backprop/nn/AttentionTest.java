package dev.backprop.nn;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradCheck;
import dev.backprop.autograd.GradMode;
import dev.backprop.check.AttentionGradChecks;
import dev.backprop.ops.ReferenceCases;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * MultiheadAttention and the Transformer layers: PyTorch reference cases (output and every
 * gradient), gradient checks, PyTorch's state-dict keys, and the semantics of layouts, masks and
 * dropout.
 */
class AttentionTest {

    // ------------------------------------------------------------------ PyTorch reference cases

    @TestFactory
    Stream<DynamicTest> pytorchReferenceCases() {
        List<ReferenceCases.Case> cases = ReferenceCases.all().stream()
                .filter(c -> c.op().equals("multihead_attention") || c.op().equals("transformer_encoder_layer"))
                .toList();
        List<String> names = cases.stream().map(ReferenceCases.Case::name).toList();
        assertTrue(names.contains("multihead_attention_causal")
                && names.contains("transformer_encoder_layer_prenorm"), "reference cases missing: " + names);
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> checkReference(c)));
    }

    private static void checkReference(ReferenceCases.Case c) {
        Module layer;
        Tensor x = c.get("in.x").copy().requiresGrad(true);
        Supplier<Tensor> forward;
        if (c.op().equals("multihead_attention")) {
            // the generator: mha(x, x, x, attn_mask=triu(ones(L, L), 1) as bool, need_weights=False)[0]
            MultiheadAttention mha = new MultiheadAttention(integer(c, "embed_dim"), integer(c, "num_heads"),
                    MultiheadAttention.Options.defaults()
                            .withBatchFirst(Boolean.TRUE.equals(c.args().get("batch_first"))));
            assertEquals(Boolean.TRUE, c.args().get("causal"));
            Tensor mask = MultiheadAttention.causalMask(x.size(1));
            layer = mha;
            forward = () -> mha.forward(x, x, x, null, mask, false, true, false).output();
        } else {
            TransformerEncoderLayer enc = new TransformerEncoderLayer(integer(c, "d_model"), integer(c, "nhead"),
                    TransformerEncoderLayer.Options.defaults().withDimFeedforward(integer(c, "dim_feedforward"))
                            .withDropout((float) c.number("dropout"))
                            .withActivation((String) c.args().get("activation"))
                            .withBatchFirst(Boolean.TRUE.equals(c.args().get("batch_first")))
                            .withNormFirst(Boolean.TRUE.equals(c.args().get("norm_first"))));
            layer = enc;
            forward = () -> enc.forward(x);
        }
        Map<String, Tensor> state = new HashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("param.")) {
                state.put(k.substring("param.".length()), v);
            }
        });
        layer.loadStateDict(state); // strict: every PyTorch key is ours and vice versa
        Tensor out = forward.get();
        assertClose(c.name() + ": out", out, c.get("out"));
        out.backward(c.get("grad_out"));
        assertClose(c.name() + ": grad.in.x", x.grad(), c.get("grad.in.x"));
        Map<String, Tensor> params = layer.namedParameters();
        int checked = 0;
        for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
            if (e.getKey().startsWith("grad.param.")) {
                Tensor p = params.get(e.getKey().substring("grad.param.".length()));
                assertNotNull(p, c.name() + ": no parameter for " + e.getKey());
                assertClose(c.name() + ": " + e.getKey(), p.grad(), e.getValue());
                checked++;
            }
        }
        assertEquals(params.size(), checked, c.name() + ": every parameter's gradient is compared");
    }

    private static int integer(ReferenceCases.Case c, String arg) {
        return (int) c.number(arg);
    }

    // ------------------------------------------------------------------ gradient checks

    @TestFactory
    Stream<DynamicTest> gradientChecks() {
        return AttentionGradChecks.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            GradCheck.Report r = c.run();
            assertTrue(r.passed(), c.name() + ": " + r.summary() + "\n  " + String.join("\n  ",
                    r.failures().subList(0, Math.min(8, r.failures().size()))));
            assertTrue(r.elementsChecked() > 0);
        }));
    }

    // ------------------------------------------------------------------ structure

    @Test
    void multiheadAttentionParametersArePyTorchs() {
        MultiheadAttention mha = new MultiheadAttention(8, 2);
        assertEquals(List.of("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"),
                new ArrayList<>(mha.stateDict().keySet()));
        assertArrayEquals(new int[] {24, 8}, mha.inProjWeight().shape());
        assertArrayEquals(new float[24], mha.inProjBias().toFloatArray());
        assertArrayEquals(new float[8], mha.outProj().bias().toFloatArray());
        // Xavier uniform bound sqrt(6 / (8 + 24)) = 0.433
        for (float w : mha.inProjWeight().toFloatArray()) {
            assertTrue(Math.abs(w) <= Math.sqrt(6.0 / 32) + 1e-6, "xavier bound: " + w);
        }
        assertEquals(List.of("in_proj_weight", "out_proj.weight"), new ArrayList<>(new MultiheadAttention(8, 2,
                MultiheadAttention.Options.defaults().withBias(false)).stateDict().keySet()));
        assertEquals(List.of("q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight",
                "out_proj.bias"), new ArrayList<>(new MultiheadAttention(8, 2, MultiheadAttention.Options.defaults()
                .withKdimVdim(3, 5)).stateDict().keySet()));
    }

    @Test
    void encoderLayerStateDictKeysArePyTorchs() {
        // list(nn.TransformerEncoderLayer(8, 2).state_dict().keys())
        List<String> torch = List.of("self_attn.in_proj_weight", "self_attn.in_proj_bias",
                "self_attn.out_proj.weight", "self_attn.out_proj.bias", "linear1.weight", "linear1.bias",
                "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias");
        TransformerEncoderLayer layer = new TransformerEncoderLayer(8, 2);
        assertEquals(torch, new ArrayList<>(layer.stateDict().keySet()));
        assertEquals(List.of("", "self_attn", "self_attn.out_proj", "linear1", "dropout", "linear2", "norm1", "norm2",
                "dropout1", "dropout2"), new ArrayList<>(layer.namedModules().keySet()));
        assertArrayEquals(new int[] {2048, 8}, layer.linear1().weight().shape()); // PyTorch's dim_feedforward
    }

    @Test
    void decoderLayerStateDictKeysArePyTorchs() {
        // list(nn.TransformerDecoderLayer(8, 2).state_dict().keys())
        List<String> torch = List.of("self_attn.in_proj_weight", "self_attn.in_proj_bias",
                "self_attn.out_proj.weight", "self_attn.out_proj.bias", "multihead_attn.in_proj_weight",
                "multihead_attn.in_proj_bias", "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias",
                "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
                "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias");
        TransformerDecoderLayer layer = new TransformerDecoderLayer(8, 2, TransformerEncoderLayer.Options.defaults()
                .withDimFeedforward(16));
        assertEquals(torch, new ArrayList<>(layer.stateDict().keySet()));
        assertTrue(layer.namedModules().keySet().containsAll(List.of("dropout", "dropout1", "dropout2", "dropout3")));
    }

    @Test
    void encoderStackKeysAndFinalNorm() {
        TransformerEncoder enc = new TransformerEncoder(i -> new TransformerEncoderLayer(8, 2,
                TransformerEncoderLayer.Options.defaults().withDimFeedforward(16)), 2, new LayerNorm(8));
        List<String> keys = new ArrayList<>(enc.stateDict().keySet());
        assertEquals("layers.0.self_attn.in_proj_weight", keys.get(0));
        assertTrue(keys.contains("layers.1.norm2.bias"));
        assertEquals(List.of("norm.weight", "norm.bias"), keys.subList(keys.size() - 2, keys.size()));
        assertEquals(2 * 12 + 2, keys.size());
        enc.eval();
        Tensor x = Tensor.randn(new Generator(1), 5, 3, 8);
        Tensor manual = enc.norm().forward(enc.layer(1).forward(enc.layer(0).forward(x)));
        assertTrue(enc.forward(x).allClose(manual, 0, 0));
    }

    // ------------------------------------------------------------------ semantics

    @Test
    void sequenceFirstIsTheDefaultAndEqualsBatchFirstTransposed() {
        Generator g = new Generator(3);
        MultiheadAttention seqFirst = new MultiheadAttention(8, 2);
        assertFalse(seqFirst.batchFirst());
        MultiheadAttention batchFirst = new MultiheadAttention(8, 2, 0f, true);
        batchFirst.loadStateDict(seqFirst.stateDict());
        Tensor x = Tensor.randn(g, 2, 5, 8); // (N, L, E)
        Tensor mem = Tensor.randn(g, 2, 7, 8);
        Tensor padding = Tensor.ofBools(new boolean[] {false, false, false, false, false, false, true,
            false, true, false, false, false, false, false}, 2, 7);
        MultiheadAttention.Result b = batchFirst.forward(x, mem, mem, padding, null, true, true, false);
        MultiheadAttention.Result s = seqFirst.forward(x.transpose(0, 1), mem.transpose(0, 1), mem.transpose(0, 1),
                padding, null, true, true, false);
        assertArrayEquals(new int[] {5, 2, 8}, s.output().shape());
        assertTrue(s.output().transpose(0, 1).allClose(b.output(), 1e-5, 1e-6));
        assertArrayEquals(new int[] {2, 5, 7}, s.weights().shape()); // weights are (N, L, S) in both layouts
        assertTrue(s.weights().allClose(b.weights(), 1e-5, 1e-6));

        TransformerEncoderLayer.Options o = TransformerEncoderLayer.Options.defaults().withDimFeedforward(16);
        TransformerEncoderLayer encSeq = new TransformerEncoderLayer(8, 2, o);
        TransformerEncoderLayer encBatch = new TransformerEncoderLayer(8, 2, o.withBatchFirst(true));
        encBatch.loadStateDict(encSeq.stateDict());
        encSeq.eval();
        encBatch.eval();
        assertTrue(encSeq.forward(x.transpose(0, 1)).transpose(0, 1).allClose(encBatch.forward(x), 1e-5, 1e-6));
    }

    @Test
    void unbatchedInputEqualsABatchOfOne() {
        Generator g = new Generator(4);
        MultiheadAttention mha = new MultiheadAttention(8, 4);
        Tensor x = Tensor.randn(g, 5, 8);
        MultiheadAttention.Result u = mha.forward(x, x, x, null, null, true, false, true);
        MultiheadAttention.Result b = mha.forward(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1), null, null, true,
                false, true);
        assertArrayEquals(new int[] {5, 8}, u.output().shape());
        assertArrayEquals(new int[] {4, 5, 5}, u.weights().shape());
        assertTrue(u.output().allClose(b.output().squeeze(1), 1e-6, 1e-7));
    }

    @Test
    void weightsAreSoftmaxRowsAveragedOverHeads() {
        Generator g = new Generator(5);
        MultiheadAttention mha = new MultiheadAttention(8, 2, 0f, true);
        Tensor x = Tensor.randn(g, 3, 4, 8);
        MultiheadAttention.Result perHead = mha.forward(x, x, x, null, null, true, false, true);
        MultiheadAttention.Result averaged = mha.forward(x, x, x, null, null, true, true, true);
        assertArrayEquals(new int[] {3, 2, 4, 4}, perHead.weights().shape());
        assertArrayEquals(new int[] {3, 4, 4}, averaged.weights().shape());
        assertTrue(averaged.weights().allClose(perHead.weights().mean(1, false), 1e-6, 1e-7));
        assertTrue(averaged.weights().sum(-1, false).allClose(Tensor.ones(3, 4), 1e-5, 1e-6));
        for (int n = 0; n < 3; n++) {
            for (int i = 0; i < 4; i++) {
                for (int j = i + 1; j < 4; j++) {
                    assertEquals(0f, averaged.weights().get(n, i, j), "causal: query " + i + " sees key " + j);
                }
            }
        }
        assertNull(mha.forward(x, x, x, null, null, false, true, false).weights());
        assertTrue(mha.forward(x).allClose(mha.forward(x, x, x).output(), 0, 0));
    }

    @Test
    void keyPaddingMaskIgnoresPaddedKeys() {
        Generator g = new Generator(6);
        MultiheadAttention mha = new MultiheadAttention(8, 2, 0f, true);
        Tensor q = Tensor.randn(g, 2, 3, 8);
        Tensor kv = Tensor.randn(g, 2, 5, 8);
        Tensor padding = Tensor.ofBools(new boolean[] {false, false, false, true, true,
            false, false, false, false, true}, 2, 5);
        MultiheadAttention.Result before = mha.forward(q, kv, kv, padding, null, true, true, false);
        Tensor changed = kv.copy();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            changed.select(0, 0).select(0, 3).fill(100f); // padded key/value positions of batch 0 and 1
            changed.select(0, 0).select(0, 4).fill(-7f);
            changed.select(0, 1).select(0, 4).fill(55f);
        }
        MultiheadAttention.Result after = mha.forward(q, changed, changed, padding, null, true, true, false);
        assertTrue(after.output().allClose(before.output(), 0, 0), "padded keys changed the output");
        assertEquals(0f, before.weights().get(0, 1, 3));
        assertEquals(0f, before.weights().get(1, 2, 4));
        // a float padding mask with -inf is the same as the bool mask; uint8 too
        float[] additive = new float[10];
        boolean[] pad = padding.toBoolArray();
        byte[] bytes = new byte[10];
        for (int i = 0; i < 10; i++) {
            additive[i] = pad[i] ? Float.NEGATIVE_INFINITY : 0f;
            bytes[i] = (byte) (pad[i] ? 1 : 0);
        }
        Tensor viaFloat = mha.forward(q, kv, kv, Tensor.of(additive, 2, 5), null, false, true, false).output();
        Tensor viaBytes = mha.forward(q, kv, kv, Tensor.ofBytes(bytes, 2, 5), null, false, true, false).output();
        assertTrue(viaFloat.allClose(before.output(), 0, 0));
        assertTrue(viaBytes.allClose(before.output(), 0, 0));
        // padded keys get no gradient
        Tensor leaf = kv.copy().requiresGrad(true);
        mha.forward(q, leaf, leaf, padding, null, false, true, false).output().sum().backward();
        assertEquals(0f, leaf.grad().select(0, 0).select(0, 3).abs().sum().item());
        assertTrue(leaf.grad().select(0, 0).select(0, 2).abs().sum().item() > 0);
    }

    @Test
    void causalOutputAtPositionTDoesNotDependOnLaterInputs() {
        Generator g = new Generator(7);
        TransformerEncoderLayer layer = new TransformerEncoderLayer(8, 2, TransformerEncoderLayer.Options.defaults()
                .withDimFeedforward(16).withBatchFirst(true).withNormFirst(true));
        layer.eval();
        int len = 6;
        Tensor x = Tensor.randn(g, 2, len, 8);
        Tensor base = layer.forward(x, null, null, true);
        Tensor explicit = layer.forward(x, MultiheadAttention.causalMask(len), null, false);
        assertTrue(base.allClose(explicit, 0, 0), "isCausal without a mask builds the causal mask");
        for (int t = 0; t < len - 1; t++) {
            Tensor changed = x.copy();
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                changed.slice(1, t + 1, len).fill(3f);
            }
            Tensor out = layer.forward(changed, null, null, true);
            assertTrue(out.slice(1, 0, t + 1).allClose(base.slice(1, 0, t + 1), 0, 0), "position <= " + t);
            assertFalse(out.slice(1, t + 1, len).allClose(base.slice(1, t + 1, len), 1e-3, 1e-3));
        }
        // and in gradient terms: d out[:, 2] / d x[:, 3:] = 0
        Tensor leaf = x.copy().requiresGrad(true);
        layer.forward(leaf, null, null, true).select(1, 2).sum().backward();
        assertEquals(0f, leaf.grad().slice(1, 3, len).abs().sum().item());
        assertTrue(leaf.grad().slice(1, 0, 3).abs().sum().item() > 0);
        // the float mask of PyTorch's generate_square_subsequent_mask gives the same output
        float[] additive = new float[len * len];
        boolean[] causal = MultiheadAttention.causalMask(len).toBoolArray();
        for (int i = 0; i < additive.length; i++) {
            additive[i] = causal[i] ? Float.NEGATIVE_INFINITY : 0f;
        }
        assertTrue(layer.forward(x, Tensor.of(additive, len, len), null, false).allClose(base, 0, 0));
    }

    @Test
    void perHeadMaskOfShapeNTimesHeads() {
        Generator g = new Generator(8);
        MultiheadAttention mha = new MultiheadAttention(8, 2, 0f, true);
        Tensor x = Tensor.randn(g, 3, 4, 8);
        Tensor causal = MultiheadAttention.causalMask(4);
        Tensor perHead = causal.unsqueeze(0).expand(6, 4, 4).contiguous();
        assertTrue(mha.forward(x, x, x, null, perHead, false, true, false).output()
                .allClose(mha.forward(x, x, x, null, causal, false, true, false).output(), 0, 0));
    }

    @Test
    void fullyMaskedQueryRowIsNaNAsInPyTorch() {
        MultiheadAttention mha = new MultiheadAttention(4, 2, 0f, true);
        Tensor x = Tensor.randn(new Generator(9), 1, 2, 4);
        Tensor all = Tensor.ofBools(new boolean[] {true, true}, 1, 2);
        Tensor out = mha.forward(x, x, x, all, null, false, true, false).output();
        assertTrue(Float.isNaN(out.get(0, 0, 0)));
    }

    @Test
    void dropoutOnlyInTrainingMode() {
        Generator g = new Generator(10);
        Tensor x = Tensor.randn(g, 2, 5, 8);
        MultiheadAttention plain = new MultiheadAttention(8, 2, 0f, true);
        MultiheadAttention dropped = new MultiheadAttention(8, 2, 0.5f, true);
        dropped.loadStateDict(plain.stateDict());
        dropped.eval();
        assertTrue(dropped.forward(x).allClose(plain.forward(x), 0, 0), "eval: no dropout");
        dropped.train();
        assertFalse(dropped.forward(x).allClose(plain.forward(x), 1e-3, 1e-3), "train: dropout on the weights");
        // the returned weights are the dropped ones (as PyTorch): entries are 0 or doubled
        Tensor w = dropped.forward(x, x, x, null, null, true, false, false).weights();
        Tensor clean = plain.forward(x, x, x, null, null, true, false, false).weights();
        float[] a = w.toFloatArray();
        float[] b = clean.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertTrue(a[i] == 0f || Math.abs(a[i] - 2 * b[i]) <= 1e-6, "dropout scales by 1/(1-p)");
        }

        TransformerEncoderLayer layer = new TransformerEncoderLayer(8, 2, TransformerEncoderLayer.Options.defaults()
                .withDimFeedforward(16).withBatchFirst(true)); // dropout 0.1
        layer.eval();
        assertTrue(layer.forward(x).allClose(layer.forward(x), 0, 0));
        layer.train();
        assertFalse(layer.forward(x).allClose(layer.forward(x), 1e-4, 1e-4));
        TransformerDecoderLayer decoder = new TransformerDecoderLayer(8, 2, TransformerEncoderLayer.Options.defaults()
                .withDimFeedforward(16).withBatchFirst(true));
        decoder.eval();
        assertTrue(decoder.forward(x, x).allClose(decoder.forward(x, x), 0, 0));
        decoder.train();
        assertFalse(decoder.forward(x, x).allClose(decoder.forward(x, x), 1e-4, 1e-4));
    }

    @Test
    void decoderMemoryPaddingIgnoresPaddedMemory() {
        Generator g = new Generator(11);
        TransformerDecoderLayer decoder = new TransformerDecoderLayer(8, 2, TransformerEncoderLayer.Options.defaults()
                .withDimFeedforward(16));
        decoder.eval();
        Tensor tgt = Tensor.randn(g, 4, 2, 8); // (T, N, E)
        Tensor mem = Tensor.randn(g, 6, 2, 8); // (S, N, E)
        Tensor padding = Tensor.ofBools(new boolean[] {false, false, false, false, false, true,
            false, false, false, false, false, false}, 2, 6);
        Tensor before = decoder.forward(tgt, mem, null, null, null, padding, true);
        Tensor changed = mem.copy();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            changed.select(0, 5).select(0, 0).fill(9f);
        }
        assertTrue(decoder.forward(tgt, changed, null, null, null, padding, true).allClose(before, 0, 0));
        assertFalse(decoder.forward(tgt, changed, null, null, null, null, true).allClose(before, 1e-4, 1e-4));
    }

    // ------------------------------------------------------------------ errors

    @Test
    void embedDimMustBeDivisibleByHeads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MultiheadAttention(10, 3));
        assertTrue(e.getMessage().contains("embedDim 10 must be divisible by numHeads 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TransformerEncoderLayer(10, 4));
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> new TransformerEncoderLayer(8,
                2, TransformerEncoderLayer.Options.defaults().withActivation("tanh")));
        assertTrue(a.getMessage().contains("\"relu\" or \"gelu\""), a.getMessage());
    }

    @Test
    void wrongShapesNameTheLayerWhatWasExpectedAndWhatCame() {
        TransformerEncoder enc = new TransformerEncoder(i -> new TransformerEncoderLayer(8, 2,
                TransformerEncoderLayer.Options.defaults().withDimFeedforward(16).withBatchFirst(true)), 2);
        MultiheadAttention attn = enc.layer(0).selfAttn();
        Tensor x = Tensor.randn(new Generator(12), 2, 5, 8);
        IllegalArgumentException q = assertThrows(IllegalArgumentException.class,
                () -> attn.forward(Tensor.zeros(2, 5, 7)));
        assertEquals("layers.0.self_attn (MultiheadAttention): expected query (N, L, 8) with batchFirst, got [2, 5, 7]",
                q.getMessage());
        IllegalArgumentException layer = assertThrows(IllegalArgumentException.class,
                () -> enc.forward(Tensor.zeros(2, 5, 6)));
        assertTrue(layer.getMessage().startsWith("layers.0 (TransformerEncoderLayer): expected src (N, S, 8) with "
                + "batchFirst"), layer.getMessage());
        IllegalArgumentException mask = assertThrows(IllegalArgumentException.class,
                () -> enc.forward(x, MultiheadAttention.causalMask(4), null, false));
        assertTrue(mask.getMessage().startsWith("layers.0.self_attn (MultiheadAttention): expected attnMask (L, S) = "
                + "(5, 5)"), mask.getMessage());
        assertTrue(mask.getMessage().endsWith("got [4, 4]"), mask.getMessage());
        IllegalArgumentException padding = assertThrows(IllegalArgumentException.class,
                () -> enc.forward(x, null, Tensor.ofBools(new boolean[5], 5), false));
        assertTrue(padding.getMessage().contains("expected keyPaddingMask (N, S) = (2, 5), got [5]"),
                padding.getMessage());
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> enc.forward(x, null, Tensor.ofLongs(new long[10], 2, 5), false));
        assertTrue(dtype.getMessage().contains("keyPaddingMask must be bool/uint8"), dtype.getMessage());

        MultiheadAttention seqFirst = new MultiheadAttention(8, 2);
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> seqFirst.forward(Tensor.zeros(5, 2, 8), Tensor.zeros(6, 3, 8), Tensor.zeros(6, 3, 8)));
        assertEquals("MultiheadAttention: expected key (S, N, 8) (batchFirst=false: sequence first) with N = 2 as in "
                + "the query, got [6, 3, 8]", key.getMessage());
        IllegalArgumentException value = assertThrows(IllegalArgumentException.class,
                () -> seqFirst.forward(Tensor.zeros(5, 2, 8), Tensor.zeros(6, 2, 8), Tensor.zeros(7, 2, 8)));
        assertTrue(value.getMessage().contains("expected value (S, N, 8)"), value.getMessage());
    }
}
