package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.kernels.PackedMatrix;
import dev.backprop.kernels.UnaryOp;
import dev.backprop.tensor.Tensor;

/**
 * One layer of a recurrent network (every direction) over a whole sequence as one autograd node,
 * with a hand-written backpropagation through time: PyTorch's RNN (tanh or relu), LSTM (gate
 * order i, f, g, o) and GRU (gate order r, z, n), see {@link Cell}. The reverse direction runs t
 * from T-1 down to 0.
 *
 * <p>Forward: the input projection {@code x W_ihᵀ + b} of all steps is one matrix product
 * ((T·B)×in by in×G·H) into the gates buffer; then each step is one product with W_hh (B×H by
 * H×G·H, W_hh packed once per call: {@link Kernels#pack}) and one fused elementwise pass
 * ({@link Kernels#lstmCell}, {@link Kernels#gruCell}, or tanh/relu) that leaves the activations
 * in place and writes the new state. The activations and the states of every step stay in flat
 * time-major arrays for backward: no tensor per step.
 *
 * <p>Backward: per step in reverse, one fused pass turns the gradient of h_t (that of the output
 * plus the recurrent one) and, for LSTM, of c_t into the gradient of the step's pre-activations,
 * and one product gives the recurrent gradient of h_{t-1}. With the gradients of every step
 * stacked (DG, (T·B)×G·H), the weight gradients are one product each ({@code dW_hh = DGᵀ H_prev},
 * {@code dW_ih = DGᵀ X}), as is the input's ({@code dX = DG W_ih}); the biases get the column sums
 * of DG. (For GRU the gradients of the input and of the hidden projection differ in the n
 * block, where b_hn sits inside the reset product.)
 *
 * <p>Threads: the products split over the kernel threads, and so do the cells (from a few
 * thousand values, see {@code VectorKernels.CELL_PART}): a worker left idle between two products
 * of a step would be slow to wake for the next. Every split keeps the order of each sum, so the
 * results are the same bits on any thread count.
 *
 * <p>The node's one output is the output sequence. Each final state (h_n, and c_n for LSTM),
 * (D, B, H), is the output of a small node ({@link FinalState}) whose input is the output
 * sequence: its backward hands the gradient of the final state to this node, which adds it to
 * the last step's gradient, and passes a zero gradient (a broadcast view: nothing allocated) to
 * the output sequence, so that this node runs even when only final states reach the loss. The
 * engine runs those nodes first, as they consume this node's output.
 */
public final class RecurrentLayer extends Node {

    /** The cell: PyTorch's formulas and gate order, the number of gate blocks and of states. */
    public enum Cell {
        /** h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) */
        RNN_TANH("rnn_tanh", 1, 1),
        /** h' = relu(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) */
        RNN_RELU("rnn_relu", 1, 1),
        /** Gates i, f, g, o; states h and c ({@link Kernels#lstmCell}). */
        LSTM("lstm", 4, 2),
        /** Gates r, z, n with b_hn inside the reset product; state h ({@link Kernels#gruCell}). */
        GRU("gru", 3, 1);

        private final String op;
        private final int gates;
        private final int states;

        Cell(String op, int gates, int states) {
            this.op = op;
            this.gates = gates;
            this.states = states;
        }

        /** Blocks of H rows in the weights: 1, 4 or 3. */
        public int gates() {
            return gates;
        }

        /** State tensors: 2 for LSTM (h, c), else 1 (h). */
        public int states() {
            return states;
        }
    }

    /** The output sequence and the final states, each (D, B, H): h, then c for LSTM. */
    public record Result(Tensor output, Tensor[] finalStates) {}

    private final Cell cell;
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
    /**
     * Per direction, time-major ((T·B)×G·H): the activated gates of every step (LSTM, GRU) or the
     * pre-activations (RNN).
     */
    private float[][] gates;
    /** Per direction, GRU only: {@code h_{t-1} W_hhᵀ + b_hh} of every step, ((T·B)×3H). */
    private float[][] hiddenProjections;
    /**
     * Per direction: the hidden states (and the cell states of an LSTM), (T+1)×B×H, time-major:
     * for the forward direction slot 0 is the initial state and slot t+1 the state after step t;
     * for the reverse direction slot T is the initial state and slot t the state after step t.
     */
    private float[][] hs;
    private float[][] cs;
    /** Gradients of the final states, (D·B·H) each, handed over by the {@link FinalState} nodes (null: none). */
    private final float[][] finalGrads;

