package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.optim.Clip;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The W3 GPT: PyTorch's sizes and keys, GPT-2 initialisation, causality, input checks, and that it learns. */
class GPTTest {
    /** The small configuration of the reference cases: vocab 11, ctx 8, 2 layers, 2 heads, d 16, MLP 64. */
    static final GPT.Config SMALL = new GPT.Config(11, 8, 2, 2, 16, 64);

    /**
     * Parameters of PyTorch's models.w3_model() (printed by src/test/python/models_reference.py,
     * also in reference-models/INDEX.json): wte 65·128 + wpe 64·128 + 4 blocks × 198,272 + ln_f 256.
     */
    static final long W3_PARAMETERS = 809_856;

    @Test
    void w3HasPyTorchsParameterCount() {
        GPT model = Workloads.w3Model(new Generator(1));
        assertEquals(W3_PARAMETERS, model.parameterCount());
        assertEquals(ModelReferences.workload("w3").parameters(), model.parameterCount(), "INDEX.json");
        assertEquals(GPT.Config.w3(), model.config());
        assertEquals(new GPT.Config(65, 64, 4, 4, 128, 512), GPT.Config.w3());
    }

    @Test
    void w3KeysArePyTorchs() {
        GPT model = Workloads.w3Model(new Generator(1));
        ModelReferences.Workload w3 = ModelReferences.workload("w3");
        assertEquals(w3.stateDictKeys(), new ArrayList<>(model.stateDict().keySet()), "state-dict keys, in order");
        assertEquals(w3.parameterKeys(), new ArrayList<>(model.namedParameters().keySet()), "parameter keys");
        // the causal masks and positions are buffers, non-persistent as in PyTorch
        assertEquals(w3.buffers(), new ArrayList<>(model.namedBuffers().keySet()), "buffers");
        assertTrue(w3.buffers().contains("blocks.0.mask") && w3.buffers().contains("pos"));
        assertFalse(model.stateDict().keySet().stream().anyMatch(k -> k.endsWith("mask") || k.equals("pos")
                || k.startsWith("lm_head")));
        assertEquals(List.of("wte.weight", "wpe.weight", "blocks.0.ln1.weight", "blocks.0.ln1.bias",
                "blocks.0.qkv.weight", "blocks.0.qkv.bias", "blocks.0.proj.weight", "blocks.0.proj.bias",
                "blocks.0.ln2.weight", "blocks.0.ln2.bias", "blocks.0.fc.weight", "blocks.0.fc.bias",
                "blocks.0.fc2.weight", "blocks.0.fc2.bias"), w3.stateDictKeys().subList(0, 14));
        assertEquals(List.of("ln_f.weight", "ln_f.bias"), w3.stateDictKeys().subList(w3.stateDictKeys().size() - 2,
                w3.stateDictKeys().size()));
        assertEquals(4, model.blocks().size());
        assertArrayEquals(new int[] {384, 128}, model.blocks().get(0).qkv().weight().shape());
        assertArrayEquals(new int[] {512, 128}, model.blocks().get(0).fc().weight().shape());
    }

