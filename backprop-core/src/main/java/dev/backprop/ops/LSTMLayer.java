package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.kernels.PackedMatrix;
import dev.backprop.tensor.Tensor;

/**
 * One layer of an LSTM (every direction) over a whole sequence as one autograd node, with a
 * hand-written backpropagation through time. PyTorch's gate order i, f, g, o:
 * <pre>
 * gates_t = x_t W_ihᵀ + b_ih + b_hh + h_{t-1} W_hhᵀ
 * i, f, g, o = σ, σ, tanh, σ of the four blocks;   c_t = f c_{t-1} + i g;   h_t = o tanh(c_t)
 * </pre>
 * The reverse direction runs t from T-1 down to 0.
 *
 * <p>Forward: the input projection of all steps is one matrix product ((T·B)×in by in×4H) into
 * the gates buffer, then each step adds one product {@code h_{t-1} W_hhᵀ} (B×H by H×4H) and runs
 * one fused elementwise pass ({@link Kernels#lstmCell}) that leaves the activations in place and
 * writes c_t and h_t. The activations, the cell states and the hidden states of every step stay
 * in flat arrays (time-major) for backward: no tensor per step.
 *
 * <p>Backward: per step in reverse, one fused pass ({@link Kernels#lstmCellBackward}) gives the
 * gradient of the pre-activations from the gradient of h_t (that of the output plus the recurrent
 * one) and of c_t, then one product gives the recurrent gradient {@code dh_{t-1} = dgates W_hh}.
 * With the gradients of every step's pre-activations stacked (DG, (T·B)×4H), the weight gradients
 * are one product each ({@code dW_hh = DGᵀ H_prev}, {@code dW_ih = DGᵀ X}), as is the input's
 * ({@code dX = DG W_ih}); both biases get the column sums of DG.
 *
 * <p>The node's one output is the output sequence. The final states h_n and c_n, (D, B, H), are
 * outputs of two small nodes ({@link FinalState}) whose input is the output sequence: their
 * backward hands the gradient of h_n or c_n to this node, which adds it to the last step's
 * gradient, and passes a zero gradient (a broadcast view, nothing allocated) to the output
 * sequence, so that this node runs even when only the final states reach the loss. The engine
 * orders them before this node, as they consume its output.
 */
public final class LSTMLayer extends Node {
    private final int steps;
    private final int batch;
    private final int inputSize;
    private final int hidden;
    private final int directions;
    private final boolean inputBatchFirst;
    private final boolean outputBatchFirst;
    /** The input, time-major contiguous ((T·B)×in) from {@link #xOffset}. */
    private float[] x;
    private final int xOffset;
    /** Per direction: the activated gates of every step, ((T·B)×4H), time-major. */
    private float[][] gates;
    /**
     * Per direction: the hidden and cell states, (T+1)×B×H, time-major: for the forward direction
     * slot 0 is the initial state and slot t+1 the state after step t; for the reverse direction
     * slot T is the initial state and slot t the state after step t.
     */
    private float[][] hs;
    private float[][] cs;
    /** Gradients of h_n and c_n, (D·B·H), handed over by the {@link FinalState} nodes (null: none). */
    private float[] finalHGrad;
    private float[] finalCGrad;

    /** The output sequence and the final states (D, B, H) of one layer. */
    public record Result(Tensor output, Tensor h, Tensor c) {}

    private LSTMLayer(Tensor[] inputs, int steps, int batch, int inputSize, int hidden, int directions,
                      boolean inputBatchFirst, boolean outputBatchFirst, float[] x, int xOffset) {
        super("lstm", inputs);
        this.steps = steps;
        this.batch = batch;
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.directions = directions;
        this.inputBatchFirst = inputBatchFirst;
        this.outputBatchFirst = outputBatchFirst;
        this.x = x;
        this.xOffset = xOffset;
    }

