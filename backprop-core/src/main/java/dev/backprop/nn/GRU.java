package dev.backprop.nn;

import dev.backprop.ops.RecurrentLayer;
import dev.backprop.tensor.Tensor;

/**
 * Gated recurrent unit, PyTorch's {@code nn.GRU}, with its gate order r, z, n and its placement
 * of the reset gate (applied after the hidden product, to {@code W_hn h + b_hn}):
 * <pre>
 * r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 * h' = (1 - z) * n + z * h
 * </pre>
 * Parameters {@code weight_ih_l{k}} (3H, in), {@code weight_hh_l{k}} (3H, H),
 * {@code bias_ih_l{k}}, {@code bias_hh_l{k}} (3H), with {@code _reverse} for the reverse direction.
 */
public final class GRU extends RecurrentBase {

    /**
     * @param output (L, N, D*H), (N, L, D*H) with batchFirst, or (L, D*H) unbatched
     * @param h the final hidden state of every layer and direction, (numLayers*D, N, H)
     */
    public record Result(Tensor output, Tensor h) {}

    /** One layer, with biases, time-major input (L, N, inputSize). */
    public GRU(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, Options.defaults());
    }

    public GRU(int inputSize, int hiddenSize, Options options) {
        super(inputSize, hiddenSize, options, 3, "h");
    }

    /**
     * Runs the layer from the initial hidden state {@code h0} (numLayers*D, N, H), or from zeros
     * when it is null; returns the output sequence and the final hidden state.
     */
    public Result forward(Tensor input, Tensor h0) {
        Run r = runTraced(input, new Tensor[] {h0});
        return new Result(r.output(), r.finalStates()[0]);
    }

    @Override
    boolean foldsHiddenBias() {
        return false; // b_hn sits inside the reset product
    }

    /** The whole layer as one fused node ({@link RecurrentLayer}), with a hand-written backward through time. */
    @Override
    LayerRun runLayer(Tensor x, boolean inputBatchFirst, boolean outputBatchFirst, Tensor[][] w, Tensor[] init) {
        RecurrentLayer.Result r = RecurrentLayer.apply(RecurrentLayer.Cell.GRU, x, inputBatchFirst,
                outputBatchFirst, w, init);
        return new LayerRun(r.output(), r.finalStates());
    }

    /** One step from composed ops: the reference the fused layer is tested against. */
    @Override
    Tensor[] cell(Tensor projected, Tensor[] state, Tensor weightHhT, Tensor biasHh) {
        int hidden = hiddenSize();
        Tensor h = state[0];
        Tensor hp = h.matmul(weightHhT); // (N, 3H): r, z, n
        if (biasHh != null) {
            hp = hp.add(biasHh);
        }
        Tensor rz = projected.slice(1, 0, 2 * hidden).add(hp.slice(1, 0, 2 * hidden)).sigmoid();
        Tensor r = rz.slice(1, 0, hidden);
        Tensor z = rz.slice(1, hidden, 2 * hidden);
        Tensor n = projected.slice(1, 2 * hidden, 3 * hidden).add(r.mul(hp.slice(1, 2 * hidden, 3 * hidden))).tanh();
        return new Tensor[] {n.add(z.mul(h.sub(n)))}; // (1 - z) * n + z * h
    }
}
