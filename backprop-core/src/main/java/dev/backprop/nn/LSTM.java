package dev.backprop.nn;

import dev.backprop.ops.RecurrentLayer;
import dev.backprop.tensor.Tensor;
import java.util.Objects;

/**
 * Long short-term memory, PyTorch's {@code nn.LSTM}, with its gate order i, f, g, o:
 * <pre>
 * i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
 * g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
 * c' = f * c + i * g                       h' = o * tanh(c')
 * </pre>
 * Parameters {@code weight_ih_l{k}} (4H, in), {@code weight_hh_l{k}} (4H, H),
 * {@code bias_ih_l{k}}, {@code bias_hh_l{k}} (4H), with {@code _reverse} for the reverse direction.
 *
 * <pre>{@code
 * LSTM lstm = new LSTM(128, 256, LSTM.Options.defaults().withNumLayers(2).withBatchFirst(true));
 * LSTM.Result r = lstm.forward(x, state);   // state null for zeros
 * state = r.state().detach();               // truncated BPTT: carry the values, not the graph
 * }</pre>
 */
public final class LSTM extends RecurrentBase {

    /** Hidden and cell state, each (numLayers*D, N, H), or (numLayers*D, H) for an unbatched input. */
    public record State(Tensor h, Tensor c) {
        public State {
            Objects.requireNonNull(h, "LSTM.State: h is null; pass a null State for zero states");
            Objects.requireNonNull(c, "LSTM.State: c is null; pass a null State for zero states");
        }

        /** The same values without history, for truncated backpropagation through time. */
        public State detach() {
            return new State(h.detach(), c.detach());
        }
    }

    /**
     * @param output (L, N, D*H), (N, L, D*H) with batchFirst, or (L, D*H) unbatched: the top
     *     layer's h at every step
     * @param state the final hidden and cell states of every layer and direction
     */
    public record Result(Tensor output, State state) {
        public Tensor h() {
            return state.h();
        }

        public Tensor c() {
            return state.c();
        }
    }

    /** One layer, with biases, time-major input (L, N, inputSize). */
    public LSTM(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, Options.defaults());
    }

    public LSTM(int inputSize, int hiddenSize, Options options) {
        super(inputSize, hiddenSize, options, 4, "h", "c");
    }

    /** Runs the layer from {@code initial}, or from zero states when it is null. */
    public Result forward(Tensor input, State initial) {
        Tensor[] init = initial == null ? null : new Tensor[] {initial.h(), initial.c()};
        Run r = runTraced(input, init);
        return new Result(r.output(), new State(r.finalStates()[0], r.finalStates()[1]));
    }

    /** The whole layer as one fused node ({@link RecurrentLayer}), with a hand-written backward through time. */
    @Override
    LayerRun runLayer(Tensor x, boolean inputBatchFirst, boolean outputBatchFirst, Tensor[][] w, Tensor[] init) {
        RecurrentLayer.Result r = RecurrentLayer.apply(RecurrentLayer.Cell.LSTM, x, inputBatchFirst, outputBatchFirst,
                w, init);
        return new LayerRun(r.output(), r.finalStates());
    }

    /** One step from composed ops: the reference the fused layer is tested against. */
    @Override
    Tensor[] cell(Tensor projected, Tensor[] state, Tensor weightHhT, Tensor biasHh) {
        int hidden = hiddenSize();
        Tensor gates = projected.add(state[0].matmul(weightHhT)); // (N, 4H): i, f, g, o
        Tensor i = gates.slice(1, 0, hidden).sigmoid();
        Tensor f = gates.slice(1, hidden, 2 * hidden).sigmoid();
        Tensor g = gates.slice(1, 2 * hidden, 3 * hidden).tanh();
        Tensor o = gates.slice(1, 3 * hidden, 4 * hidden).sigmoid();
        Tensor c = f.mul(state[1]).add(i.mul(g));
        Tensor h = o.mul(c.tanh());
        return new Tensor[] {h, c};
    }
}
