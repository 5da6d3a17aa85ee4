package dev.backprop.nn;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@link RNN}, {@link LSTM} and {@link GRU} share, after PyTorch's {@code nn.RNNBase}: the
 * options, the parameters with PyTorch's names, shapes and order, and the loop over layers
 * (with dropout between them).
 *
 * <p>Each layer, all its directions at once, is one fused node ({@link #runLayer}, implemented by
 * {@link dev.backprop.ops.RecurrentLayer}): the input projection {@code x W_ihᵀ + b} of the whole
 * sequence is one matrix product, each time step one product with {@code W_hh} and one fused
 * elementwise pass, and backpropagation through time is written by hand. A subclass also supplies
 * its cell composed of differentiable ops ({@link #cell}): {@link #composedLayer} runs it step by
 * step, as the reference the fused layers are tested against. Initial and final states are plain
 * tensors: pass {@code state.detach()} back in for truncated BPTT.
 *
 * <p>Layouts: time-major {@code (L, N, H_in)} by default, as in PyTorch; {@code (N, L, H_in)}
 * with {@code batchFirst}; or unbatched {@code (L, H_in)}. The output has
 * {@code directions * hidden} features, forward then reverse; final states are
 * {@code (numLayers * directions, N, hidden)}, ordered layer 0 forward, layer 0 reverse, layer 1
 * forward, ...
 */
public abstract sealed class RecurrentBase extends Module permits RNN, LSTM, GRU {

    /**
     * The options PyTorch's recurrent layers share, with its defaults: one layer, biases, the
     * time-major layout (batchFirst false), no dropout between layers, one direction.
     *
     * @param dropout the probability of zeroing an element of every layer's output except the
     *     last, in training mode only
     */
    public record Options(int numLayers, boolean bias, boolean batchFirst, float dropout, boolean bidirectional) {
        public Options {
            if (numLayers < 1) {
                throw new IllegalArgumentException("numLayers must be at least 1, got " + numLayers);
            }
            if (!(dropout >= 0 && dropout <= 1)) {
                throw new IllegalArgumentException("dropout must be a probability in [0, 1], got " + dropout);
            }
        }

        /** numLayers 1, bias true, batchFirst false, dropout 0, bidirectional false. */
        public static Options defaults() {
            return new Options(1, true, false, 0, false);
        }

        public Options withNumLayers(int layers) {
            return new Options(layers, bias, batchFirst, dropout, bidirectional);
        }

        public Options withBias(boolean useBias) {
            return new Options(numLayers, useBias, batchFirst, dropout, bidirectional);
        }

        public Options withBatchFirst(boolean first) {
            return new Options(numLayers, bias, first, dropout, bidirectional);
        }

        public Options withDropout(float probability) {
            return new Options(numLayers, bias, batchFirst, probability, bidirectional);
        }

        public Options withBidirectional(boolean both) {
            return new Options(numLayers, bias, batchFirst, dropout, both);
        }

        /** 2 when bidirectional, else 1. */
        public int directions() {
            return bidirectional ? 2 : 1;
        }
    }

    private final int inputSize;
    private final int hiddenSize;
    private final Options options;
    private final int gates;
    private final String[] stateNames;
    /** Per layer and direction (index layer * directions + direction): {weight_ih, weight_hh, bias_ih, bias_hh}. */
    private final Tensor[][] weights;

    /**
     * @param gates how many blocks of {@code hiddenSize} rows the weights have (1, 4 or 3)
     * @param stateNames the names of the state tensors, for messages ({@code h}, {@code c})
     */
    RecurrentBase(int inputSize, int hiddenSize, Options options, int gates, String... stateNames) {
        if (inputSize < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException(typeName() + ": inputSize and hiddenSize must be positive, got "
                    + inputSize + " and " + hiddenSize);
        }
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.options = options;
        this.gates = gates;
        this.stateNames = stateNames;
        int dirs = options.directions();
        this.weights = new Tensor[options.numLayers() * dirs][];
        for (int layer = 0; layer < options.numLayers(); layer++) {
            int in = layer == 0 ? inputSize : hiddenSize * dirs;
            for (int dir = 0; dir < dirs; dir++) {
                String suffix = "_l" + layer + (dir == 1 ? "_reverse" : "");
                Tensor[] w = new Tensor[4];
                w[0] = registerParameter("weight_ih" + suffix, Tensor.zeros(gates * hiddenSize, in));
                w[1] = registerParameter("weight_hh" + suffix, Tensor.zeros(gates * hiddenSize, hiddenSize));
                if (options.bias()) {
                    w[2] = registerParameter("bias_ih" + suffix, Tensor.zeros(gates * hiddenSize));
                    w[3] = registerParameter("bias_hh" + suffix, Tensor.zeros(gates * hiddenSize));
                }
                weights[layer * dirs + dir] = w;
            }
        }
        resetParameters();
    }

    // ------------------------------------------------------------------ parameters and options

    /** PyTorch's initialisation: every parameter U(-1/√hidden, 1/√hidden), from the default generator. */
    public final void resetParameters() {
        resetParameters(Generator.defaultGenerator());
    }

    /** PyTorch's initialisation from {@code gen}, parameters in registration order. */
    public final void resetParameters(Generator gen) {
        double bound = 1.0 / Math.sqrt(hiddenSize);
        for (Tensor p : parameters()) {
            Init.uniform(p, -bound, bound, gen);
        }
    }

    public final int inputSize() {
        return inputSize;
    }

    public final int hiddenSize() {
        return hiddenSize;
    }

    public final Options options() {
        return options;
    }

    /** {@code numLayers * directions}: the first dimension of every state tensor. */
    public final int stateLayers() {
        return options.numLayers() * options.directions();
    }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder(inputSize + ", " + hiddenSize);
        Options d = Options.defaults();
        if (options.numLayers() != d.numLayers()) {
            sb.append(", num_layers=").append(options.numLayers());
        }
        if (options.bias() != d.bias()) {
            sb.append(", bias=").append(options.bias());
        }
        if (options.batchFirst() != d.batchFirst()) {
            sb.append(", batch_first=").append(options.batchFirst());
        }
        if (options.dropout() != d.dropout()) {
            sb.append(", dropout=").append(options.dropout());
        }
        if (options.bidirectional() != d.bidirectional()) {
            sb.append(", bidirectional=").append(options.bidirectional());
        }
        return sb.append(cellRepr()).toString();
    }

    /**
     * Extra constructor arguments of the subclass for {@link #toString()}, each starting with
     * ", " (PyTorch's repr leaves RNN's nonlinearity out; this one shows it).
     */
    String cellRepr() {
        return "";
    }

    // ------------------------------------------------------------------ the cell

    /**
     * One time step of one layer in one direction.
     *
     * @param projected {@code x_t W_ihᵀ + b}, (N, gates * H); the bias includes {@code b_hh} when
     *     {@link #foldsHiddenBias()}
     * @param state the previous state, each (N, H); {@code state[0]} is h
     * @param weightHhT {@code W_hhᵀ}, (H, gates * H)
     * @param biasHh {@code b_hh} (gates * H) when the cell needs it separately, else null
     * @return the new state; its h is the step's output
     */
    abstract Tensor[] cell(Tensor projected, Tensor[] state, Tensor weightHhT, Tensor biasHh);

    /**
     * Whether {@code b_hh} can be added to the input projection once per sequence (true when the
     * cell only ever uses {@code x W_ihᵀ + b_ih + h W_hhᵀ + b_hh}; GRU's candidate gate needs
     * {@code b_hn} inside the reset product).
     */
    boolean foldsHiddenBias() {
        return true;
    }

    // ------------------------------------------------------------------ the loop

    /** The result of {@link #run}: the output sequence and the final states (one tensor per state name). */
    record Run(Tensor output, Tensor[] finalStates) {}

    /** Runs {@link #run} inside {@link Module#traced}, so hooks see the output sequence. */
    final Run runTraced(Tensor input, Tensor[] initial) {
        Run[] result = new Run[1];
        traced(input, () -> {
            result[0] = run(input, initial);
            return result[0].output();
        });
        return result[0];
    }

    @Override
    protected final Tensor compute(Tensor input) {
        return run(input, null).output();
    }

    /**
     * The whole stack on {@code input}; {@code initial} holds one tensor (or null for zeros) per
     * state name, or is null for all zeros.
     */
    final Run run(Tensor input, Tensor[] initial) {
        return run(input, initial, false);
    }

    /**
     * {@link #run} with every layer composed step by step from {@link #cell} (when
     * {@code composed}) rather than by {@link #runLayer}: the reference the fused layers are
     * tested against.
     */
    final Run run(Tensor input, Tensor[] initial, boolean composed) {
        boolean batched = checkInputShape(input);
        int dirs = options.directions();
        int layers = options.numLayers();
        // time-major (L, N, in) or batch-first (N, L, in); unbatched (L, in) becomes (L, 1, in)
        Tensor x = batched ? input : input.unsqueeze(1);
        int timeDim = batched && options.batchFirst() ? 1 : 0;
        int batch = x.size(1 - timeDim);
        Tensor[] init = checkInitialStates(initial, batched, batch);

        List<List<Tensor>> finals = new ArrayList<>(stateNames.length); // per state: (dirs, N, H) per layer
        for (int s = 0; s < stateNames.length; s++) {
            finals.add(new ArrayList<>(layers));
        }
        Tensor layerInput = x;
        int inputTimeDim = timeDim;
        for (int layer = 0; layer < layers; layer++) {
            boolean last = layer == layers - 1;
            // the last layer writes the caller's layout directly; inner layers stay time-major
            int outTimeDim = last ? timeDim : 0;
            Tensor[] layerInit = new Tensor[stateNames.length];
            for (int s = 0; s < layerInit.length; s++) {
                layerInit[s] = init[s] == null ? null : init[s].slice(0, layer * dirs, (layer + 1) * dirs);
            }
            Tensor[][] w = Arrays.copyOfRange(weights, layer * dirs, (layer + 1) * dirs);
            LayerRun r = composed ? composedLayer(layerInput, inputTimeDim == 1, outTimeDim == 1, w, layerInit)
                    : runLayer(layerInput, inputTimeDim == 1, outTimeDim == 1, w, layerInit);
            for (int s = 0; s < stateNames.length; s++) {
                finals.get(s).add(r.finalStates()[s]);
            }
            Tensor out = r.output();
            if (!last) {
                out = F.dropout(out, options.dropout(), isTraining(), Generator.defaultGenerator());
            }
            layerInput = out;
            inputTimeDim = outTimeDim;
        }
        Tensor output = batched ? layerInput : layerInput.squeeze(1);
        Tensor[] finalStates = new Tensor[stateNames.length];
        for (int s = 0; s < finalStates.length; s++) {
            List<Tensor> perLayer = finals.get(s);
            Tensor stacked = perLayer.size() == 1 ? perLayer.get(0) : Tensor.cat(perLayer, 0); // (layers * dirs, N, H)
            finalStates[s] = batched ? stacked : stacked.squeeze(1);
        }
        return new Run(output, finalStates);
    }

    /**
     * The output sequence of one layer, (L, N, dirs * H) or (N, L, dirs * H), and its final
     * states, each (dirs, N, H), one per state name.
     */
    record LayerRun(Tensor output, Tensor[] finalStates) {}

    /**
     * One layer, every direction, over the whole sequence. This default is {@link #composedLayer};
     * a subclass with a fused whole-sequence op overrides it.
     *
     * @param x (L, N, in), or (N, L, in) when {@code inputBatchFirst}
     * @param outputBatchFirst the layout of the output
     * @param w per direction {weight_ih, weight_hh, bias_ih, bias_hh} (biases null without bias)
     * @param init per state name (dirs, N, H), or null for zeros
     */
    LayerRun runLayer(Tensor x, boolean inputBatchFirst, boolean outputBatchFirst, Tensor[][] w, Tensor[] init) {
        return composedLayer(x, inputBatchFirst, outputBatchFirst, w, init);
    }

    /**
     * {@link #runLayer} composed of differentiable ops: the input projection of all steps as one
     * product, then {@link #cell} step by step, so backpropagation through time needs no code of
     * its own.
     */
    final LayerRun composedLayer(Tensor x, boolean inputBatchFirst, boolean outputBatchFirst, Tensor[][] w,
                                 Tensor[] init) {
        int inputTimeDim = inputBatchFirst ? 1 : 0;
        int outTimeDim = outputBatchFirst ? 1 : 0;
        int steps = x.size(inputTimeDim);
        int batch = x.size(1 - inputTimeDim);
        int dirs = w.length;
        List<Tensor> directionOutputs = new ArrayList<>(dirs);
        Tensor[][] finals = new Tensor[stateNames.length][dirs];
        for (int dir = 0; dir < dirs; dir++) {
            Tensor bias = w[dir][2] == null ? null : foldsHiddenBias() ? w[dir][2].add(w[dir][3]) : w[dir][2];
            Tensor biasHh = w[dir][2] == null || foldsHiddenBias() ? null : w[dir][3];
            Tensor[] projected = projectSteps(x, inputTimeDim, w[dir][0], bias);
            Tensor weightHhT = w[dir][1].t();
            Tensor[] state = new Tensor[stateNames.length];
            for (int s = 0; s < state.length; s++) {
                state[s] = init[s] == null ? Tensor.zeros(batch, hiddenSize) : init[s].select(0, dir);
            }
            Tensor[] outputs = new Tensor[steps];
            for (int i = 0; i < steps; i++) {
                int t = dir == 0 ? i : steps - 1 - i;
                state = cell(projected[t], state, weightHhT, biasHh);
                outputs[t] = state[0];
            }
            for (int s = 0; s < state.length; s++) {
                finals[s][dir] = state[s];
            }
            directionOutputs.add(Tensor.stack(Arrays.asList(outputs), outTimeDim));
        }
        Tensor out = dirs == 1 ? directionOutputs.get(0) : Tensor.cat(directionOutputs, 2);
        Tensor[] finalStates = new Tensor[stateNames.length];
        for (int s = 0; s < finalStates.length; s++) {
            finalStates[s] = Tensor.stack(Arrays.asList(finals[s]), 0);
        }
        return new LayerRun(out, finalStates);
    }

    /**
     * {@code x W_ihᵀ + bias} for every time step in one matrix product, split into the steps:
     * (N, gates * H) each.
     */
    private Tensor[] projectSteps(Tensor x, int timeDim, Tensor weightIh, Tensor bias) {
        int[] s = x.shape();
        Tensor flat = F.linear(x.reshape(s[0] * s[1], s[2]), weightIh, bias);
        return StepSplit.split(flat.reshape(s[0], s[1], flat.size(1)), timeDim);
    }

    /**
     * y_t = x.select(dim, t) for every t;  dx = stack(dy_t, dim), written once.
     *
     * <p>Why not {@code select}: each select's backward returns a zero tensor of x's full size, so
     * splitting a sequence of L steps would cost O(L²) in backward (for the language model, L = 64
     * copies of 8 MB per layer). The engine gives a node one output, so the split is L nodes
     * sharing one gradient buffer: node t writes dy_t into it, and node 0, which backward reaches
     * last, hands the whole buffer to x. The order is forced by a chain: piece t lists piece t-1 as
     * a second input and passes it a zero gradient, so node t-1 runs after node t even when no
     * other gradient reaches piece t-1.
     */
    private static final class StepSplit extends Node {
        private final int dim;
        private final int index;
        private final Shared shared;

        /** The gradient buffer of one split, filled during one backward pass. */
        private static final class Shared {
            Tensor gradient; // x's shape
            Tensor zeroPiece; // the chain's gradient, never written
        }

        private StepSplit(Tensor x, Tensor previous, int dim, int index, Shared shared) {
            super("unbind", x, previous);
            this.dim = dim;
            this.index = index;
            this.shared = shared;
        }

        static Tensor[] split(Tensor x, int dim) {
            Tensor[] pieces = new Tensor[x.size(dim)];
            Tensor values = x.detach();
            boolean grad = Node.needsGrad(x);
            Shared shared = grad ? new Shared() : null;
            for (int t = 0; t < pieces.length; t++) {
                Tensor piece = values.select(dim, t);
                pieces[t] = grad ? Node.record("unbind", piece,
                        new StepSplit(x, t == 0 ? null : pieces[t - 1], dim, t, shared)) : piece;
            }
            return pieces;
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            Tensor x = input(0);
            if (shared.gradient == null) {
                shared.gradient = Tensor.zeros(x.shape());
                shared.zeroPiece = Tensor.zeros(dy.shape());
            }
            shared.gradient.select(dim, index).copyFrom(dy);
            if (index > 0) {
                return new Tensor[] {null, shared.zeroPiece};
            }
            Tensor dx = shared.gradient;
            shared.gradient = null; // a retained graph's next backward starts afresh
            shared.zeroPiece = null;
            return new Tensor[] {dx, null};
        }
    }

    // ------------------------------------------------------------------ validation

    /** Checks the input's type and shape; returns whether it is batched (3-D). */
    private boolean checkInputShape(Tensor input) {
        String layout = options.batchFirst() ? "(N, L, " + inputSize + ") with batchFirst"
                : "(L, N, " + inputSize + ")";
        int rank = input.dim();
        if (rank != 2 && rank != 3) {
            checkInput(false, layout + " or unbatched (L, " + inputSize + ")", input);
        }
        checkInput(input.size(rank - 1) == inputSize, rank == 3 ? layout : "unbatched (L, " + inputSize + ")",
                input);
        int timeDim = rank == 3 && options.batchFirst() ? 1 : 0;
        checkInput(input.size(timeDim) > 0, (rank == 3 ? layout : "unbatched (L, " + inputSize + ")")
                + " with at least one time step", input);
        if (input.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(describe() + ": expected a float32 input, got "
                    + input.dtype().torchName() + "; embed token ids first (Embedding)");
        }
        return rank == 3;
    }

    /** Checks each given initial state's shape; returns one entry per state name (null for zeros). */
    private Tensor[] checkInitialStates(Tensor[] initial, boolean batched, int batch) {
        Tensor[] out = new Tensor[stateNames.length];
        if (initial == null) {
            return out;
        }
        int[] expected = batched ? new int[] {stateLayers(), batch, hiddenSize} : new int[] {stateLayers(), hiddenSize};
        for (int s = 0; s < stateNames.length; s++) {
            Tensor t = initial[s];
            if (t == null) {
                continue;
            }
            if (!Arrays.equals(t.shape(), expected)) {
                throw new IllegalArgumentException(describe() + ": expected initial " + stateNames[s] + " ("
                        + String.join(", ", Arrays.stream(expected).mapToObj(Integer::toString).toList())
                        + ") = (numLayers * directions, " + (batched ? "N, " : "")
                        + "hidden) for " + (batched ? "an input of batch size " + batch : "an unbatched input")
                        + ", got " + Shape.str(t.shape()));
            }
            if (t.dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException(describe() + ": expected a float32 initial " + stateNames[s]
                        + ", got " + t.dtype().torchName());
            }
            out[s] = batched ? t : t.unsqueeze(1);
        }
        return out;
    }
}
