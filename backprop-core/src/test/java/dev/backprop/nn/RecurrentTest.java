package dev.backprop.nn;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradCheck;
import dev.backprop.autograd.GradMode;
import dev.backprop.check.GradCheckCase;
import dev.backprop.check.RecurrentGradChecks;
import dev.backprop.ops.ReferenceCases;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * RNN, LSTM and GRU: PyTorch reference values (output and every gradient), gradient checks,
 * PyTorch's parameter names and layouts, states, dropout, initialisation and error messages.
 */
class RecurrentTest {
    private static final Set<String> RECURRENT_OPS = Set.of("rnn", "lstm", "gru");

    // ------------------------------------------------------------------ PyTorch reference cases

    @TestFactory
    Stream<DynamicTest> pytorchReferenceCases() {
        List<ReferenceCases.Case> cases = ReferenceCases.all().stream()
                .filter(c -> RECURRENT_OPS.contains(c.op())).toList();
        assertEquals(Set.of("rnn_tanh", "lstm_2layer", "gru"),
                Set.copyOf(cases.stream().map(ReferenceCases.Case::name).toList()), "recurrent reference cases");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name() + " (" + c.op() + ")", () -> check(c, false)));
    }

    /**
     * The cases of reference-extra (generator there): bidirectional, stacked, initial states, both
     * layouts, unbatched, no bias; {@code out} holds the output and the final states.
     */
    @TestFactory
    Stream<DynamicTest> pytorchExtraReferenceCases() {
        List<ReferenceCases.Case> cases = extraReferenceCases();
        assertTrue(cases.size() >= 7, "reference-extra cases: " + cases.size());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name() + " (" + c.op() + ")", () -> check(c, true)));
    }

    private static void check(ReferenceCases.Case c, boolean withStates) {
        RecurrentBase.Options options = RecurrentBase.Options.defaults()
                .withNumLayers((int) c.number("num_layers"))
                .withBatchFirst(Boolean.TRUE.equals(c.args().get("batch_first")))
                .withBidirectional(Boolean.TRUE.equals(c.args().get("bidirectional")))
                .withBias(!Boolean.FALSE.equals(c.args().get("bias")));
        int in = (int) c.number("input_size");
        int hidden = (int) c.number("hidden_size");
        RecurrentBase layer = switch (c.op()) {
            case "rnn" -> new RNN(in, hidden, "relu".equals(c.args().get("nonlinearity"))
                    ? RNN.Nonlinearity.RELU : RNN.Nonlinearity.TANH, options);
            case "lstm" -> new LSTM(in, hidden, options);
            case "gru" -> new GRU(in, hidden, options);
            default -> throw new IllegalArgumentException(c.op());
        };
        Map<String, Tensor> state = new LinkedHashMap<>();
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("param.")) {
                state.put(k.substring("param.".length()), v);
            } else if (k.startsWith("in.")) {
                inputs.put(k, v.copy().requiresGrad(true));
            }
        });
        layer.loadStateDict(state); // strict: PyTorch's names and shapes, all of them
        Tensor x = inputs.get("in.x");
        Tensor out = withStates ? outputAndStates(layer, x, inputs.get("in.h0"), inputs.get("in.c0"))
                : layer.forward(x);
        assertClose(c.name() + ": out", out, c.get("out"));
        out.backward(c.get("grad_out"));
        Map<String, Tensor> params = layer.namedParameters();
        List<String> checked = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("grad.")) {
                continue;
            }
            Tensor leaf;
            if (key.startsWith("grad.in.")) {
                leaf = inputs.get(key.substring("grad.".length()));
            } else if (key.startsWith("grad.param.")) {
                leaf = params.get(key.substring("grad.param.".length()));
            } else {
                throw new AssertionError(c.name() + ": unexpected gradient " + key);
            }
            assertNotNull(leaf, c.name() + ": nothing to compare with " + key + "; parameters: " + params.keySet());
            assertNotNull(leaf.grad(), c.name() + ": no gradient reached " + key);
            assertClose(c.name() + ": " + key, leaf.grad(), e.getValue());
            checked.add(key);
        }
        assertEquals(inputs.size() + params.size(), checked.size(), c.name() + ": gradients compared " + checked);
    }

    /** cat(output, h_n[, c_n]) flattened, as the reference-extra generator writes {@code out}. */
    private static Tensor outputAndStates(RecurrentBase layer, Tensor x, Tensor h0, Tensor c0) {
        List<Tensor> parts = switch (layer) {
            case LSTM lstm -> {
                LSTM.Result r = lstm.forward(x, h0 == null ? null : new LSTM.State(h0, c0));
                yield List.of(r.output(), r.h(), r.c());
            }
            case GRU gru -> {
                GRU.Result r = gru.forward(x, h0);
                yield List.of(r.output(), r.h());
            }
            case RNN rnn -> {
                RNN.Result r = rnn.forward(x, h0);
                yield List.of(r.output(), r.h());
            }
        };
        return Tensor.cat(parts.stream().map(Tensor::flatten).toList(), 0);
    }

    private static List<ReferenceCases.Case> extraReferenceCases() {
        return ReferenceCases.fromIndex("/reference-extra");
    }

    // ------------------------------------------------------------------ gradient checks

    @TestFactory
    Stream<DynamicTest> gradientChecks() {
        List<GradCheckCase> checks = RecurrentGradChecks.everything();
        assertTrue(checks.size() >= 12, "expected input and parameter checks, got " + checks.size());
        return checks.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            GradCheck.Report r = c.run();
            assertTrue(r.passed(), c.name() + ": " + r.summary() + "\n  "
                    + String.join("\n  ", r.failures().subList(0, Math.min(10, r.failures().size()))));
            assertTrue(r.elementsChecked() > 0, c.name() + ": nothing checked");
        }));
    }

    @Test
    void inputChecksAreOpGradCheckCasesAndLeaveTheDefaultGeneratorAlone() {
        long[] before = Generator.defaultGenerator().state();
        List<GradCheckCase> cases = RecurrentGradChecks.all();
        List<GradCheckCase> params = RecurrentGradChecks.parameterChecks();
        assertArrayEquals(before, Generator.defaultGenerator().state());
        assertTrue(cases.size() >= 5);
        assertTrue(params.size() >= 5);
        assertTrue(cases.stream().anyMatch(c -> c.name().contains("bidirectional")));
        assertEquals(cases.size() + params.size(), RecurrentGradChecks.everything().size());
    }

    @Test
    void gradientCheckCatchesAWrongRecurrentGradient() {
        // the same forward with the initial state's gradient scaled by 0.9 must fail
        Generator g = new Generator(5);
        LSTM lstm = new LSTM(3, 4);
        lstm.resetParameters(g);
        lstm.freeze();
        Tensor x = Tensor.randn(g, 3, 2, 3).requiresGrad(true);
        Tensor h0 = Tensor.randn(g, 1, 2, 4).requiresGrad(true);
        Tensor c0 = Tensor.randn(g, 1, 2, 4).requiresGrad(true);
        GradCheck.Report good = GradCheck.check(in -> lstm.forward(in.get(0), new LSTM.State(in.get(1), in.get(2)))
                .output(), x, h0, c0);
        assertTrue(good.passed(), good.summary());
        GradCheck.Report bad = GradCheck.check(in -> {
            Tensor h = in.get(1);
            h.registerHook(dh -> dh.mul(0.9f));
            return lstm.forward(in.get(0), new LSTM.State(h, in.get(2))).output();
        }, x, h0, c0);
        assertFalse(bad.passed(), bad.summary());
    }

    @Test
    void gradientsReachTheInputWhenOnlyPartOfTheSequenceIsUsed() {
        // the split of the input projection into steps hands its gradient over once, at the end
        // of backward: it must also do so when only some steps receive a gradient
        Generator g = new Generator(12);
        GRU gru = seeded(new GRU(3, 4, GRU.Options.defaults().withBidirectional(true)), g);
        gru.freeze();
        Tensor x = Tensor.randn(g, 5, 2, 3).requiresGrad(true);
        for (int t : new int[] {0, 2, 4}) {
            GradCheck.Report r = GradCheck.check(in -> gru.forward(in.get(0)).select(0, t), x);
            assertTrue(r.passed(), "output step " + t + ": " + r.summary());
            GradCheck.Report half = GradCheck.check(in -> gru.forward(in.get(0)).select(0, t).slice(1, 4, 8), x);
            assertTrue(half.passed(), "reverse half of step " + t + ": " + half.summary());
        }
        // only the final states: backward meets the last step first
        LSTM lstm = seeded(new LSTM(3, 4, LSTM.Options.defaults().withNumLayers(2)), g);
        lstm.freeze();
        GradCheck.Report h = GradCheck.check(in -> lstm.forward(in.get(0), null).h(), x);
        assertTrue(h.passed(), "h_n only: " + h.summary());
        GradCheck.Report c = GradCheck.check(in -> lstm.forward(in.get(0), null).c().select(0, 0), x);
        assertTrue(c.passed(), "c_n of layer 0 only: " + c.summary());
    }

    @Test
    void aRetainedGraphGivesTheSameGradientEveryBackward() {
        Generator g = new Generator(13);
        LSTM lstm = seeded(new LSTM(3, 4, LSTM.Options.defaults().withNumLayers(2)), g);
        Tensor x = Tensor.randn(g, 4, 2, 3).requiresGrad(true);
        Tensor out = lstm.forward(x);
        Tensor upstream = Tensor.randn(g, 4, 2, 4);
        out.backward(upstream, true);
        Tensor once = x.grad().copy();
        Tensor onceW = lstm.namedParameters().get("weight_ih_l0").grad().copy();
        out.backward(upstream);
        assertClose("x.grad after two backwards", x.grad(), once.mul(2f));
        assertClose("weight_ih_l0.grad after two backwards", lstm.namedParameters().get("weight_ih_l0").grad(),
                onceW.mul(2f));
    }

    // ------------------------------------------------------------------ PyTorch's layout

    @Test
    void stateDictKeysAndShapesMatchPyTorchForBidirectionalTwoLayerLstm() {
        LSTM lstm = new LSTM(10, 20, LSTM.Options.defaults().withNumLayers(2).withBidirectional(true));
        // torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True).state_dict()
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("weight_ih_l0", new int[] {80, 10});
        expected.put("weight_hh_l0", new int[] {80, 20});
        expected.put("bias_ih_l0", new int[] {80});
        expected.put("bias_hh_l0", new int[] {80});
        expected.put("weight_ih_l0_reverse", new int[] {80, 10});
        expected.put("weight_hh_l0_reverse", new int[] {80, 20});
        expected.put("bias_ih_l0_reverse", new int[] {80});
        expected.put("bias_hh_l0_reverse", new int[] {80});
        expected.put("weight_ih_l1", new int[] {80, 40});
        expected.put("weight_hh_l1", new int[] {80, 20});
        expected.put("bias_ih_l1", new int[] {80});
        expected.put("bias_hh_l1", new int[] {80});
        expected.put("weight_ih_l1_reverse", new int[] {80, 40});
        expected.put("weight_hh_l1_reverse", new int[] {80, 20});
        expected.put("bias_ih_l1_reverse", new int[] {80});
        expected.put("bias_hh_l1_reverse", new int[] {80});
        assertStateDict(expected, lstm.stateDict());
        assertEquals("LSTM(10, 20, num_layers=2, bidirectional=true)", lstm.toString()); // PyTorch: True
    }

    @Test
    void stateDictKeysAndShapesMatchPyTorchForGruAndRnn() {
        GRU gru = new GRU(6, 5, GRU.Options.defaults().withNumLayers(2).withBidirectional(true));
        Map<String, int[]> expected = new LinkedHashMap<>();
        for (int layer = 0; layer < 2; layer++) {
            for (String suffix : new String[] {"", "_reverse"}) {
                expected.put("weight_ih_l" + layer + suffix, new int[] {15, layer == 0 ? 6 : 10});
                expected.put("weight_hh_l" + layer + suffix, new int[] {15, 5});
                expected.put("bias_ih_l" + layer + suffix, new int[] {15});
                expected.put("bias_hh_l" + layer + suffix, new int[] {15});
            }
        }
        assertStateDict(expected, gru.stateDict());

        RNN rnn = new RNN(3, 7, RNN.Nonlinearity.RELU, RNN.Options.defaults().withBias(false).withNumLayers(2));
        Map<String, int[]> rnnExpected = new LinkedHashMap<>();
        rnnExpected.put("weight_ih_l0", new int[] {7, 3});
        rnnExpected.put("weight_hh_l0", new int[] {7, 7});
        rnnExpected.put("weight_ih_l1", new int[] {7, 7});
        rnnExpected.put("weight_hh_l1", new int[] {7, 7});
        assertStateDict(rnnExpected, rnn.stateDict());
        assertEquals("RNN(3, 7, num_layers=2, bias=false, nonlinearity='relu')", rnn.toString());
    }

    private static void assertStateDict(Map<String, int[]> expected, Map<String, Tensor> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), "keys in PyTorch's order");
        expected.forEach((k, shape) -> assertArrayEquals(shape, actual.get(k).shape(), k));
    }

    @Test
    void defaultInitIsUniformWithinOneOverSqrtHidden() {
        LSTM lstm = new LSTM(30, 25, LSTM.Options.defaults().withNumLayers(2));
        double bound = 1 / Math.sqrt(25);
        for (Map.Entry<String, Tensor> e : lstm.namedParameters().entrySet()) {
            float[] v = e.getValue().toFloatArray();
            double min = Double.MAX_VALUE;
            double max = -Double.MAX_VALUE;
            double mean = 0;
            for (float f : v) {
                assertTrue(Math.abs(f) <= bound, e.getKey() + ": " + f + " outside ±" + bound);
                min = Math.min(min, f);
                max = Math.max(max, f);
                mean += f / v.length;
            }
            assertTrue(max - min > 1.6 * bound, e.getKey() + ": values do not spread over the range");
            assertTrue(Math.abs(mean) < 0.1 * bound, e.getKey() + ": mean " + mean);
            assertTrue(e.getValue().requiresGrad(), e.getKey());
        }
        // reproducible from a generator
        LSTM a = new LSTM(4, 3);
        LSTM b = new LSTM(4, 3);
        a.resetParameters(new Generator(9));
        b.resetParameters(new Generator(9));
        a.namedParameters().forEach((k, v) -> assertArrayEquals(v.toFloatArray(),
                b.namedParameters().get(k).toFloatArray(), k));
    }

    // ------------------------------------------------------------------ states and layouts

    @Test
    void finalStateIsTheLastOutputStep() {
        Generator g = new Generator(1);
        Tensor x = Tensor.randn(g, 5, 2, 3); // (L, N, in)
        LSTM lstm = seeded(new LSTM(3, 4, LSTM.Options.defaults().withNumLayers(2)), g);
        LSTM.Result r = lstm.forward(x, null);
        assertArrayEquals(new int[] {5, 2, 4}, r.output().shape());
        assertArrayEquals(new int[] {2, 2, 4}, r.h().shape());
        assertArrayEquals(new int[] {2, 2, 4}, r.c().shape());
        assertClose("lstm h_n[-1] = output[-1]", r.h().select(0, 1), r.output().select(0, 4));

        GRU gru = seeded(new GRU(3, 4, GRU.Options.defaults().withBatchFirst(true)), g);
        Tensor xb = Tensor.randn(g, 2, 5, 3); // (N, L, in)
        GRU.Result gr = gru.forward(xb, null);
        assertClose("gru h_n[0] = output[:, -1]", gr.h().select(0, 0), gr.output().select(1, 4));

        RNN rnn = seeded(new RNN(3, 4), g);
        RNN.Result rr = rnn.forward(x, null);
        assertClose("rnn h_n[0] = output[-1]", rr.h().select(0, 0), rr.output().select(0, 4));
        // forward(x) is the output of forward(x, null)
        assertClose("rnn forward(x)", rnn.forward(x), rr.output());
    }

    @Test
    void initialStateChangesTheOutputAndZeroStateEqualsNone() {
        Generator g = new Generator(2);
        Tensor x = Tensor.randn(g, 4, 3, 5);
        LSTM lstm = seeded(new LSTM(5, 6), g);
        Tensor none = lstm.forward(x, null).output();
        Tensor zeros = lstm.forward(x, new LSTM.State(Tensor.zeros(1, 3, 6), Tensor.zeros(1, 3, 6))).output();
        assertClose("zero state = no state", zeros, none);
        Tensor other = lstm.forward(x, new LSTM.State(Tensor.randn(g, 1, 3, 6), Tensor.zeros(1, 3, 6))).output();
        assertFalse(other.allClose(none, 1e-3, 1e-3), "h0 must change the output");
        Tensor otherC = lstm.forward(x, new LSTM.State(Tensor.zeros(1, 3, 6), Tensor.randn(g, 1, 3, 6))).output();
        assertFalse(otherC.allClose(none, 1e-3, 1e-3), "c0 must change the output");

        GRU gru = seeded(new GRU(5, 6), g);
        assertClose("gru zero state", gru.forward(x, Tensor.zeros(1, 3, 6)).output(), gru.forward(x));
        assertFalse(gru.forward(x, Tensor.randn(g, 1, 3, 6)).output().allClose(gru.forward(x), 1e-3, 1e-3));
    }

    @Test
    void continuingFromADetachedStateEqualsOneLongSequence() {
        // truncated BPTT: two halves with the state carried over give the same values as the whole
        Generator g = new Generator(3);
        LSTM lstm = seeded(new LSTM(3, 4, LSTM.Options.defaults().withNumLayers(2).withBatchFirst(true)), g);
        Tensor x = Tensor.randn(g, 2, 6, 3);
        LSTM.Result whole = lstm.forward(x, null);
        LSTM.Result first = lstm.forward(x.slice(1, 0, 3), null);
        LSTM.Result second = lstm.forward(x.slice(1, 3, 6), first.state().detach());
        assertClose("second half", second.output(), whole.output().slice(1, 3, 6));
        assertClose("final h", second.h(), whole.h());
        assertClose("final c", second.c(), whole.c());
        assertTrue(first.state().detach().h().isLeaf());
        second.output().sum().backward();
        assertNotNull(lstm.namedParameters().get("weight_hh_l0").grad());
    }

    @Test
    void timeMajorLayoutIsTheDefaultAndMatchesBatchFirst() {
        Generator g = new Generator(4);
        GRU timeMajor = seeded(new GRU(3, 4, GRU.Options.defaults().withNumLayers(2)), g);
        GRU batchFirst = new GRU(3, 4, GRU.Options.defaults().withNumLayers(2).withBatchFirst(true));
        batchFirst.loadStateDict(timeMajor.stateDict());
        Tensor x = Tensor.randn(g, 5, 2, 3); // (L, N, in)
        GRU.Result a = timeMajor.forward(x, null);
        assertArrayEquals(new int[] {5, 2, 4}, a.output().shape());
        GRU.Result b = batchFirst.forward(x.transpose(0, 1).contiguous(), null);
        assertArrayEquals(new int[] {2, 5, 4}, b.output().shape());
        assertClose("batchFirst output = time-major output transposed", b.output(),
                a.output().transpose(0, 1).contiguous());
        assertClose("final states do not depend on the layout", b.h(), a.h());
        // a strided (non-contiguous) input works as well
        assertClose("strided input", batchFirst.forward(x.transpose(0, 1)), b.output());
    }

    @Test
    void unbatchedInputMatchesABatchOfOne() {
        Generator g = new Generator(5);
        LSTM lstm = seeded(new LSTM(3, 4, LSTM.Options.defaults().withBidirectional(true)), g);
        Tensor x = Tensor.randn(g, 6, 3); // (L, in)
        Tensor h0 = Tensor.randn(g, 2, 4);
        Tensor c0 = Tensor.randn(g, 2, 4);
        LSTM.Result single = lstm.forward(x, new LSTM.State(h0, c0));
        assertArrayEquals(new int[] {6, 8}, single.output().shape());
        assertArrayEquals(new int[] {2, 4}, single.h().shape());
        LSTM.Result batch = lstm.forward(x.unsqueeze(1), new LSTM.State(h0.unsqueeze(1), c0.unsqueeze(1)));
        assertClose("unbatched output", single.output(), batch.output().squeeze(1));
        assertClose("unbatched c", single.c(), batch.c().squeeze(1));
    }

    @Test
    void bidirectionalIsForwardAndReversedSequenceConcatenated() {
        Generator g = new Generator(6);
        int hidden = 4;
        LSTM bi = seeded(new LSTM(3, hidden, LSTM.Options.defaults().withBidirectional(true)), g);
        LSTM fwd = new LSTM(3, hidden);
        LSTM bwd = new LSTM(3, hidden);
        Map<String, Tensor> fwdState = new LinkedHashMap<>();
        Map<String, Tensor> bwdState = new LinkedHashMap<>();
        bi.stateDict().forEach((k, v) -> {
            if (k.endsWith("_reverse")) {
                bwdState.put(k.substring(0, k.length() - "_reverse".length()), v);
            } else {
                fwdState.put(k, v);
            }
        });
        fwd.loadStateDict(fwdState);
        bwd.loadStateDict(bwdState);
        Tensor x = Tensor.randn(g, 5, 2, 3);
        Tensor reversed = x.indexSelect(0, Tensor.ofLongs(new long[] {4, 3, 2, 1, 0}, 5));
        LSTM.Result r = bi.forward(x, null);
        assertArrayEquals(new int[] {5, 2, 2 * hidden}, r.output().shape());
        LSTM.Result f = fwd.forward(x, null);
        LSTM.Result b = bwd.forward(reversed, null);
        assertClose("forward half", r.output().slice(2, 0, hidden), f.output());
        assertClose("reverse half", r.output().slice(2, hidden, 2 * hidden),
                b.output().indexSelect(0, Tensor.ofLongs(new long[] {4, 3, 2, 1, 0}, 5)));
        // final states: layer 0 forward, then layer 0 reverse
        assertClose("h_n forward", r.h().select(0, 0), f.h().select(0, 0));
        assertClose("h_n reverse", r.h().select(0, 1), b.h().select(0, 0));
        assertClose("c_n reverse", r.c().select(0, 1), b.c().select(0, 0));
        // the reverse direction's final state is its output at t = 0
        assertClose("reverse final = output[0]", r.h().select(0, 1), r.output().select(0, 0).slice(1, hidden, 8));
    }

    @Test
    void withoutBiasThereAreNoBiasParameters() {
        Generator g = new Generator(7);
        RNN rnn = seeded(new RNN(3, 4, RNN.Options.defaults().withBias(false)), g);
        assertEquals(Set.of("weight_ih_l0", "weight_hh_l0"), rnn.namedParameters().keySet());
        Tensor x = Tensor.randn(g, 2, 1, 3);
        // h1 = tanh(W_ih x_1 + W_hh tanh(W_ih x_0))
        Tensor wih = rnn.namedParameters().get("weight_ih_l0");
        Tensor whh = rnn.namedParameters().get("weight_hh_l0");
        Tensor h0 = x.select(0, 0).matmul(wih.t()).tanh();
        Tensor h1 = x.select(0, 1).matmul(wih.t()).add(h0.matmul(whh.t())).tanh();
        assertClose("no-bias rnn", rnn.forward(x), Tensor.stack(List.of(h0, h1), 0));
    }

    @Test
    void aSmallCharacterModelLearnsARepeatingSequence() {
        // embedding -> 2-layer LSTM (batchFirst, with truncated BPTT) -> linear, plain SGD: the
        // next-token loss on "abcabc..." must fall well below chance (ln 3)
        Generator.defaultGenerator().manualSeed(21);
        Embedding embed = new Embedding(3, 8);
        LSTM lstm = new LSTM(8, 16, LSTM.Options.defaults().withNumLayers(2).withBatchFirst(true));
        Linear head = new Linear(16, 3);
        List<Tensor> params = new ArrayList<>(embed.parameters());
        params.addAll(lstm.parameters());
        params.addAll(head.parameters());
        long[] tokens = new long[2 * 9];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i + i / 9) % 3; // two sequences, the second shifted by one
        }
        Tensor inputs = Tensor.ofLongs(tokens, 2, 9).slice(1, 0, 8);
        Tensor targets = Tensor.ofLongs(tokens, 2, 9).slice(1, 1, 9);
        double first = 0;
        double last = 0;
        for (int step = 0; step < 150; step++) {
            LSTM.State state = null;
            double total = 0;
            for (int chunk = 0; chunk < 2; chunk++) { // two windows of 4 steps, state carried over
                Tensor x = embed.forward(inputs.slice(1, 4 * chunk, 4 * chunk + 4).contiguous());
                LSTM.Result r = lstm.forward(x, state);
                state = r.state().detach();
                Tensor logits = head.forward(r.output()).reshape(8, 3);
                Tensor loss = F.crossEntropy(logits, targets.slice(1, 4 * chunk, 4 * chunk + 4).contiguous().reshape(8));
                params.forEach(Tensor::zeroGrad);
                loss.backward();
                try (GradMode.Scope ignored = GradMode.noGrad()) {
                    for (Tensor p : params) {
                        p.addInPlace(p.grad().mul(-0.5f));
                    }
                }
                total += loss.item() / 2;
            }
            if (step == 0) {
                first = total;
            }
            last = total;
        }
        assertTrue(first > 0.9, "initial loss " + first);
        assertTrue(last < 0.1, "loss after training " + last + " (started at " + first + ")");
    }

    // ------------------------------------------------------------------ dropout and modes

    @Test
    void dropoutActsBetweenLayersInTrainingModeOnly() {
        Generator g = new Generator(8);
        LSTM plain = seeded(new LSTM(3, 16, LSTM.Options.defaults().withNumLayers(2)), g);
        LSTM dropped = new LSTM(3, 16, LSTM.Options.defaults().withNumLayers(2).withDropout(0.5f));
        dropped.loadStateDict(plain.stateDict());
        Tensor x = Tensor.randn(g, 4, 2, 3);
        Tensor reference = plain.forward(x);

        dropped.eval();
        assertClose("eval: no dropout", dropped.forward(x), reference);
        dropped.train();
        Tensor a = dropped.forward(x);
        Tensor b = dropped.forward(x);
        assertFalse(a.allClose(reference, 1e-4, 1e-4), "training: dropout changes the output");
        assertFalse(a.allClose(b, 1e-4, 1e-4), "training: a fresh mask every forward");

        // a single layer has no layer after it to drop out into
        LSTM one = new LSTM(3, 16, LSTM.Options.defaults().withDropout(0.5f));
        LSTM onePlain = new LSTM(3, 16);
        onePlain.loadStateDict(one.stateDict());
        assertClose("one layer: no dropout", one.forward(x), onePlain.forward(x));

        // the mask comes from the default generator: reseeding it repeats the mask
        Generator.defaultGenerator().manualSeed(11);
        Tensor c = dropped.forward(x);
        Generator.defaultGenerator().manualSeed(11);
        assertClose("seeded dropout", dropped.forward(x), c);
        assertEquals("LSTM(3, 16, num_layers=2, dropout=0.5)", dropped.toString());
    }

    @Test
    void hooksAndLayerPathsSeeTheRecurrentForward() {
        Model model = new Model(false);
        LSTM lstm = model.encoder.lstm;
        List<int[]> seen = new ArrayList<>();
        lstm.registerForwardHook((m, in, out) -> seen.add(out.shape()));
        lstm.forward(Tensor.randn(new Generator(1), 7, 2, 12), null);
        lstm.forward(Tensor.randn(new Generator(1), 7, 2, 12));
        assertEquals(2, seen.size());
        assertArrayEquals(new int[] {7, 2, 8}, seen.get(0));
        assertTrue(model.namedParameters().containsKey("encoder.lstm.weight_hh_l0"));
    }

    // ------------------------------------------------------------------ errors

    @Test
    void wrongInputShapesAreReportedWithTheLayerPath() {
        Model model = new Model(true);
        LSTM lstm = model.encoder.lstm;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(Tensor.zeros(32, 64, 100)));
        assertEquals("encoder.lstm (LSTM): expected input (N, L, 128) with batchFirst, got [32, 64, 100]",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.zeros(2, 3, 4, 128)));
        assertEquals("encoder.lstm (LSTM): expected input (N, L, 128) with batchFirst or unbatched (L, 128), "
                + "got [2, 3, 4, 128]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.zeros(5, 100)));
        assertEquals("encoder.lstm (LSTM): expected input unbatched (L, 128), got [5, 100]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.zeros(4, 0, 128)));
        assertTrue(e.getMessage().contains("at least one time step"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(Tensor.empty(DType.INT64, 4, 3, 128)));
        assertTrue(e.getMessage().startsWith("encoder.lstm (LSTM): expected a float32 input"), e.getMessage());

        GRU gru = new GRU(10, 20);
        e = assertThrows(IllegalArgumentException.class, () -> gru.forward(Tensor.zeros(5, 3, 20)));
        assertEquals("GRU: expected input (L, N, 10), got [5, 3, 20]", e.getMessage());
    }

    @Test
    void wrongStateShapesAreReported() {
        Model model = new Model(true);
        LSTM lstm = model.encoder.lstm; // 2 layers, hidden 8, batchFirst
        Tensor x = Tensor.zeros(3, 5, 128);
        Tensor good = Tensor.zeros(2, 3, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(x, new LSTM.State(Tensor.zeros(1, 3, 8), good)));
        assertEquals("encoder.lstm (LSTM): expected initial h (2, 3, 8) = (numLayers * directions, N, hidden) for an "
                + "input of batch size 3, got [1, 3, 8]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(x, new LSTM.State(good, Tensor.zeros(2, 5, 8))));
        assertTrue(e.getMessage().startsWith("encoder.lstm (LSTM): expected initial c (2, 3, 8)"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new LSTM.State(good, null));

        RNN rnn = new RNN(4, 6, RNN.Options.defaults().withBidirectional(true));
        e = assertThrows(IllegalArgumentException.class,
                () -> rnn.forward(Tensor.zeros(5, 4), Tensor.zeros(1, 6)));
        assertEquals("RNN: expected initial h (2, 6) = (numLayers * directions, hidden) for an unbatched input, got "
                + "[1, 6]", e.getMessage());
    }

    @Test
    void invalidOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> LSTM.Options.defaults().withNumLayers(0));
        assertThrows(IllegalArgumentException.class, () -> LSTM.Options.defaults().withDropout(1.5f));
        assertThrows(IllegalArgumentException.class, () -> new GRU(0, 4));
    }

    // ------------------------------------------------------------------ helpers

    private static <M extends RecurrentBase> M seeded(M layer, Generator g) {
        layer.resetParameters(g);
        return layer;
    }

    /** model.encoder.lstm, to see layer paths in messages. */
    private static final class Model extends Module {
        final Encoder encoder;

        Model(boolean wide) {
            encoder = registerModule("encoder", new Encoder(wide));
        }
    }

    private static final class Encoder extends Module {
        final LSTM lstm;

        Encoder(boolean wide) {
            lstm = registerModule("lstm", wide
                    ? new LSTM(128, 8, LSTM.Options.defaults().withNumLayers(2).withBatchFirst(true))
                    : new LSTM(12, 8));
        }
    }

    @Test
    void noGradForwardRecordsNothing() {
        LSTM lstm = new LSTM(3, 4);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor out = lstm.forward(Tensor.randn(new Generator(1), 2, 1, 3));
            assertFalse(out.requiresGrad());
        }
    }
}