    private RecurrentLayer(Cell cell, Tensor[] inputs, int steps, int batch, int inputSize, int hidden,
                           int directions, boolean inputBatchFirst, boolean outputBatchFirst, float[] x, int xOffset) {
        super(cell.op, inputs);
        this.cell = cell;
        this.steps = steps;
        this.batch = batch;
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.directions = directions;
        this.inputBatchFirst = inputBatchFirst;
        this.outputBatchFirst = outputBatchFirst;
        this.x = x;
        this.xOffset = xOffset;
        this.finalGrads = new float[cell.states][];
    }

    /**
     * Runs one layer.
     *
     * @param input (T, B, in), or (B, T, in) when {@code inputBatchFirst}; any strides
     * @param inputBatchFirst the input's layout
     * @param outputBatchFirst the output's layout: (T, B, D·H) or (B, T, D·H), each step's
     *     features forward direction first
     * @param weights per direction (1 or 2) {weight_ih (G·H, in), weight_hh (G·H, H), bias_ih
     *     (G·H) or null, bias_hh (G·H) or null}
     * @param initial per state of the cell (h, then c for LSTM): (D, B, H), or null for zeros
     */
    public static Result apply(Cell cell, Tensor input, boolean inputBatchFirst, boolean outputBatchFirst,
                               Tensor[][] weights, Tensor[] initial) {
        int directions = weights.length;
        int steps = input.size(inputBatchFirst ? 1 : 0);
        int batch = input.size(inputBatchFirst ? 0 : 1);
        int in = input.size(2);
        int hidden = weights[0][1].size(1);
        int gw = cell.gates * hidden;
        int states = cell.states;
        Tensor[] inputs = new Tensor[1 + states + 4 * directions];
        inputs[0] = input;
        for (int s = 0; s < states; s++) {
            inputs[1 + s] = initial[s];
        }
        for (int d = 0; d < directions; d++) {
            System.arraycopy(weights[d], 0, inputs, 1 + states + 4 * d, 4);
        }
        boolean grad = needsGrad(inputs);

        Tensor xc = (inputBatchFirst ? input.detach().transpose(0, 1) : input.detach()).contiguous();
        float[] x = xc.floatStorage();
        int xOff = xc.offset();
        float[] h0 = initial[0] == null ? null : values(initial[0]);
        float[] c0 = states < 2 || initial[1] == null ? null : values(initial[1]);
        Kernels kernels = Kernels.get();
        int rows = steps * batch;
        int state = batch * hidden;
        float[][] gates = new float[directions][];
        float[][] hps = cell == Cell.GRU ? new float[directions][] : null;
        float[][] hs = new float[directions][];
        float[][] cs = cell == Cell.LSTM ? new float[directions][] : null;
        for (int d = 0; d < directions; d++) {
            Tensor[] w = weights[d];
            boolean forward = d == 0;
            float[] gt = ArrayPool.take(rows * gw); // every element written below
            float[] bhh = w[3] == null ? null : values(w[3]);
            if (w[2] != null) {
                float[] bias = values(w[2]).clone();
                if (cell != Cell.GRU) { // b_hh joins the input projection, once per sequence
                    for (int j = 0; j < gw; j++) {
                        bias[j] += bhh[j];
                    }
                }
                fillRows(gt, 0, rows, bias);
            }
            kernels.gemm(false, true, rows, gw, in, x, xOff, in, values(w[0]), 0, in, gt, 0, gw, w[2] != null);
            // W_hhᵀ (H×G·H), packed once for the product at every step
            PackedMatrix whhT = kernels.pack(true, hidden, gw, values(w[1]), 0, hidden);
            // every slot but the initial one is written by its step
            float[] h = ArrayPool.take((steps + 1) * state);
            float[] c = cs == null ? null : ArrayPool.take((steps + 1) * state);
            float[] hp = hps == null ? null : ArrayPool.take(rows * gw);
            int first = forward ? 0 : steps;
            initialState(h0, d * state, h, first * state, state);
            if (c != null) {
                initialState(c0, d * state, c, first * state, state);
            }
            for (int s = 0; s < steps; s++) {
                int t = forward ? s : steps - 1 - s;
                int prev = (forward ? t : t + 1) * state;
                int cur = (forward ? t + 1 : t) * state;
                int g = t * batch * gw;
                switch (cell) {
                    case LSTM -> {
                        kernels.gemm(false, batch, h, prev, hidden, whhT, gt, g, gw, true);
                        kernels.lstmCell(batch, hidden, gt, g, c, prev, c, cur, h, cur);
                    }
                    case GRU -> {
                        if (bhh != null) {
                            fillRows(hp, g, batch, bhh);
                        }
                        kernels.gemm(false, batch, h, prev, hidden, whhT, hp, g, gw, bhh != null);
                        kernels.gruCell(batch, hidden, gt, g, hp, g, h, prev, h, cur);
                    }
                    case RNN_TANH, RNN_RELU -> {
                        kernels.gemm(false, batch, h, prev, hidden, whhT, gt, g, gw, true);
                        kernels.unary(cell == Cell.RNN_TANH ? UnaryOp.TANH : UnaryOp.RELU, 0, 0, gt, g, h, cur,
                                state);
                    }
                }
            }
            gates[d] = gt;
            hs[d] = h;
            if (cs != null) {
                cs[d] = c;
            }
            if (hps != null) {
                hps[d] = hp;
            }
        }

        // the output in the caller's layout, and the final states
        int width = directions * hidden;
        float[] out = new float[rows * width];
        float[][] finals = new float[states][directions * state];
        for (int d = 0; d < directions; d++) {
            boolean forward = d == 0;
            for (int t = 0; t < steps; t++) {
                int cur = forward ? t + 1 : t;
                for (int b = 0; b < batch; b++) {
                    int row = outputBatchFirst ? b * steps + t : t * batch + b;
                    System.arraycopy(hs[d], cur * state + b * hidden, out, row * width + d * hidden, hidden);
                }
            }
            int last = (forward ? steps : 0) * state;
            System.arraycopy(hs[d], last, finals[0], d * state, state);
            if (cs != null) {
                System.arraycopy(cs[d], last, finals[1], d * state, state);
            }
        }
        Tensor output = Tensor.of(out, outputBatchFirst ? new int[] {batch, steps, width}
                : new int[] {steps, batch, width});
        Tensor[] finalStates = new Tensor[states];
        for (int s = 0; s < states; s++) {
            finalStates[s] = Tensor.of(finals[s], directions, batch, hidden);
        }
        if (!grad) { // nothing to keep for backward
            for (int d = 0; d < directions; d++) {
                ArrayPool.give(gates[d]);
                ArrayPool.give(hs[d]);
                ArrayPool.give(cs == null ? null : cs[d]);
                ArrayPool.give(hps == null ? null : hps[d]);
            }
            return new Result(record(cell.op, output, null), finalStates);
        }
        RecurrentLayer node = new RecurrentLayer(cell, inputs, steps, batch, in, hidden, directions, inputBatchFirst,
                outputBatchFirst, x, xOff);
        node.gates = gates;
        node.hiddenProjections = hps;
        node.hs = hs;
        node.cs = cs;
        record(cell.op, output, node);
        for (int s = 0; s < states; s++) {
            String name = cell.op + (s == 0 ? "_h_n" : "_c_n");
            finalStates[s] = record(name, finalStates[s], new FinalState(name, output, node, s));
        }
        return new Result(output, finalStates);
    }