    /**
     * Runs one layer.
     *
     * @param input (T, B, in), or (B, T, in) when {@code inputBatchFirst}; any strides
     * @param inputBatchFirst the input's layout
     * @param outputBatchFirst the output's layout: (T, B, D·H) or (B, T, D·H), each step's
     *     features forward direction first
     * @param weights per direction {weight_ih (4H, in), weight_hh (4H, H), bias_ih (4H) or null,
     *     bias_hh (4H) or null}
     * @param h0 (D, B, H), or null for zeros
     * @param c0 (D, B, H), or null for zeros
     */
    public static Result apply(Tensor input, boolean inputBatchFirst, boolean outputBatchFirst, Tensor[][] weights,
                               Tensor h0, Tensor c0) {
        int directions = weights.length;
        int steps = input.size(inputBatchFirst ? 1 : 0);
        int batch = input.size(inputBatchFirst ? 0 : 1);
        int in = input.size(2);
        int hidden = weights[0][1].size(1);
        int g4 = 4 * hidden;
        Tensor[] inputs = new Tensor[3 + 4 * directions];
        inputs[0] = input;
        inputs[1] = h0;
        inputs[2] = c0;
        for (int d = 0; d < directions; d++) {
            for (int k = 0; k < 4; k++) {
                inputs[3 + 4 * d + k] = weights[d][k];
            }
        }
        boolean grad = needsGrad(inputs);

        Tensor xc = timeMajor(input.detach(), inputBatchFirst);
        float[] x = xc.floatStorage();
        int xOff = xc.offset();
        float[] h0v = h0 == null ? null : contiguousValues(h0);
        float[] c0v = c0 == null ? null : contiguousValues(c0);
        Kernels kernels = Kernels.get();
        int rows = steps * batch;
        int state = batch * hidden;
        float[][] gates = new float[directions][];
        float[][] hs = new float[directions][];
        float[][] cs = new float[directions][];
        for (int d = 0; d < directions; d++) {
            Tensor[] w = weights[d];
            float[] wih = contiguousValues(w[0]);
            // W_hhᵀ (H×4H), packed once for the product at every step
            PackedMatrix whhT = kernels.pack(true, hidden, g4, contiguousValues(w[1]), 0, hidden);
            float[] gt = new float[rows * g4];
            if (w[2] != null) {
                float[] bias = contiguousValues(w[2]).clone();
                float[] bhh = contiguousValues(w[3]);
                for (int j = 0; j < g4; j++) {
                    bias[j] += bhh[j];
                }
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(bias, 0, gt, r * g4, g4);
                }
            }
            kernels.gemm(false, true, rows, g4, in, x, xOff, in, wih, 0, in, gt, 0, g4, w[2] != null);
            float[] h = new float[(steps + 1) * state];
            float[] c = new float[(steps + 1) * state];
            boolean forward = d == 0;
            int first = forward ? 0 : steps;
            if (h0v != null) {
                System.arraycopy(h0v, d * state, h, first * state, state);
            }
            if (c0v != null) {
                System.arraycopy(c0v, d * state, c, first * state, state);
            }
            for (int s = 0; s < steps; s++) {
                int t = forward ? s : steps - 1 - s;
                int prev = forward ? t : t + 1;
                int cur = forward ? t + 1 : t;
                kernels.gemm(false, batch, h, prev * state, hidden, whhT, gt, t * batch * g4, g4, true);
                kernels.lstmCell(batch, hidden, gt, t * batch * g4, c, prev * state, c, cur * state, h, cur * state);
            }
            gates[d] = gt;
            hs[d] = h;
            cs[d] = c;
        }

