package dev.backprop.nn;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradCheck;
import dev.backprop.autograd.GradMode;
import dev.backprop.check.ConvGradChecks;
import dev.backprop.ops.Conv;
import dev.backprop.ops.Pool;
import dev.backprop.ops.ReferenceCases;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Convolution and pooling: the PyTorch reference cases run through the layers, the gradient
 * checks of {@link ConvGradChecks}, default initialisation, error messages, reprs, shapes, and a
 * brute-force comparison of the im2col convolution with the definition.
 */
class ConvPoolTest {

    // ------------------------------------------------------------------ PyTorch reference cases

    /** How to build the layer of each reference op from the case's args (PyTorch's argument names). */
    private static final Map<String, Function<ReferenceCases.Case, Module>> LAYERS = new HashMap<>();

    static {
        LAYERS.put("conv1d", c -> new Conv1d(integer(c, "in_channels"), integer(c, "out_channels"),
                integer(c, "kernel_size"), integer(c, "stride", 1), integer(c, "padding", 0), integer(c, "dilation", 1),
                integer(c, "groups", 1), !Boolean.FALSE.equals(c.args().get("bias"))));
        LAYERS.put("conv2d", c -> new Conv2d(integer(c, "in_channels"), integer(c, "out_channels"),
                integer(c, "kernel_size"), integer(c, "stride", 1), integer(c, "padding", 0), integer(c, "dilation", 1),
                integer(c, "groups", 1), !Boolean.FALSE.equals(c.args().get("bias"))));
        LAYERS.put("conv_transpose2d", c -> new ConvTranspose2d(integer(c, "in_channels"), integer(c, "out_channels"),
                integer(c, "kernel_size"), integer(c, "stride", 1), integer(c, "padding", 0),
                integer(c, "output_padding", 0), integer(c, "groups", 1), !Boolean.FALSE.equals(c.args().get("bias")),
                integer(c, "dilation", 1)));
        LAYERS.put("max_pool2d", c -> new MaxPool2d(integer(c, "kernel_size"),
                integer(c, "stride", integer(c, "kernel_size")), integer(c, "padding", 0), integer(c, "dilation", 1),
                Boolean.TRUE.equals(c.args().get("ceil_mode"))));
        LAYERS.put("avg_pool2d", c -> new AvgPool2d(integer(c, "kernel_size"),
                integer(c, "stride", integer(c, "kernel_size")), integer(c, "padding", 0),
                Boolean.TRUE.equals(c.args().get("ceil_mode")),
                !Boolean.FALSE.equals(c.args().get("count_include_pad"))));
        LAYERS.put("adaptive_avg_pool2d", c -> new AdaptiveAvgPool2d(integer(c, "output_size")));
    }

    private static final List<ReferenceCases.Case> CASES = ReferenceCases.all().stream()
            .filter(c -> LAYERS.containsKey(c.op())).toList();

    @TestFactory
    Stream<DynamicTest> pytorchReferenceCases() {
        return CASES.stream().map(c -> DynamicTest.dynamicTest(c.name() + " (" + c.op() + ")", () -> check(c)));
    }

    @Test
    void everyConvAndPoolOpHasReferenceCases() {
        Set<String> ops = new TreeSet<>();
        CASES.forEach(c -> ops.add(c.op()));
        assertEquals(LAYERS.keySet(), ops, "ops with reference cases");
        assertTrue(CASES.size() >= 9, "expected the 9 conv/pool cases, found " + CASES.size());
    }