    /** {@code to[toOff..]} = the initial state {@code from[fromOff..]}, or zeros when {@code from} is null. */
    private static void initialState(float[] from, int fromOff, float[] to, int toOff, int n) {
        if (from == null) {
            java.util.Arrays.fill(to, toOff, toOff + n, 0f);
        } else {
            System.arraycopy(from, fromOff, to, toOff, n);
        }
    }

    /** {@code rows} rows of {@code m} from {@code off}, each {@code row.length} long, set to {@code row}. */
    private static void fillRows(float[] m, int off, int rows, float[] row) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(row, 0, m, off + r * row.length, row.length);
        }
    }

    /** The values of {@code t} in order, without a copy when it is contiguous from the start of its storage. */
    private static float[] values(Tensor t) {
        float[] v = t.floatStorage();
        if (t.offset() == 0 && v.length == t.numel() && t.isContiguous()) {
            return v;
        }
        return t.toFloatArray();
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Kernels kernels = Kernels.get();
        int gw = cell.gates * hidden;
        int rows = steps * batch;
        int state = batch * hidden;
        int width = directions * hidden;
        int states = cell.states;
        float[] dyv = null;
        int dyOff = 0;
        if (!isZeroBroadcast(dy)) {
            Tensor dyc = dy.contiguous();
            dyv = dyc.floatStorage();
            dyOff = dyc.offset();
        }
        float[][] finalGrad = finalGrads.clone();
        java.util.Arrays.fill(finalGrads, null); // a retained graph's next backward starts afresh

        boolean needX = needsInputGrad(0);
        boolean needH0 = needsInputGrad(1);
        boolean needC0 = states > 1 && needsInputGrad(2);
        float[] dx = needX ? new float[rows * inputSize] : null;
        float[] dh0 = needH0 ? new float[directions * state] : null;
        float[] dc0 = needC0 ? new float[directions * state] : null;
        Tensor[] grads = new Tensor[numInputs()];
        for (int d = 0; d < directions; d++) {
            boolean forward = d == 0;
            int base = 1 + states + 4 * d;
            boolean needBias = needsInputGrad(base + 2) || needsInputGrad(base + 3);
            PackedMatrix whh = kernels.pack(false, gw, hidden, values(input(base + 1)), 0, hidden);
            float[] gt = gates[d];
            float[] h = hs[d];
            float[] c = cs == null ? null : cs[d];
            float[] hp = hiddenProjections == null ? null : hiddenProjections[d];
            // gradients of the input projection (dg) and of the hidden one (dhp): the same but for GRU
            float[] dg = ArrayPool.take(rows * gw); // every step writes its rows
            float[] dhp = cell == Cell.GRU ? ArrayPool.take(rows * gw) : dg;
            float[] dbIh = needBias ? new float[gw] : null;
            float[] dbHh = needBias && dhp != dg ? new float[gw] : dbIh;
            float[] dh = new float[state];
            float[] dc = c == null ? null : new float[state];
            if (finalGrad[0] != null) {
                System.arraycopy(finalGrad[0], d * state, dh, 0, state);
            }
            if (dc != null && finalGrad[1] != null) {
                System.arraycopy(finalGrad[1], d * state, dc, 0, state);
            }
            for (int s = 0; s < steps; s++) {
                int t = forward ? steps - 1 - s : s;
                int prev = (forward ? t : t + 1) * state;
                int cur = (forward ? t + 1 : t) * state;
                int g = t * batch * gw;
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
                boolean recurrent = s < steps - 1 || needH0; // dh_{t-1} is needed
                switch (cell) {
                    case LSTM -> {
                        kernels.lstmCellBackward(batch, hidden, gt, g, c, prev, c, cur, dh, 0, dc, 0, dg, g);
                        if (recurrent) {
                            kernels.gemm(false, batch, dg, g, gw, whh, dh, 0, hidden, false);
                        }
                    }
                    case GRU -> {
                        // leaves dh·z in dh, the direct part of dh_{t-1}; the product adds the rest
                        kernels.gruCellBackward(batch, hidden, gt, g, hp, g, h, prev, dh, 0, dg, g, dhp, g);
                        if (recurrent) {
                            kernels.gemm(false, batch, dhp, g, gw, whh, dh, 0, hidden, true);
                        }
                    }
                    case RNN_TANH, RNN_RELU -> {
                        // relu' from the output: h > 0 exactly where the pre-activation is
                        kernels.unaryBackward(cell == Cell.RNN_TANH ? UnaryOp.TANH : UnaryOp.RELU, 0, 0,
                                cell == Cell.RNN_TANH ? gt : h, cell == Cell.RNN_TANH ? g : cur, h, cur, dh, 0,
                                dg, g, state);
                        if (recurrent) {
                            kernels.gemm(false, batch, dg, g, gw, whh, dh, 0, hidden, false);
                        }
                    }
                }
            }
            if (needH0) {
                System.arraycopy(dh, 0, dh0, d * state, state);
            }
            if (needC0) {
                System.arraycopy(dc, 0, dc0, d * state, state);
            }
            if (needsInputGrad(base)) {
                float[] dwih = new float[gw * inputSize];
                kernels.gemm(true, false, gw, inputSize, rows, dg, 0, gw, x, xOffset, inputSize, dwih, 0, inputSize,
                        false);
                grads[base] = Tensor.of(dwih, gw, inputSize);
            }
            if (needsInputGrad(base + 1)) {
                float[] dwhh = new float[gw * hidden];
                // H_prev: the state before step t, for t = 0..T-1 in time order
                int hPrev = forward ? 0 : state;
                kernels.gemm(true, false, gw, hidden, rows, dhp, 0, gw, h, hPrev, hidden, dwhh, 0, hidden, false);
                grads[base + 1] = Tensor.of(dwhh, gw, hidden);
            }
            if (needBias) { // for LSTM and RNN both biases get the same values, in arrays of their own
                columnSums(dg, rows, gw, dbIh);
                if (dbHh != dbIh) {
                    columnSums(dhp, rows, gw, dbHh);
                }
                grads[base + 2] = Tensor.of(dbIh, gw);
                grads[base + 3] = Tensor.of(dbHh == dbIh ? dbIh.clone() : dbHh, gw);
            }
            if (needX) {
                kernels.gemm(false, false, rows, inputSize, gw, dg, 0, gw, values(input(base)), 0, inputSize, dx, 0,
                        inputSize, d > 0);
            }
            ArrayPool.give(dg);
            if (dhp != dg) {
                ArrayPool.give(dhp);
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

    /** Every gradient is a new array of its own: the engine may keep them as leaves' gradients. */
    @Override
    protected boolean gradientsAreNew() {
        return true;
    }

    /**
     * {@code sum[j] = Σ_r m[r * cols + j]} over {@code rows} rows, each column summed in row order
     * by one thread (bands of columns split over threads: the same bits on any thread count).
     */
    private static void columnSums(float[] m, int rows, int cols, float[] sum) {
        Kernels.parallelFor(cols, 64, (from, to) -> {
            for (int r = 0; r < rows; r++) {
                int o = r * cols;
                for (int j = from; j < to; j++) {
                    sum[j] += m[o + j];
                }
            }
        });
    }

    /** Whether {@code t} is the zero gradient a {@link FinalState} node hands on: every stride 0, value 0. */
    private static boolean isZeroBroadcast(Tensor t) {
        for (int s : t.strides()) {
            if (s != 0) {
                return false;
            }
        }
        return t.numel() == 0 || t.floatStorage()[t.offset()] == 0f;
    }

    /** Hands the saved arrays back to the pool: the graph is done with them. */
    @Override
    protected void release() {
        for (float[][] saved : new float[][][] {gates, hiddenProjections, hs, cs}) {
            if (saved != null) {
                for (float[] a : saved) {
                    ArrayPool.give(a);
                }
            }
        }
        x = null;
        gates = null;
        hiddenProjections = null;
        hs = null;
        cs = null;
    }

    /**
     * Large arrays handed back by finished layers for the next call to reuse: a training step
     * would otherwise allocate (and the JVM zero) tens of megabytes of gates, states and gradients
     * that live only from a forward pass to its backward. An array is taken by exact length and
     * its contents are undefined; at most {@link #MAX_ARRAYS} arrays and {@link #MAX_FLOATS}
     * floats are kept, the oldest dropped first.
     */
    static final class ArrayPool {
        static final int MAX_ARRAYS = 32;
        static final long MAX_FLOATS = 64L << 20; // 256 MB
        private static final java.util.ArrayDeque<float[]> FREE = new java.util.ArrayDeque<>();
        private static long floats;

        private ArrayPool() {}

        /** An array of exactly {@code n} floats with undefined contents. */
        static float[] take(int n) {
            synchronized (FREE) {
                for (java.util.Iterator<float[]> it = FREE.iterator(); it.hasNext(); ) {
                    float[] a = it.next();
                    if (a.length == n) {
                        it.remove();
                        floats -= n;
                        return a;
                    }
                }
            }
            return new float[n];
        }

        /** Hands {@code a} back (null is ignored); nothing may use it afterwards. */
        static void give(float[] a) {
            if (a == null || a.length < 4096 || a.length > MAX_FLOATS) {
                return; // small arrays are cheap to allocate
            }
            synchronized (FREE) {
                FREE.addLast(a);
                floats += a.length;
                while (FREE.size() > MAX_ARRAYS || floats > MAX_FLOATS) {
                    floats -= FREE.removeFirst().length;
                }
            }
        }
    }

    /**
     * A final state (h_n or c_n) of a {@link RecurrentLayer}: its backward hands the gradient to
     * the layer's node and passes a zero gradient to the output sequence, which makes the engine
     * run the layer's node after it.
     */
    private static final class FinalState extends Node {
        private final RecurrentLayer layer;
        private final int index;

        FinalState(String name, Tensor output, RecurrentLayer layer, int index) {
            super(name, output);
            this.layer = layer;
            this.index = index;
        }

        @Override
        protected Tensor[] backward(Tensor grad) {
            layer.finalGrads[index] = grad.toFloatArray(); // a copy, kept until the layer's own backward
            int[] shape = input(0).shape();
            return new Tensor[] {Tensor.zeros(1).asStrided(shape, new int[shape.length], 0)};
        }
    }
}
