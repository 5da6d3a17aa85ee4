package dev.backprop.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.backprop.autograd.GradMode;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The fused whole-sequence layers (LSTM, GRU, RNN) against the same stack composed step by step from
 * differentiable ops ({@link RecurrentBase#run(Tensor, Tensor[], boolean)}): outputs, final
 * states and every gradient (input, initial states, parameters), for every option, at sizes where
 * the hidden size is not a multiple of the vector width.
 */
class FusedRecurrentTest {
    private static final int IN = 5;
    private static final int HIDDEN = 37;
    private static final int STEPS = 7;
    private static final int BATCH = 3;

    private record Config(String name, int layers, boolean bidirectional, boolean batchFirst, boolean bias,
                          boolean states, boolean unbatched, float dropout) {
        RecurrentBase.Options options() {
            return RecurrentBase.Options.defaults().withNumLayers(layers).withBidirectional(bidirectional)
                    .withBatchFirst(batchFirst).withBias(bias).withDropout(dropout);
        }
    }

    private static final List<Config> CONFIGS = List.of(
            new Config("one layer", 1, false, false, true, false, false, 0),
            new Config("one layer, initial states", 1, false, false, true, true, false, 0),
            new Config("2 layers, batchFirst, initial states", 2, false, true, true, true, false, 0),
            new Config("bidirectional", 1, true, false, true, true, false, 0),
            new Config("bidirectional 2 layers batchFirst", 2, true, true, true, true, false, 0),
            new Config("3 layers without bias", 3, false, false, false, false, false, 0),
            new Config("unbatched bidirectional 2 layers", 2, true, false, true, true, true, 0),
            new Config("2 layers, dropout 0.4 in training", 2, true, true, true, true, false, 0.4f));

    @TestFactory
    Stream<DynamicTest> lstmMatchesTheComposedLayer() {
        return CONFIGS.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> compare(c,
                new LSTM(IN, HIDDEN, c.options()), 2)));
    }

    @TestFactory
    Stream<DynamicTest> gruMatchesTheComposedLayer() {
        return CONFIGS.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> compare(c,
                new GRU(IN, HIDDEN, c.options()), 1)));
    }

    @TestFactory
    Stream<DynamicTest> rnnMatchesTheComposedLayer() {
        return CONFIGS.stream().flatMap(c -> Stream.of(RNN.Nonlinearity.values()).map(nl -> DynamicTest.dynamicTest(
                c.name() + " " + nl, () -> compare(c, new RNN(IN, HIDDEN, nl, c.options()), 1))));
    }

    /**
     * Runs the fused and the composed stack from the same parameters, inputs and generator
     * state, and compares the outputs and every gradient for one upstream gradient on the
     * output and all final states.
     */
    private static void compare(Config c, RecurrentBase layer, int stateCount) {
        Generator g = new Generator(40 + c.name().length());
        layer.resetParameters(g);
        int dirs = c.bidirectional() ? 2 : 1;
        int[] xShape = c.unbatched() ? new int[] {STEPS, IN}
                : c.batchFirst() ? new int[] {BATCH, STEPS, IN} : new int[] {STEPS, BATCH, IN};
        int[] stateShape = c.unbatched() ? new int[] {c.layers() * dirs, HIDDEN}
                : new int[] {c.layers() * dirs, BATCH, HIDDEN};
        Tensor x = Tensor.randn(g, xShape);
        Tensor[] init = new Tensor[stateCount];
        if (c.states()) {
            for (int s = 0; s < stateCount; s++) {
                init[s] = Tensor.randn(g, stateShape);
            }
        }
        Map<String, Tensor> fused = runAndBackward(layer, x, init, false, g.state());
        Map<String, Tensor> composed = runAndBackward(layer, x, init, true, g.state());
        assertEquals(composed.keySet(), fused.keySet());
        composed.forEach((k, expected) -> assertClose(c.name() + ": " + k, fused.get(k), expected));
    }

    /** Output, final states and all gradients by name, for one run from fresh copies of the leaves. */
    private static Map<String, Tensor> runAndBackward(RecurrentBase layer, Tensor x, Tensor[] init, boolean composed,
                                                      long[] genState) {
        layer.train();
        layer.zeroGrad();
        Tensor xi = x.copy().requiresGrad(true);
        Tensor[] states = new Tensor[init.length];
        for (int s = 0; s < init.length; s++) {
            states[s] = init[s] == null ? null : init[s].copy().requiresGrad(true);
        }
        Generator.defaultGenerator().setState(genState); // dropout draws the same masks
        RecurrentBase.Run r = layer.run(xi, init[0] == null ? null : states, composed);
        Generator upstream = new Generator(99);
        Tensor loss = r.output().mul(Tensor.randn(upstream, r.output().shape())).sum();
        for (Tensor f : r.finalStates()) {
            loss = loss.add(f.mul(Tensor.randn(upstream, f.shape())).sum());
        }
        loss.backward();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("output", r.output().detach());
        for (int s = 0; s < r.finalStates().length; s++) {
            out.put("final state " + s, r.finalStates()[s].detach());
            if (states[s] != null) {
                out.put("grad initial state " + s, states[s].grad());
            }
        }
        out.put("grad input", xi.grad());
        layer.namedParameters().forEach((k, p) -> out.put("grad " + k, p.grad() == null ? null : p.grad().copy()));
        return out;
    }

    private static void assertClose(String what, Tensor actual, Tensor expected) {
        assertNotNull(expected, what + ": the composed layer has no value");
        assertNotNull(actual, what + ": the fused layer has no value");
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            double err = Math.abs((double) a[i] - e[i]);
            if (!(err <= 2e-5 + 2e-4 * Math.abs(e[i]))) {
                fail(what + " differs at flat index " + i + ": fused " + a[i] + ", composed " + e[i]);
            }
        }
    }

    // ------------------------------------------------------------------ graph behaviour

    @Test
    void oneNodePerLayerAndNoNodeWithoutGrad() {
        LSTM lstm = new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2));
        Tensor x = Tensor.randn(new Generator(1), STEPS, BATCH, IN);
        LSTM.Result r = lstm.forward(x, null);
        assertEquals("lstm", r.output().gradFn().name());
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            LSTM.Result n = lstm.forward(x, null);
            assertNull(n.output().gradFn());
            assertNull(n.h().gradFn());
            assertClose("no-grad output", n.output(), r.output().detach());
            assertClose("no-grad c_n", n.c(), r.c().detach());
        }
        LSTM single = new LSTM(IN, HIDDEN);
        LSTM.Result s = single.forward(x, null);
        assertEquals("lstm_h_n", s.h().gradFn().name());
        assertEquals("lstm_c_n", s.c().gradFn().name());
        GRU.Result gr = new GRU(IN, HIDDEN).forward(x, null);
        assertEquals("gru", gr.output().gradFn().name());
        assertEquals("gru_h_n", gr.h().gradFn().name());
        RNN.Result rr = new RNN(IN, HIDDEN, RNN.Nonlinearity.RELU, RNN.Options.defaults()).forward(x, null);
        assertEquals("rnn_relu", rr.output().gradFn().name());
        assertEquals("rnn_relu_h_n", rr.h().gradFn().name());
    }

    @Test
    void gradientsFromTheFinalStatesAloneAndFromRepeatedBackwards() {
        Generator g = new Generator(8);
        LSTM lstm = new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2).withBidirectional(true));
        lstm.resetParameters(g);
        Tensor x = Tensor.randn(g, STEPS, BATCH, IN);
        // the fused and composed stacks agree when only c_n reaches the loss
        List<Tensor> grads = new ArrayList<>();
        for (boolean composed : new boolean[] {false, true}) {
            lstm.zeroGrad();
            Tensor xi = x.copy().requiresGrad(true);
            RecurrentBase.Run r = lstm.run(xi, null, composed);
            r.finalStates()[1].select(0, 1).sum().backward();
            grads.add(xi.grad());
            grads.add(lstm.namedParameters().get("weight_hh_l0_reverse").grad().copy());
            assertTrue(lstm.namedParameters().get("weight_hh_l1").grad() == null
                    || lstm.namedParameters().get("weight_hh_l1").grad().abs().max().item() == 0f,
                    "layer 1 does not reach c_n of layer 0");
        }
        assertClose("dx from c_n[1]", grads.get(0), grads.get(2));
        assertClose("dW_hh reverse from c_n[1]", grads.get(1), grads.get(3));

        // a retained graph: a second backward through output and states gives the same gradient again
        lstm.zeroGrad();
        Tensor xi = x.copy().requiresGrad(true);
        LSTM.Result r = lstm.forward(xi, null);
        Tensor loss = r.output().sum().add(r.h().mul(2f).sum()).add(r.c().mul(-1f).sum());
        loss.backward(Tensor.scalar(1f), true);
        Tensor once = xi.grad().copy();
        loss.backward();
        assertClose("x.grad after two backwards", xi.grad(), once.mul(2f));
    }

    @Test
    void resultsAreTheSameBitsOnOneAndTwoThreads() {
        // large enough for the per-step products to split over threads (4 MFLOP and up)
        Generator g = new Generator(10);
        LSTM lstm = new LSTM(64, 128, LSTM.Options.defaults().withNumLayers(2).withBidirectional(true)
                .withBatchFirst(true));
        GRU gru = new GRU(64, 128, GRU.Options.defaults().withBidirectional(true));
        lstm.resetParameters(g);
        gru.resetParameters(g);
        Tensor x = Tensor.randn(g, 32, 9, 64);
        int before = dev.backprop.kernels.Kernels.threads();
        List<List<float[]>> runs = new ArrayList<>();
        try {
            for (int threads : new int[] {1, 2}) {
                dev.backprop.kernels.Kernels.setThreads(threads);
                List<float[]> values = new ArrayList<>();
                for (RecurrentBase layer : List.<RecurrentBase>of(lstm, gru)) {
                    layer.zeroGrad();
                    Tensor xi = x.copy().requiresGrad(true);
                    Tensor in = layer == gru ? xi.transpose(0, 1) : xi;
                    RecurrentBase.Run r = layer.run(in, null, false);
                    r.output().mul(r.output()).sum().add(r.finalStates()[0].sum()).backward();
                    values.add(r.output().toFloatArray());
                    values.add(xi.grad().toFloatArray());
                    layer.parameters().forEach(p -> values.add(p.grad().toFloatArray()));
                }
                runs.add(values);
            }
        } finally {
            dev.backprop.kernels.Kernels.setThreads(before);
        }
        for (int i = 0; i < runs.get(0).size(); i++) {
            assertArrayEquals(runs.get(0).get(i), runs.get(1).get(i), "value " + i);
        }
    }

    @Test
    void outputsThatNeedNoGradientGetNone() {
        Generator g = new Generator(9);
        LSTM lstm = new LSTM(IN, HIDDEN);
        lstm.resetParameters(g);
        lstm.freeze();
        Tensor x = Tensor.randn(g, STEPS, BATCH, IN);
        Tensor h0 = Tensor.randn(g, 1, BATCH, HIDDEN).requiresGrad(true);
        Tensor c0 = Tensor.randn(g, 1, BATCH, HIDDEN);
        LSTM.Result r = lstm.forward(x, new LSTM.State(h0, c0));
        r.output().sum().backward();
        assertNotNull(h0.grad());
        assertNull(c0.grad());
        assertNull(x.grad());
        Function<Tensor, Float> norm = t -> t.abs().sum().item();
        assertTrue(norm.apply(h0.grad()) > 0);
    }
}