    @Test
    void maskBufferIsPyTorchs() {
        GPT model = new GPT(SMALL, new Generator(1));
        Tensor mask = model.namedBuffers().get("blocks.1.mask");
        assertArrayEquals(new int[] {1, 1, 8, 8}, mask.shape());
        boolean[] m = mask.toBoolArray();
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 8; j++) {
                assertEquals(j <= i, m[i * 8 + j], "mask[" + i + "][" + j + "] (true where attention is allowed)");
            }
        }
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, model.namedBuffers().get("pos").toLongArray());
    }

    @Test
    void gpt2Initialisation() {
        GPT model = Workloads.w3Model(new Generator(42));
        Map<String, Tensor> p = model.namedParameters();
        double residual = 0.02 / Math.sqrt(8); // 0.02 / sqrt(2 · nLayer)
        assertStd("wte.weight", p.get("wte.weight"), 0.02);
        assertStd("wpe.weight", p.get("wpe.weight"), 0.02);
        for (int i = 0; i < 4; i++) {
            String b = "blocks." + i + ".";
            assertStd(b + "qkv.weight", p.get(b + "qkv.weight"), 0.02);
            assertStd(b + "fc.weight", p.get(b + "fc.weight"), 0.02);
            assertStd(b + "proj.weight", p.get(b + "proj.weight"), residual);
            assertStd(b + "fc2.weight", p.get(b + "fc2.weight"), residual);
            for (String bias : List.of("qkv.bias", "proj.bias", "fc.bias", "fc2.bias", "ln1.bias", "ln2.bias")) {
                assertTrue(allEqual(p.get(b + bias), 0f), b + bias + " is zero");
            }
            assertTrue(allEqual(p.get(b + "ln1.weight"), 1f) && allEqual(p.get(b + "ln2.weight"), 1f));
        }
        assertTrue(allEqual(p.get("ln_f.weight"), 1f) && allEqual(p.get("ln_f.bias"), 0f));
        // the output head is the token embedding: no other (vocab, d) parameter
        assertEquals(1, p.values().stream().filter(t -> t.dim() == 2 && t.size(0) == 65 && t.size(1) == 128).count());
    }

    private static void assertStd(String what, Tensor t, double expected) {
        float[] v = t.toFloatArray();
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        double std = Math.sqrt(sq / v.length - mean * mean);
        assertEquals(0, mean, 4 * expected / Math.sqrt(v.length) + 1e-6, what + " mean");
        assertEquals(expected, std, 0.05 * expected, what + " std");
    }

    private static boolean allEqual(Tensor t, float value) {
        for (float x : t.toFloatArray()) {
            if (x != value) {
                return false;
            }
        }
        return true;
    }

    @Test
    void initialisationComesFromTheGeneratorOnly() {
        Generator dflt = Generator.defaultGenerator();
        long[] before = dflt.state();
        GPT a = new GPT(SMALL, new Generator(5));
        assertArrayEquals(before, dflt.state(), "an explicit generator leaves the default one as it was");
        GPT b = new GPT(SMALL, new Generator(5));
        GPT c = new GPT(SMALL, new Generator(6));
        a.stateDict().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), b.stateDict().get(k).toFloatArray(), k));
        assertNotEquals(a.stateDict().get("wte.weight").get(0, 0), c.stateDict().get("wte.weight").get(0, 0));
    }

    @Test
    void forwardShapeAndCausality() {
        GPT model = new GPT(SMALL, new Generator(3));
        long[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1};
        Tensor idx = Tensor.ofLongs(tokens, 2, 6);
        Tensor logits;
        Tensor changed;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            logits = model.forward(idx);
            long[] other = tokens.clone();
            other[4] = 0; // a later position of the first sequence
            changed = model.forward(Tensor.ofLongs(other, 2, 6));
        }
        assertArrayEquals(new int[] {2, 6, 11}, logits.shape());
        float[] a = logits.toFloatArray();
        float[] b = changed.toFloatArray();
        for (int i = 0; i < 4 * 11; i++) {
            assertEquals(a[i], b[i], 0f, "positions before the change see only the past");
        }
        assertNotEquals(a[4 * 11], b[4 * 11], "the changed position itself differs");
        for (int i = 6 * 11; i < a.length; i++) {
            assertEquals(a[i], b[i], 0f, "the other sequence is unaffected");
        }
    }

    @Test
    void tooLongSequenceFailsClearly() {
        GPT model = new GPT(SMALL, new Generator(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(Tensor.ofLongs(new long[18], 2, 9)));
        assertTrue(e.getMessage().contains("context length") && e.getMessage().contains("T <= 8")
                && e.getMessage().contains("[2, 9]"), e.getMessage());
        IllegalArgumentException notTokens = assertThrows(IllegalArgumentException.class,
                () -> model.forward(Tensor.zeros(2, 4)));
        assertTrue(notTokens.getMessage().contains("int64"), notTokens.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GPT.Config(65, 64, 4, 3, 128, 512),
                "dModel not a multiple of nHead");
    }

    /** A tiny repeating sequence: the loss falls well below its start within 50 AdamW steps. */
    @Test
    void learnsARepeatingSequence() {
        GPT model = new GPT(SMALL, new Generator(11));
        Optimizer opt = Workloads.w3Optimizer(model, 1e-2);
        int batch = 4;
        int t = 8;
        long[] x = new long[batch * t];
        long[] y = new long[batch * t];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < t; i++) {
                x[b * t + i] = (b + i) % 5; // 0 1 2 3 4 0 1 ... (from a different start in each row)
                y[b * t + i] = (b + i + 1) % 5;
            }
        }
        Tensor idx = Tensor.ofLongs(x, batch, t);
        Tensor targets = Tensor.ofLongs(y, batch, t);
        float first = Float.NaN;
        float last = Float.NaN;
        for (int step = 0; step < 50; step++) {
            opt.zeroGrad();
            Tensor loss = Workloads.sequenceLoss(model.forward(idx), targets);
            loss.backward();
            Clip.gradNorm(model.parameters(), Workloads.CLIP_GRAD_NORM);
            opt.step();
            last = loss.item();
            if (step == 0) {
                first = last;
            }
        }
        assertEquals(Math.log(11), first, 0.2, "the first loss is about ln(vocab) with GPT-2's small init");
        assertTrue(last < 0.25 * first, "loss " + first + " -> " + last);
    }
}
