package dev.backprop.nn;

import dev.backprop.ops.RecurrentLayer;
import dev.backprop.tensor.Tensor;

/**
 * Elman recurrent layer, PyTorch's {@code nn.RNN}: h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)
 * with act tanh (default) or relu, stacked {@code numLayers} deep, optionally bidirectional.
 * Parameters {@code weight_ih_l{k}} (H, in), {@code weight_hh_l{k}} (H, H), {@code bias_ih_l{k}},
 * {@code bias_hh_l{k}} (H), with {@code _reverse} for the reverse direction.
 *
 * <pre>{@code
 * RNN rnn = new RNN(10, 20, RNN.Nonlinearity.RELU, RNN.Options.defaults().withBatchFirst(true));
 * RNN.Result r = rnn.forward(x, null);   // x (N, L, 10) -> r.output() (N, L, 20), r.h() (1, N, 20)
 * }</pre>
 */
public final class RNN extends RecurrentBase {

    /** The cell's activation. */
    public enum Nonlinearity { TANH, RELU }

    /**
     * @param output (L, N, D*H), (N, L, D*H) with batchFirst, or (L, D*H) unbatched
     * @param h the final hidden state of every layer and direction, (numLayers*D, N, H)
     */
    public record Result(Tensor output, Tensor h) {}

    private final Nonlinearity nonlinearity;

    /** One layer, tanh, with biases, time-major input (L, N, inputSize). */
    public RNN(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, Nonlinearity.TANH, Options.defaults());
    }

    public RNN(int inputSize, int hiddenSize, Options options) {
        this(inputSize, hiddenSize, Nonlinearity.TANH, options);
    }

    public RNN(int inputSize, int hiddenSize, Nonlinearity nonlinearity, Options options) {
        super(inputSize, hiddenSize, options, 1, "h");
        this.nonlinearity = nonlinearity;
    }

    public Nonlinearity nonlinearity() {
        return nonlinearity;
    }

    /**
     * Runs the layer from the initial hidden state {@code h0} (numLayers*D, N, H), or from zeros
     * when it is null; returns the output sequence and the final hidden state.
     */
    public Result forward(Tensor input, Tensor h0) {
        Run r = runTraced(input, new Tensor[] {h0});
        return new Result(r.output(), r.finalStates()[0]);
    }

    /** The whole layer as one fused node ({@link RecurrentLayer}), with a hand-written backward through time. */
    @Override
    LayerRun runLayer(Tensor x, boolean inputBatchFirst, boolean outputBatchFirst, Tensor[][] w, Tensor[] init) {
        RecurrentLayer.Cell cell = nonlinearity == Nonlinearity.TANH ? RecurrentLayer.Cell.RNN_TANH
                : RecurrentLayer.Cell.RNN_RELU;
        RecurrentLayer.Result r = RecurrentLayer.apply(cell, x, inputBatchFirst, outputBatchFirst, w, init);
        return new LayerRun(r.output(), r.finalStates());
    }

    /** One step from composed ops: the reference the fused layer is tested against. */
    @Override
    Tensor[] cell(Tensor projected, Tensor[] state, Tensor weightHhT, Tensor biasHh) {
        Tensor pre = projected.add(state[0].matmul(weightHhT));
        return new Tensor[] {nonlinearity == Nonlinearity.TANH ? pre.tanh() : pre.relu()};
    }

    @Override
    String cellRepr() {
        return nonlinearity == Nonlinearity.TANH ? "" : ", nonlinearity='relu'";
    }
}
