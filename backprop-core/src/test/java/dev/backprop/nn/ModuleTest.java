package dev.backprop.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.Anomaly;
import dev.backprop.autograd.GradCheck;
import dev.backprop.autograd.GradMode;
import dev.backprop.autograd.NonFiniteValueException;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModuleTest {

    /** A small model with nested modules, buffers and a shared name layout like torchvision's. */
    static final class Net extends Module {
        final Sequential features;
        final Linear head;

        Net() {
            features = registerModule("features", new Sequential(new Linear(4, 8), new Activation.ReLU(),
                    new BatchNorm1d(8), new Dropout(0.5f)));
            head = registerModule("head", new Linear(8, 3));
        }

        @Override
        protected Tensor compute(Tensor x) {
            return head.forward(features.forward(x));
        }
    }

    @Test
    void stateDictKeysAreThoseOfPyTorch() {
        assertEquals(List.of("features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
                "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked", "head.weight",
                "head.bias"), new ArrayList<>(new Net().stateDict().keySet()));
        assertEquals(List.of("features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
                "head.weight", "head.bias"), new ArrayList<>(new Net().namedParameters().keySet()));
        assertEquals(4 * 8 + 8 + 8 + 8 + 8 * 3 + 3, new Net().parameterCount());
        assertEquals("features.2", new Net().features.get(2).path());
        assertEquals("features.2 (BatchNorm1d)", new Net().features.get(2).describe());
    }

    @Test
    void loadingAMismatchedStateDictListsEveryProblemAndLoadsNothing() {
        Net source = new Net();
        Net target = new Net();
        Map<String, Tensor> before = copies(target.stateDict());
        Map<String, Tensor> state = new HashMap<>(source.stateDict());
        state.remove("head.bias");
        state.put("head.weight", Tensor.zeros(2, 8));
        state.put("classifier.weight", Tensor.zeros(1));
        StateDictMismatchException e = assertThrows(StateDictMismatchException.class, () -> target.loadStateDict(state));
        assertEquals(List.of("head.bias"), e.missingKeys());
        assertEquals(List.of("classifier.weight"), e.unexpectedKeys());
        assertEquals(List.of("head.weight: expected shape [3, 8], got [2, 8]"), e.mismatchedKeys());
        assertTrue(e.getMessage().contains("nothing was loaded"), e.getMessage());
        target.stateDict().forEach((k, v) -> assertArrayEquals(before.get(k).toFloat().toFloatArray(),
                v.toFloat().toFloatArray(), k + " must be untouched"));
        // non-strict: loads what fits, reports the rest, still refuses wrong shapes
        state.put("head.weight", source.head.weight());
        List<String> skipped = target.loadStateDict(state, false);
        assertTrue(skipped.contains("head.bias") && skipped.contains("classifier.weight"), skipped.toString());
        assertArrayEquals(source.head.weight().toFloatArray(), target.head.weight().toFloatArray());
    }

    private static Map<String, Tensor> copies(Map<String, Tensor> m) {
        Map<String, Tensor> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, v.copy()));
        return out;
    }

    @Test
    void saveAndLoadRoundTripThroughSafetensors(@TempDir Path dir) throws Exception {
        Net a = new Net();
        a.forward(Tensor.randn(new Generator(1), 5, 4)); // moves the running statistics
        Path file = dir.resolve("model.safetensors");
        a.save(file);
        Net b = new Net();
        b.load(file);
        a.stateDict().forEach((k, v) -> assertArrayEquals(v.toFloat().toFloatArray(),
                b.stateDict().get(k).toFloat().toFloatArray(), k));
        a.eval();
        b.eval();
        Tensor x = Tensor.randn(new Generator(2), 3, 4);
        assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file may remain");
        }
        Linear other = new Linear(4, 8);
        StateDictMismatchException e = assertThrows(StateDictMismatchException.class, () -> other.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    }

    @Test
    void trainEvalFreezeAndApplyReachEverySubModule() {
        Net net = new Net();
        net.eval();
        assertFalse(net.features.get(3).isTraining());
        net.train();
        assertTrue(net.features.get(3).isTraining());
        net.features.freeze();
        assertFalse(net.features.get(0).namedParameters().get("weight").requiresGrad());
        assertTrue(net.head.weight().requiresGrad());
        net.head.bias().requiresGrad(false); // per-parameter freezing
        net.forward(Tensor.randn(new Generator(3), 6, 4)).sum().backward();
        assertTrue(net.head.weight().grad() != null);
        assertTrue(net.head.bias().grad() == null, "a frozen parameter gets no gradient");
        assertTrue(((Linear) net.features.get(0)).weight().grad() == null);
        net.unfreeze();
        assertTrue(net.head.bias().requiresGrad());
        List<String> visited = new ArrayList<>();
        net.apply(m -> visited.add(m.typeName()));
        assertEquals(List.of("Linear", "ReLU", "BatchNorm1d", "Dropout", "Sequential", "Linear", "Net"), visited);
        net.apply(m -> {
            if (m instanceof Linear l) {
                Init.zeros(l.weight());
            }
        });
        assertEquals(0f, net.head.weight().abs().sum().item());
    }

    @Test
    void wrongInputShapesNameTheLayerPath() {
        Net net = new Net();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.forward(Tensor.zeros(2, 5)));
        assertEquals("features.0 (Linear): expected input (*, 4), got [2, 5]", e.getMessage());
        IllegalArgumentException bn = assertThrows(IllegalArgumentException.class,
                () -> new Sequential(new BatchNorm2d(3)).forward(Tensor.zeros(2, 4, 5, 5)));
        assertEquals("0 (BatchNorm2d): expected input (N, 3, H, W), got [2, 4, 5, 5]", bn.getMessage());
    }

    @Test
    void anomaliesNameTheLayer() {
        Sequential model = new Sequential(new Linear(2, 2), new Activation.Softplus());
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            ((Linear) model.get(0)).weight().fill(Float.NaN);
        }
        try (GradMode.Scope ignored = Anomaly.enable()) {
            NonFiniteValueException e = assertThrows(NonFiniteValueException.class,
                    () -> model.forward(Tensor.ones(1, 2)));
            assertTrue(e.getMessage().contains("in layer 0 (Linear)"), e.getMessage());
        }
    }

    @Test
    void summaryListsLayersShapesAndCounts() {
        Net net = new Net();
        net.features.get(0).freeze();
        String s = net.summary(2, 4);
        assertTrue(s.contains("features.0") && s.contains("[2, 8]") && s.contains("frozen"), s);
        assertTrue(s.contains("head") && s.contains("[2, 3]"), s);
        assertTrue(s.contains("parameters: 83 total, 43 trainable, 40 frozen"), s);
        assertTrue(net.isTraining(), "summary restores the mode");
    }

    @Test
    void dropoutIsInvertedSeededAndOffInEval() {
        Dropout d = new Dropout(0.25f, new Generator(4));
        Tensor x = Tensor.ones(10_000);
        float[] y = d.forward(x).toFloatArray();
        int zeros = 0;
        for (float v : y) {
            assertTrue(v == 0f || Math.abs(v - 1 / 0.75f) < 1e-6);
            zeros += v == 0 ? 1 : 0;
        }
        assertEquals(2500, zeros, 150);
        assertArrayEquals(y, new Dropout(0.25f, new Generator(4)).forward(x).toFloatArray(), "seeded");
        d.eval();
        assertArrayEquals(x.toFloatArray(), d.forward(x).toFloatArray());
    }

    @Test
    void embeddingPaddingRowIsZeroAndNotTrained() {
        Embedding e = new Embedding(5, 3, 0);
        assertEquals(0f, e.weight().select(0, 0).abs().sum().item());
        Tensor idx = Tensor.ofLongs(new long[] {0, 2, 2, 4}, 2, 2);
        Tensor out = e.forward(idx);
        assertArrayEquals(new int[] {2, 2, 3}, out.shape());
        out.sum().backward();
        assertArrayEquals(new float[] {0, 0, 0}, e.weight().grad().select(0, 0).toFloatArray());
        assertArrayEquals(new float[] {2, 2, 2}, e.weight().grad().select(0, 2).toFloatArray());
        IndexOutOfBoundsException bad = assertThrows(IndexOutOfBoundsException.class,
                () -> e.forward(Tensor.ofLongs(new long[] {5}, 1)));
        assertTrue(bad.getMessage().contains("index 5") && bad.getMessage().contains("size 5"), bad.getMessage());
    }

    @Test
    void layersPassTheGradientCheck() {
        Generator g = new Generator(11);
        Tensor x = Tensor.randn(g, 4, 6);
        check(new Linear(6, 3), () -> x);
        LayerNorm ln = new LayerNorm(6);
        Init.normal(ln.weight(), 1, 0.5, g);
        Init.normal(ln.bias(), 0, 0.5, g);
        check(ln, () -> x);
        BatchNorm1d bn = new BatchNorm1d(6);
        Init.normal(bn.weight(), 1, 0.5, g);
        check(bn, () -> x);
        Tensor img = Tensor.randn(g, 3, 2, 2, 2);
        check(new BatchNorm2d(2), () -> img);
        Embedding emb = new Embedding(7, 3);
        check(emb, () -> Tensor.ofLongs(new long[] {1, 6, 1, 0}, 4));
        // gradients with respect to the input as well
        assertTrue(GradCheck.check(in -> ln.forward(in.get(0)), x.copy().requiresGrad(true)).passed());
        assertTrue(GradCheck.check(in -> bn.forward(in.get(0)), x.copy().requiresGrad(true)).passed());
        Generator dropGen = new Generator(0);
        Dropout drop = new Dropout(0.3f, dropGen);
        assertTrue(GradCheck.check(in -> {
            dropGen.manualSeed(5); // the same mask on every evaluation
            return drop.forward(in.get(0));
        }, x.copy().requiresGrad(true)).passed());
    }

    private static void check(Module m, java.util.function.Supplier<Tensor> input) {
        GradCheck.Report r = GradCheck.check(() -> m.forward(input.get()), m.parameters(), GradCheck.Options.defaults());
        assertTrue(r.passed(), m + ": " + r.summary());
        assertNotEquals(0, r.elementsChecked());
    }
}