    private static void check(ReferenceCases.Case c) {
        Module layer = LAYERS.get(c.op()).apply(c);
        Map<String, Tensor> state = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("param.")) {
                state.put(k.substring("param.".length()), v);
            }
        });
        layer.loadStateDict(state); // strict: the layer's parameters are exactly PyTorch's
        Tensor x = c.get("in.x").copy().requiresGrad(true);
        Tensor out = layer.forward(x);
        assertClose(c.name() + ": out", out, c.get("out"));
        out.backward(c.get("grad_out"));
        assertClose(c.name() + ": grad.in.x", x.grad(), c.get("grad.in.x"));
        Map<String, Tensor> params = layer.namedParameters();
        List<String> checked = new ArrayList<>();
        c.tensors().forEach((k, expected) -> {
            if (k.startsWith("grad.param.")) {
                String name = k.substring("grad.param.".length());
                assertNotNull(params.get(name), c.name() + ": the layer has no parameter " + name);
                assertClose(c.name() + ": " + k, params.get(name).grad(), expected);
                checked.add(name);
            }
        });
        assertEquals(params.keySet(), Set.copyOf(checked), c.name() + ": every parameter's gradient compared");
    }

    private static int integer(ReferenceCases.Case c, String arg) {
        return (int) c.number(arg);
    }

    private static int integer(ReferenceCases.Case c, String arg, int fallback) {
        return c.has(arg) ? (int) c.number(arg) : fallback;
    }

    // ------------------------------------------------------------------ gradient checks

    @TestFactory
    Stream<DynamicTest> gradientChecks() {
        return ConvGradChecks.all().stream().map(k -> DynamicTest.dynamicTest(k.name(), () -> {
            GradCheck.Report r = k.run();
            assertTrue(r.passed(), k.name() + ": " + r.summary());
        }));
    }

    @TestFactory
    Stream<DynamicTest> layerParameterGradientChecks() {
        Generator g = new Generator(11);
        Map<String, Map.Entry<Module, Tensor>> layers = new LinkedHashMap<>();
        layers.put("Conv1d (stride 2, dilation 2)", Map.entry(new Conv1d(2, 3, 3, 2, 1, 2, 1, true, g),
                Tensor.randn(g, 2, 2, 9)));
        layers.put("Conv2d (groups 2, padding 1)", Map.entry(new Conv2d(4, 2, new int[] {3, 2}, new int[] {1},
                new int[] {1}, new int[] {1}, 2, true, g), Tensor.randn(g, 2, 4, 5, 4)));
        layers.put("ConvTranspose2d (stride 2, output_padding 1)", Map.entry(new ConvTranspose2d(3, 2, new int[] {3},
                new int[] {2}, new int[] {1}, new int[] {1}, 1, true, new int[] {1}, g), Tensor.randn(g, 2, 3, 3, 3)));
        return layers.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            Module layer = e.getValue().getKey();
            Tensor x = e.getValue().getValue();
            GradCheck.Report r = GradCheck.check(() -> layer.forward(x), layer.parameters(),
                    GradCheck.Options.defaults());
            assertTrue(r.passed(), e.getKey() + ": " + r.summary());
        }));
    }

    // ------------------------------------------------------------------ initialisation

    @Test
    void defaultInitialisationIsUniformWithinOneOverSqrtFanIn() {
        Generator g = new Generator(3);
        // Conv2d(16, 32, 3): fan_in = 16 * 9
        Conv2d conv = new Conv2d(16, 32, new int[] {3}, new int[] {1}, new int[] {0}, new int[] {1}, 1, true, g);
        assertUniform("Conv2d weight", conv.weight(), 1 / Math.sqrt(16 * 9));
        assertUniform("Conv2d bias", conv.bias(), 1 / Math.sqrt(16 * 9));
        // Conv1d(8, 64, 5, groups 2): fan_in = 4 * 5
        Conv1d conv1 = new Conv1d(8, 64, 5, 1, 0, 1, 2, true, g);
        assertArrayEquals(new int[] {64, 4, 5}, conv1.weight().shape());
        assertUniform("Conv1d weight", conv1.weight(), 1 / Math.sqrt(4 * 5));
        assertUniform("Conv1d bias", conv1.bias(), 1 / Math.sqrt(4 * 5));
        // ConvTranspose2d(32, 16, 3, groups 2): weight (32, 8, 3, 3), PyTorch's fan_in = weight.shape[1] * 9 = 72
        ConvTranspose2d deconv = new ConvTranspose2d(32, 16, new int[] {3}, new int[] {2}, new int[] {0},
                new int[] {0}, 2, true, new int[] {1}, g);
        assertArrayEquals(new int[] {32, 8, 3, 3}, deconv.weight().shape());
        assertUniform("ConvTranspose2d weight", deconv.weight(), 1 / Math.sqrt(72));
        assertUniform("ConvTranspose2d bias", deconv.bias(), 1 / Math.sqrt(72));
        assertNull(new Conv2d(1, 2, 3, 1, 0, 1, 1, false).bias());
    }

    /** All values within ±bound, the extremes near it, mean near 0 and variance near bound²/3. */
    private static void assertUniform(String what, Tensor t, double bound) {
        float[] v = t.toFloatArray();
        double max = 0;
        double sum = 0;
        double sq = 0;
        for (float f : v) {
            assertTrue(Math.abs(f) <= bound, what + ": " + f + " outside ±" + bound);
            max = Math.max(max, Math.abs(f));
            sum += f;
            sq += (double) f * f;
        }
        int n = v.length;
        if (n >= 1000) {
            assertTrue(max > 0.97 * bound, what + ": largest |value| " + max + " far below the bound " + bound);
            assertEquals(0, sum / n, 0.05 * bound, what + ": mean");
            assertEquals(bound * bound / 3, sq / n, 0.1 * bound * bound / 3, what + ": variance");
        } else {
            assertTrue(max > 0.3 * bound, what + ": largest |value| " + max + " too small for U(±" + bound + ")");
        }
    }

    // ------------------------------------------------------------------ errors, reprs, state dicts, shapes

    /** A root module holding a child "features" whose children are named "0", "1", ...: paths like PyTorch's. */
    private static final class Net extends Module {
        final Module features;

        Net(Module... layers) {
            Module seq = new Module() {
                {
                    for (int i = 0; i < layers.length; i++) {
                        registerModule(String.valueOf(i), layers[i]);
                    }
                }

                @Override
                protected Tensor compute(Tensor input) {
                    Tensor h = input;
                    for (Module m : namedChildren().values()) {
                        h = m.forward(h);
                    }
                    return h;
                }
            };
            this.features = registerModule("features", seq);
        }

        @Override
        protected Tensor compute(Tensor input) {
            return features.forward(input);
        }
    }

    @Test
    void wrongInputIsReportedWithTheLayerPath() {
        Conv2d third = new Conv2d(32, 64, 3);
        Net net = new Net(new Conv2d(1, 32, 3), new Activation.ReLU(), new MaxPool2d(2), third);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> third.forward(Tensor.zeros(64, 16, 14, 14)));
        assertEquals("features.3 (Conv2d): expected input (N, 32, H, W), got [64, 16, 14, 14]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> third.forward(Tensor.zeros(64, 32)));
        assertEquals("features.3 (Conv2d): expected input (N, 32, H, W) or (32, H, W), got [64, 32]", e.getMessage());
        // the whole net: the first layer refuses 3 channels
        e = assertThrows(IllegalArgumentException.class, () -> net.forward(Tensor.zeros(2, 3, 28, 28)));
        assertEquals("features.0 (Conv2d): expected input (N, 1, H, W), got [2, 3, 28, 28]", e.getMessage());
        // too small for the kernel after pooling: the op's message, prefixed with the layer
        e = assertThrows(IllegalArgumentException.class, () -> net.forward(Tensor.zeros(2, 1, 5, 5)));
        assertTrue(e.getMessage().startsWith("features.3 (Conv2d): conv2d: the kernel [3, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("[2, 32, 1, 1]"), e.getMessage());
        Net pools = new Net(new MaxPool2d(3), new AdaptiveAvgPool2d(1), new Conv1d(4, 4, 3));
        e = assertThrows(IllegalArgumentException.class, () -> pools.forward(Tensor.zeros(5, 5)));
        assertEquals("features.0 (MaxPool2d): expected input (N, C, H, W) or (C, H, W), got [5, 5]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pools.forward(Tensor.zeros(1, 2, 2, 2)));
        assertTrue(e.getMessage().startsWith("features.0 (MaxPool2d): max_pool2d: the input [1, 2, 2, 2] is too small"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pools.namedModules().get("features.2")
                .forward(Tensor.zeros(2, 3, 10)));
        assertEquals("features.2 (Conv1d): expected input (N, 4, L), got [2, 3, 10]", e.getMessage());
    }

    @Test
    void opErrorsNameTheOpAndTheShapes() {
        Tensor w = Tensor.zeros(8, 3, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conv.conv2d(Tensor.zeros(3, 4), w, null));
        assertEquals("conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got [3, 4]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv.conv2d(Tensor.zeros(2, 4, 5, 5), w, null));
        assertEquals("conv2d: the input [2, 4, 5, 5] has 4 channels, the weight [8, 3, 3, 3] expects 3 "
                + "(weight.shape[1] 3 x groups 1)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv.conv2d(Tensor.zeros(2, 3, 5, 5),
                Tensor.zeros(8, 3, 3), null));
        assertTrue(e.getMessage().startsWith(
                "conv2d: expected a 4-D weight (out_channels, in_channels/groups, kH, kW)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv.conv2d(Tensor.zeros(2, 3, 2, 2), w, null));
        assertTrue(e.getMessage().startsWith("conv2d: the kernel [3, 3]") && e.getMessage().contains("[2, 3, 2, 2]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv.conv2d(Tensor.zeros(2, 3, 5, 5), w,
                Tensor.zeros(7)));
        assertEquals("conv2d: expected a bias of shape [8] (out_channels), got [7]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv.conv1d(Tensor.zeros(2, 3, 5), Tensor.zeros(4, 2, 3),
                null, 1, 0, 1, 1));
        assertEquals("conv1d: the input [2, 3, 5] has 3 channels, the weight [4, 2, 3] expects 2 "
                + "(weight.shape[1] 2 x groups 1)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv.convTranspose2d(Tensor.zeros(1, 4, 3, 3),
                Tensor.zeros(3, 2, 3, 3), null, 2, 0, 0, 1, 1));
        assertEquals("conv_transpose2d: the input [1, 4, 3, 3] has 4 channels, the weight [3, 2, 3, 3] expects 3 "
                + "(weight.shape[0])", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv.convTranspose2d(Tensor.zeros(1, 3, 3, 3),
                Tensor.zeros(3, 2, 3, 3), null, 2, 0, 2, 1, 1));
        assertTrue(e.getMessage().startsWith("conv_transpose2d: output_padding [2, 2] must be smaller"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Pool.maxPool2d(Tensor.zeros(1, 1, 4, 4), 2, 2, 2));
        assertEquals("max_pool2d: padding [2, 2] must be at most half of the kernel size [2, 2]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Conv2d(3, 4, 3, 1, 0, 1, 2, true));
        assertEquals("Conv2d: in_channels 3 and out_channels 4 must both be divisible by groups 2", e.getMessage());
    }

    @Test
    void reprsFollowPyTorch() {
        assertEquals("Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
                new Conv2d(1, 32, 3, 1, 1).toString());
        assertEquals("Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), dilation=(2, 2), groups=2, bias=False)",
                new Conv2d(4, 8, 3, 2, 0, 2, 2, false).toString());
        assertEquals("Conv1d(3, 4, kernel_size=(3,), stride=(1,))", new Conv1d(3, 4, 3).toString());
        assertEquals("ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                + "output_padding=(1, 1))", new ConvTranspose2d(16, 8, 3, 2, 1, 1).toString());
        assertEquals("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
                new MaxPool2d(2).toString());
        assertEquals("AvgPool2d(kernel_size=3, stride=2, padding=1)", new AvgPool2d(3, 2, 1).toString());
        assertEquals("AdaptiveAvgPool2d(output_size=1)", new AdaptiveAvgPool2d(1).toString());
        assertEquals("AdaptiveAvgPool2d(output_size=(5, 7))", new AdaptiveAvgPool2d(5, 7).toString());
    }

    @Test
    void stateDictUsesPyTorchKeys() {
        Net net = new Net(new Conv2d(1, 4, 3), new MaxPool2d(2), new ConvTranspose2d(4, 2, 2, 2, 0, 0, 1, false, 1),
                new Conv1d(2, 2, 1));
        Map<String, Tensor> state = net.stateDict();
        assertEquals(List.of("features.0.weight", "features.0.bias", "features.2.weight", "features.3.weight",
                "features.3.bias"), List.copyOf(state.keySet()));
        assertArrayEquals(new int[] {4, 1, 3, 3}, state.get("features.0.weight").shape());
        assertArrayEquals(new int[] {4, 2, 2, 2}, state.get("features.2.weight").shape());
        assertArrayEquals(new int[] {2, 2, 1}, state.get("features.3.weight").shape());
        // a round trip through another instance
        Net copy = new Net(new Conv2d(1, 4, 3), new MaxPool2d(2), new ConvTranspose2d(4, 2, 2, 2, 0, 0, 1, false, 1),
                new Conv1d(2, 2, 1));
        copy.loadStateDict(state);
        assertArrayEquals(state.get("features.0.weight").toFloatArray(),
                copy.stateDict().get("features.0.weight").toFloatArray());
    }

    @Test
    void outputShapesOfTypicalConfigurations() {
        Tensor x = Tensor.randn(new Generator(1), 64, 1, 28, 28);
        Tensor h = new MaxPool2d(2).forward(new Conv2d(1, 32, 3, 1, 1).forward(x));
        assertArrayEquals(new int[] {64, 32, 14, 14}, h.shape());
        h = new MaxPool2d(2).forward(new Conv2d(32, 64, 3, 1, 1).forward(h));
        assertArrayEquals(new int[] {64, 64, 7, 7}, h.shape());
        assertArrayEquals(new int[] {64, 64, 1, 1}, new AdaptiveAvgPool2d(1).forward(h).shape());
        assertArrayEquals(new int[] {64, 64, 4, 4}, new AvgPool2d(3, 2, 1).forward(h).shape());
        assertArrayEquals(new int[] {64, 64, 4, 4}, new MaxPool2d(2, 2, 0, 1, true).forward(h).shape());
        assertArrayEquals(new int[] {64, 8, 14, 14}, new ConvTranspose2d(64, 8, 3, 2, 1, 1).forward(h).shape());
        assertArrayEquals(new int[] {64, 16, 5, 5}, new Conv2d(64, 16, 3).forward(h).shape());
        assertArrayEquals(new int[] {8, 14, 14}, new Conv2d(3, 8, 3, 2, 1).forward(Tensor.zeros(3, 28, 28)).shape());
        assertArrayEquals(new int[] {5, 6, 25}, new Conv1d(2, 6, 5, 2, 2).forward(Tensor.zeros(5, 2, 50)).shape());
        assertArrayEquals(new int[] {6, 50}, new Conv1d(2, 6, 3, 1, 1).forward(Tensor.zeros(2, 50)).shape());
        assertArrayEquals(new int[] {2, 3, 4}, Pool.maxPool1d(Tensor.zeros(2, 3, 9), 2, 0, 0, 1, false).shape());
        assertArrayEquals(new int[] {2, 3, 5}, Pool.avgPool1d(Tensor.zeros(2, 3, 9), 2, 0, 0, true, true).shape());
    }

    @Test
    void mnistSizedConvolutionForwardAndBackwardTakeMilliseconds() {
        Generator g = new Generator(5);
        Conv2d conv = new Conv2d(1, 32, new int[] {3}, new int[] {1}, new int[] {1}, new int[] {1}, 1, true, g);
        MaxPool2d pool = new MaxPool2d(2);
        Tensor x = Tensor.randn(g, 64, 1, 28, 28);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            conv.zeroGrad();
            long t0 = System.nanoTime();
            Tensor y = pool.forward(conv.forward(x).relu());
            y.sum().backward();
            best = Math.min(best, System.nanoTime() - t0);
        }
        assertArrayEquals(new int[] {32, 1, 3, 3}, conv.weight().grad().shape());
        // generous bound for a loaded CI machine: the scalar kernels take a few milliseconds here
        assertTrue(best < 2_000_000_000L, "Conv2d(1, 32, 3) + MaxPool2d(2) on 64x1x28x28 forward+backward took "
                + best / 1e6 + " ms");
    }

    // ------------------------------------------------------------------ semantics

    @Test
    void convolutionMatchesTheDefinition() {
        Generator g = new Generator(9);
        int[][] configs = { // C, O, H, W, kH, kW, sH, sW, pH, pW, dH, dW, groups
            {3, 4, 7, 6, 3, 2, 2, 1, 1, 0, 1, 2, 1},
            {4, 6, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2},
            {6, 6, 6, 7, 3, 3, 2, 3, 1, 1, 1, 1, 6},
            {2, 3, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1}};
        for (int[] k : configs) {
            int c = k[0];
            int o = k[1];
            int groups = k[12];
            Tensor x = Tensor.randn(g, 2, c, k[2], k[3]);
            Tensor w = Tensor.randn(g, o, c / groups, k[4], k[5]);
            Tensor b = Tensor.randn(g, o);
            int[] stride = {k[6], k[7]};
            int[] padding = {k[8], k[9]};
            int[] dilation = {k[10], k[11]};
            Tensor y = Conv.conv2d(x, w, b, stride, padding, dilation, groups);
            Tensor expected = directConv(x, w, b, stride, padding, dilation, groups);
            assertTrue(y.allClose(expected, 1e-4, 1e-4), "config " + java.util.Arrays.toString(k));
            // conv_transpose2d is the adjoint: <conv(x), u> = <x, convT(u)> with the same weight
            Tensor u = Tensor.randn(g, y.shape());
            int[] outputPadding = {0, 0};
            int hIn = (y.size(2) - 1) * stride[0] - 2 * padding[0] + dilation[0] * (k[4] - 1) + 1;
            int wIn = (y.size(3) - 1) * stride[1] - 2 * padding[1] + dilation[1] * (k[5] - 1) + 1;
            outputPadding[0] = k[2] - hIn;
            outputPadding[1] = k[3] - wIn;
            Tensor t = Conv.convTranspose2d(u, w, null, stride, padding, outputPadding, groups, dilation);
            assertArrayEquals(x.shape(), t.shape());
            double lhs = dot(Conv.conv2d(x, w, null, stride, padding, dilation, groups), u);
            double rhs = dot(x, t);
            assertEquals(lhs, rhs, 1e-4 * (1 + Math.abs(lhs)), "adjoint, config " + java.util.Arrays.toString(k));
        }
    }

    /** The definition, in double: y[n, o, i, j] = b[o] + Σ w[o, c, a, e] x[n, g·C/groups + c, i s - p + a d, ...]. */
    private static Tensor directConv(Tensor x, Tensor w, Tensor b, int[] s, int[] p, int[] d, int groups) {
        int[] xs = x.shape();
        int[] ws = w.shape();
        int oh = (xs[2] + 2 * p[0] - d[0] * (ws[2] - 1) - 1) / s[0] + 1;
        int ow = (xs[3] + 2 * p[1] - d[1] * (ws[3] - 1) - 1) / s[1] + 1;
        int cg = ws[1];
        int og = ws[0] / groups;
        float[] out = new float[xs[0] * ws[0] * oh * ow];
        int idx = 0;
        for (int n = 0; n < xs[0]; n++) {
            for (int o = 0; o < ws[0]; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double sum = b.get(o);
                        for (int c = 0; c < cg; c++) {
                            for (int a = 0; a < ws[2]; a++) {
                                for (int e = 0; e < ws[3]; e++) {
                                    int ih = i * s[0] - p[0] + a * d[0];
                                    int iw = j * s[1] - p[1] + e * d[1];
                                    if (ih >= 0 && ih < xs[2] && iw >= 0 && iw < xs[3]) {
                                        sum += (double) w.get(o, c, a, e) * x.get(n, (o / og) * cg + c, ih, iw);
                                    }
                                }
                            }
                        }
                        out[idx++] = (float) sum;
                    }
                }
            }
        }
        return Tensor.of(out, xs[0], ws[0], oh, ow);
    }

    private static double dot(Tensor a, Tensor b) {
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (double) x[i] * y[i];
        }
        return s;
    }

    @Test
    void maxPoolRoutesTheGradientToTheFirstMaximumAndPadsWithMinusInfinity() {
        Tensor x = Tensor.ones(1, 1, 2, 2).requiresGrad(true);
        Tensor y = Pool.maxPool2d(x, 2);
        y.sum().backward();
        assertArrayEquals(new float[] {1, 0, 0, 0}, x.grad().toFloatArray()); // ties: the first in row-major order
        // all negative with padding: the padding never wins
        Tensor neg = Tensor.of(new float[] {-3, -1, -2, -4}, 1, 1, 2, 2);
        Pool.MaxPoolResult r = Pool.maxPool2dWithIndices(neg, new int[] {3}, new int[] {1}, new int[] {1},
                new int[] {1}, false);
        assertArrayEquals(new float[] {-1, -1, -1, -1}, r.values().toFloatArray());
        assertArrayEquals(new long[] {1, 1, 1, 1}, r.indices().toLongArray());
        // a NaN is the maximum of its window (PyTorch propagates it), -inf values still have an argmax
        Tensor odd = Tensor.of(new float[] {1, Float.NaN, 5, 2, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 2, 2, 2);
        r = Pool.maxPool2dWithIndices(odd, new int[] {2}, null, new int[] {0}, new int[] {1}, false);
        assertTrue(Float.isNaN(r.values().toFloatArray()[0]));
        assertEquals(Float.NEGATIVE_INFINITY, r.values().toFloatArray()[1]);
        assertArrayEquals(new long[] {1, 0}, r.indices().toLongArray());
    }

    @Test
    void avgPoolDivisorsFollowCountIncludePad() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        // kernel 2, stride 2, padding 1: windows of 1, 2, 2, 4 real elements
        Tensor incl = Pool.avgPool2d(x, new int[] {2}, new int[] {2}, new int[] {1}, false, true, 0);
        assertArrayEquals(new float[] {1 / 4f, 5 / 4f, 11 / 4f, 28 / 4f}, incl.toFloatArray(), 1e-6f);
        Tensor excl = Pool.avgPool2d(x, new int[] {2}, new int[] {2}, new int[] {1}, false, false, 0);
        assertArrayEquals(new float[] {1, 5 / 2f, 11 / 2f, 28 / 4f}, excl.toFloatArray(), 1e-6f);
        // ceil mode on 3x3 with kernel 2 stride 2: the last window hangs over the edge and is clipped
        Tensor ceil = Pool.avgPool2d(x, new int[] {2}, new int[] {2}, new int[] {0}, true, true, 0);
        assertArrayEquals(new float[] {12 / 4f, 9 / 2f, 15 / 2f, 9}, ceil.toFloatArray(), 1e-6f);
    }

    @Test
    void adaptiveAvgPoolUsesPyTorchBins() {
        // 5 -> 3 rows: bins [0, 2), [1, 4), [3, 5)
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5}, 1, 1, 5, 1);
        Tensor y = Pool.adaptiveAvgPool2d(x, 3, 1);
        assertArrayEquals(new float[] {1.5f, 3, 4.5f}, y.toFloatArray(), 1e-6f);
    }

    @Test
    void inputsThatNeedNoGradientGetNone() {
        Generator g = new Generator(4);
        Tensor x = Tensor.randn(g, 2, 3, 5, 5); // data: no gradient
        Conv2d conv = new Conv2d(3, 4, new int[] {3}, new int[] {1}, new int[] {1}, new int[] {1}, 1, true, g);
        conv.forward(x).sum().backward();
        assertNull(x.grad());
        assertNotNull(conv.weight().grad());
        assertNotNull(conv.bias().grad());
        conv.freeze();
        Tensor x2 = x.copy().requiresGrad(true);
        conv.forward(x2).sum().backward();
        assertNotNull(x2.grad());
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor y = conv.forward(x2);
            assertNull(y.gradFn());
        }
    }
}