        // the output in the caller's layout, and the final states
        int width = directions * hidden;
        float[] out = new float[rows * width];
        float[] hn = new float[directions * state];
        float[] cn = new float[directions * state];
        for (int d = 0; d < directions; d++) {
            boolean forward = d == 0;
            for (int t = 0; t < steps; t++) {
                int cur = forward ? t + 1 : t;
                for (int b = 0; b < batch; b++) {
                    int row = outputBatchFirst ? b * steps + t : t * batch + b;
                    System.arraycopy(hs[d], cur * state + b * hidden, out, row * width + d * hidden, hidden);
                }
            }
            int last = forward ? steps : 0;
            System.arraycopy(hs[d], last * state, hn, d * state, state);
            System.arraycopy(cs[d], last * state, cn, d * state, state);
        }
        Tensor output = Tensor.of(out, outputBatchFirst ? new int[] {batch, steps, width}
                : new int[] {steps, batch, width});
        Tensor hTensor = Tensor.of(hn, directions, batch, hidden);
        Tensor cTensor = Tensor.of(cn, directions, batch, hidden);
        if (!grad) {
            return new Result(record("lstm", output, null), hTensor, cTensor);
        }
        LSTMLayer node = new LSTMLayer(inputs, steps, batch, in, hidden, directions, inputBatchFirst,
                outputBatchFirst, x, xOff);
        node.gates = gates;
        node.hs = hs;
        node.cs = cs;
        record("lstm", output, node);
        return new Result(output, record("lstm_h_n", hTensor, new FinalState(output, node, false)),
                record("lstm_c_n", cTensor, new FinalState(output, node, true)));
    }

    /** {@code t} (3-D, time dim first or second) as a time-major contiguous tensor, without copying when it is one. */
    static Tensor timeMajor(Tensor t, boolean batchFirst) {
        if (!batchFirst) {
            return t.contiguous();
        }
        return t.transpose(0, 1).contiguous();
    }

    private static float[] contiguousValues(Tensor t) {
        Tensor c = t.detach().contiguous();
        float[] v = c.floatStorage();
        if (c.offset() == 0 && v.length == c.numel()) {
            return v;
        }
        return c.toFloatArray();
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Kernels kernels = Kernels.get();
        int g4 = 4 * hidden;
        int rows = steps * batch;
        int state = batch * hidden;
        int width = directions * hidden;
        float[] dyv = null;
        int dyOff = 0;
        if (!isZeroBroadcast(dy)) {
            Tensor dyc = dy.contiguous();
            dyv = dyc.floatStorage();
            dyOff = dyc.offset();
        }
        float[] dhn = finalHGrad;
        float[] dcn = finalCGrad;
        finalHGrad = null; // a retained graph's next backward starts afresh
        finalCGrad = null;

        boolean needX = needsInputGrad(0);
        boolean needH0 = needsInputGrad(1);
        boolean needC0 = needsInputGrad(2);
        float[] dx = needX ? new float[rows * inputSize] : null;
        float[] dh0 = needH0 ? new float[directions * state] : null;
        float[] dc0 = needC0 ? new float[directions * state] : null;
        Tensor[] grads = new Tensor[numInputs()];
        for (int d = 0; d < directions; d++) {
            boolean forward = d == 0;
            int base = 3 + 4 * d;
            PackedMatrix whh = kernels.pack(false, g4, hidden, contiguousValues(input(base + 1)), 0, hidden);
            float[] gt = gates[d];
            float[] h = hs[d];
            float[] c = cs[d];
            float[] dg = new float[rows * g4];
            float[] dh = new float[state];
            float[] dc = new float[state];
            if (dhn != null) {
                System.arraycopy(dhn, d * state, dh, 0, state);
            }
            if (dcn != null) {
                System.arraycopy(dcn, d * state, dc, 0, state);
            }
            for (int s = 0; s < steps; s++) {
                int t = forward ? steps - 1 - s : s;
                int prev = forward ? t : t + 1;
                int cur = forward ? t + 1 : t;
                if (dyv != null) {
                    for (int b = 0; b < batch; b++) {
                        int row = outputBatchFirst ? b * steps + t : t * batch + b;
                        int src = dyOff + row * width + d * hidden;
                        int dst = b * hidden;
                        for (int j = 0; j < hidden; j++) {
                            dh[dst + j] += dyv[src + j];
                        }
                    }
                }
                kernels.lstmCellBackward(batch, hidden, gt, t * batch * g4, c, prev * state, c, cur * state,
                        dh, 0, dc, 0, dg, t * batch * g4);
                if (s < steps - 1 || needH0) {
                    kernels.gemm(false, batch, dg, t * batch * g4, g4, whh, dh, 0, hidden, false);
                }
            }
            if (needH0) {
                System.arraycopy(dh, 0, dh0, d * state, state);
            }
            if (needC0) {
                System.arraycopy(dc, 0, dc0, d * state, state);
            }
            if (needsInputGrad(base)) {
                float[] dwih = new float[g4 * inputSize];
                kernels.gemm(true, false, g4, inputSize, rows, dg, 0, g4, x, xOffset, inputSize, dwih, 0, inputSize,
                        false);
                grads[base] = Tensor.of(dwih, g4, inputSize);
            }
            if (needsInputGrad(base + 1)) {
                float[] dwhh = new float[g4 * hidden];
                // H_prev: the state before step t, for t = 0..T-1 in time order
                int hPrev = forward ? 0 : state;
                kernels.gemm(true, false, g4, hidden, rows, dg, 0, g4, h, hPrev, hidden, dwhh, 0, hidden, false);
                grads[base + 1] = Tensor.of(dwhh, g4, hidden);
            }
            if (needsInputGrad(base + 2) || needsInputGrad(base + 3)) {
                Tensor db = Tensor.of(columnSums(dg, rows, g4), g4);
                grads[base + 2] = db; // the engine never writes into a returned gradient: one tensor serves both
                grads[base + 3] = db;
            }
            if (needX) {
                float[] wih = contiguousValues(input(base));
                kernels.gemm(false, false, rows, inputSize, g4, dg, 0, g4, wih, 0, inputSize, dx, 0, inputSize,
                        d > 0);
            }
        }
        if (needX) {
            Tensor g = Tensor.of(dx, steps, batch, inputSize);
            grads[0] = inputBatchFirst ? g.transpose(0, 1).contiguous() : g;
        }
        if (needH0) {
            grads[1] = Tensor.of(dh0, directions, batch, hidden);
        }
        if (needC0) {
            grads[2] = Tensor.of(dc0, directions, batch, hidden);
        }
        return grads;
    }

    /** Column sums of a rows×cols matrix, in row order. */
    static float[] columnSums(float[] m, int rows, int cols) {
        float[] sum = new float[cols];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) {
                sum[j] += m[o + j];
            }
        }
        return sum;
    }

    /** Whether {@code t} is the zero gradient a {@link FinalState} node hands on: every stride 0, value 0. */
    static boolean isZeroBroadcast(Tensor t) {
        for (int s : t.strides()) {
            if (s != 0) {
                return false;
            }
        }
        return t.numel() == 0 || t.floatStorage()[t.offset()] == 0f;
    }

    /** A zero tensor of {@code shape} as a broadcast view of one element. */
    static Tensor zeroBroadcast(int[] shape) {
        return Tensor.zeros(1).asStrided(shape, new int[shape.length], 0);
    }

    @Override
    protected void release() {
        x = null;
        gates = null;
        hs = null;
        cs = null;
    }

    /**
     * h_n or c_n of an {@link LSTMLayer}: its backward hands the gradient to the layer's node and
     * passes a zero gradient to the output sequence, which makes the engine run the layer's node.
     */
    private static final class FinalState extends Node {
        private final LSTMLayer layer;
        private final boolean cell;

        FinalState(Tensor output, LSTMLayer layer, boolean cell) {
            super(cell ? "lstm_c_n" : "lstm_h_n", output);
            this.layer = layer;
            this.cell = cell;
        }

        @Override
        protected Tensor[] backward(Tensor grad) {
            float[] g = grad.toFloatArray(); // a copy, kept until the layer's own backward
            if (cell) {
                layer.finalCGrad = g;
            } else {
                layer.finalHGrad = g;
            }
            return new Tensor[] {zeroBroadcast(input(0).shape())};
        }
    }
}
