package dev.backprop.check;

import dev.backprop.autograd.GradCheck;
import dev.backprop.autograd.GradMode;
import dev.backprop.nn.GRU;
import dev.backprop.nn.Init;
import dev.backprop.nn.LSTM;
import dev.backprop.nn.RNN;
import dev.backprop.nn.RecurrentBase;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Gradient checks of the recurrent layers on tiny sizes (N = 2, L = 3, in = 3, hidden = 4):
 * gradients with respect to the input and the initial states ({@link #all()}) and with respect
 * to every parameter ({@link #parameterChecks()}). Where a layer returns final states, the checked
 * output is the output sequence and the final states flattened into one vector, so the gradient
 * paths through h_n and c_n are checked too.
 *
 * <p>The relu RNN is checked at weights chosen so that no pre-activation comes near relu's kink:
 * biases ±1.5 per unit and weights in ±0.1 keep every pre-activation at least 0.4 away from 0,
 * far beyond the check's step; half the units stay negative, so the zero branch is covered.
 */
public final class RecurrentGradChecks {
    private static final int N = 2;
    private static final int L = 3;
    private static final int IN = 3;
    private static final int HIDDEN = 4;

    private RecurrentGradChecks() {}

    /** Checks of the gradient with respect to the input and the initial states, in a stable order. */
    public static List<GradCheckCase> all() {
        long[] defaultState = Generator.defaultGenerator().state();
        Generator g = new Generator(77);
        List<GradCheckCase> cases = new ArrayList<>();

        RNN tanh = frozen(new RNN(IN, HIDDEN), g);
        cases.add(of("rnn tanh: input, h0", in -> withState(tanh.forward(in.get(0), in.get(1))),
                normal(g, L, N, IN), normal(g, 1, N, HIDDEN)));

        RNN relu = reluAwayFromKink(new RNN(IN, HIDDEN, RNN.Nonlinearity.RELU,
                RNN.Options.defaults().withBatchFirst(true)), g);
        relu.freeze();
        cases.add(of("rnn relu (batchFirst): input, h0", in -> withState(relu.forward(in.get(0), in.get(1))),
                uniform(g, N, L, IN), uniform(g, 1, N, HIDDEN)));

        LSTM lstm = frozen(new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2)), g);
        cases.add(of("lstm 2 layers: input, h0, c0", in -> withState(lstm.forward(in.get(0),
                new LSTM.State(in.get(1), in.get(2)))), normal(g, L, N, IN), normal(g, 2, N, HIDDEN),
                normal(g, 2, N, HIDDEN)));

        GRU gru = frozen(new GRU(IN, HIDDEN, GRU.Options.defaults().withBatchFirst(true)), g);
        cases.add(of("gru (batchFirst): input, h0", in -> withState(gru.forward(in.get(0), in.get(1))),
                normal(g, N, L, IN), normal(g, 1, N, HIDDEN)));

        LSTM bi = frozen(new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2).withBidirectional(true)), g);
        cases.add(of("lstm bidirectional 2 layers: input, h0, c0", in -> withState(bi.forward(in.get(0),
                new LSTM.State(in.get(1), in.get(2)))), normal(g, L, N, IN), normal(g, 4, N, HIDDEN),
                normal(g, 4, N, HIDDEN)));

        // the fused LSTM layer with everything at once: 2 layers, both directions, batch-first,
        // initial states, and gradients into the output, h_n and c_n
        LSTM fused = frozen(new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2).withBidirectional(true)
                .withBatchFirst(true)), g);
        cases.add(of("lstm bidirectional 2 layers (batchFirst): input, h0, c0", in -> withState(fused.forward(
                in.get(0), new LSTM.State(in.get(1), in.get(2)))), normal(g, N, L, IN), normal(g, 4, N, HIDDEN),
                normal(g, 4, N, HIDDEN)));
        // only the final states reach the loss: the gradient enters through h_n and c_n alone
        cases.add(of("lstm bidirectional 2 layers: h_n and c_n only", in -> {
            LSTM.Result r = fused.forward(in.get(0), new LSTM.State(in.get(1), in.get(2)));
            return Tensor.cat(List.of(r.h().flatten(), r.c().flatten()), 0);
        }, normal(g, N, L, IN), normal(g, 4, N, HIDDEN), normal(g, 4, N, HIDDEN)));

        GRU fusedGru = frozen(new GRU(IN, HIDDEN, GRU.Options.defaults().withNumLayers(2).withBidirectional(true)
                .withBatchFirst(true)), g);
        cases.add(of("gru bidirectional 2 layers (batchFirst): input, h0", in -> withState(fusedGru.forward(
                in.get(0), in.get(1))), normal(g, N, L, IN), normal(g, 4, N, HIDDEN)));

        GRU biGru = frozen(new GRU(IN, HIDDEN, GRU.Options.defaults().withBidirectional(true)), g);
        cases.add(of("gru bidirectional, unbatched: input, h0", in -> withState(biGru.forward(in.get(0),
                in.get(1))), normal(g, L, IN), normal(g, 2, HIDDEN)));
        Generator.defaultGenerator().setState(defaultState);
        return cases;
    }

    /** Checks of the gradient with respect to every parameter, on fixed inputs and initial states. */
    public static List<GradCheckCase> parameterChecks() {
        long[] defaultState = Generator.defaultGenerator().state();
        Generator g = new Generator(78);
        List<GradCheckCase> checks = new ArrayList<>();

        RNN tanh = init(new RNN(IN, HIDDEN), g);
        Tensor x1 = Tensor.randn(g, L, N, IN);
        checks.add(parameters("rnn tanh: parameters", tanh, () -> tanh.forward(x1)));

        RNN relu = reluAwayFromKink(new RNN(IN, HIDDEN, RNN.Nonlinearity.RELU, RNN.Options.defaults()), g);
        Tensor x2 = Tensor.rand(g, L, N, IN).mul(2).sub(1);
        checks.add(parameters("rnn relu: parameters", relu, () -> relu.forward(x2)));

        LSTM lstm = init(new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2).withBatchFirst(true)), g);
        Tensor x3 = Tensor.randn(g, N, L, IN);
        LSTM.State s3 = new LSTM.State(Tensor.randn(g, 2, N, HIDDEN), Tensor.randn(g, 2, N, HIDDEN));
        checks.add(parameters("lstm 2 layers: parameters", lstm, () -> withState(lstm.forward(x3, s3))));

        GRU gru = init(new GRU(IN, HIDDEN), g);
        Tensor x4 = Tensor.randn(g, L, N, IN);
        Tensor h4 = Tensor.randn(g, 1, N, HIDDEN);
        checks.add(parameters("gru: parameters", gru, () -> withState(gru.forward(x4, h4))));

        LSTM bi = init(new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2).withBidirectional(true)), g);
        Tensor x5 = Tensor.randn(g, L, N, IN);
        checks.add(parameters("lstm bidirectional 2 layers: parameters", bi, () -> withState(bi.forward(x5, null))));

        LSTM fused = init(new LSTM(IN, HIDDEN, LSTM.Options.defaults().withNumLayers(2).withBidirectional(true)
                .withBatchFirst(true)), g);
        Tensor x7 = Tensor.randn(g, N, L, IN);
        LSTM.State s7 = new LSTM.State(Tensor.randn(g, 4, N, HIDDEN), Tensor.randn(g, 4, N, HIDDEN));
        checks.add(parameters("lstm bidirectional 2 layers (batchFirst) from states: parameters", fused,
                () -> withState(fused.forward(x7, s7))));

        GRU noBias = init(new GRU(IN, HIDDEN, GRU.Options.defaults().withBias(false).withBidirectional(true)), g);
        Tensor x6 = Tensor.randn(g, L, N, IN);
        checks.add(parameters("gru bidirectional without bias: parameters", noBias, () -> noBias.forward(x6)));
        Generator.defaultGenerator().setState(defaultState);
        return checks;
    }

    /** {@link #all()} followed by {@link #parameterChecks()}. */
    public static List<GradCheckCase> everything() {
        List<GradCheckCase> out = new ArrayList<>(all());
        out.addAll(parameterChecks());
        return out;
    }

    // ------------------------------------------------------------------ helpers

    private static GradCheckCase of(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        return GradCheckCase.ofFunction(name, f, inputs);
    }

    private static GradCheckCase parameters(String name, RecurrentBase layer, Supplier<Tensor> forward) {
        return GradCheckCase.ofParameters(name, forward, layer.parameters());
    }

    /** The output sequence followed by the final states, as one vector. */
    private static Tensor withState(RNN.Result r) {
        return Tensor.cat(List.of(r.output().flatten(), r.h().flatten()), 0);
    }

    private static Tensor withState(GRU.Result r) {
        return Tensor.cat(List.of(r.output().flatten(), r.h().flatten()), 0);
    }

    private static Tensor withState(LSTM.Result r) {
        return Tensor.cat(List.of(r.output().flatten(), r.h().flatten(), r.c().flatten()), 0);
    }

    /**
     * PyTorch's default initialisation from {@code g}. The constructor has drawn from the default
     * generator; its state is restored, so building the checks leaves its sequence untouched.
     */
    private static <M extends RecurrentBase> M init(M layer, Generator g) {
        layer.resetParameters(g);
        return layer;
    }

    /** Initialised from {@code g} and frozen: input checks need no parameter gradients. */
    private static <M extends RecurrentBase> M frozen(M layer, Generator g) {
        init(layer, g).freeze();
        return layer;
    }

    /**
     * Weights in ±0.1 and biases of ±0.75 each (±1.5 together) with alternating signs per hidden
     * unit: with inputs and states in [-1, 1] every pre-activation stays at least 0.4 from 0.
     */
    private static RNN reluAwayFromKink(RNN rnn, Generator g) {
        int hidden = rnn.hiddenSize();
        float[] bias = new float[hidden];
        for (int j = 0; j < hidden; j++) {
            bias[j] = j % 2 == 0 ? 0.75f : -0.75f;
        }
        rnn.namedParameters().forEach((name, p) -> {
            if (name.startsWith("bias")) {
                try (GradMode.Scope ignored = GradMode.noGrad()) {
                    p.copyFrom(Tensor.of(bias.clone(), hidden));
                }
            } else {
                Init.uniform(p, -0.1, 0.1, g);
            }
        });
        return rnn;
    }

    private static Tensor normal(Generator g, int... shape) {
        return Tensor.randn(g, shape).requiresGrad(true);
    }

    /** Uniform in [-1, 1). */
    private static Tensor uniform(Generator g, int... shape) {
        return Tensor.rand(g, shape).mul(2).sub(1).detach().requiresGrad(true);
    }
}
