package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * Scaled dot-product attention as one op ({@code torch.nn.functional.scaled_dot_product_attention}
 * without dropout). For q (…, L, E), k (…, S, E), v (…, S, Ev), per matrix of the batch:
 * <pre>
 *   S = q kᵀ · scale,  then the masks (causal: j &gt; i is −∞; boolean: −∞ where masked; float: added)
 *   P = softmax(S) along each row,   out = P v                                  (…, L, Ev)
 * </pre>
 * Backward, from dO: dV = Pᵀ dO, dP = dO Vᵀ, dS = P (dP − rowsum(dP P)), dQ = dS K · scale,
 * dK = dSᵀ Q · scale. Only P is saved (one L×S matrix per batch entry), not the scores.
 *
 * <p>q, k and v are read in place through their strides (a head-split view of a packed q/k/v
 * projection needs no copy): every matrix whose rows or columns are contiguous goes straight to
 * the GEMM kernel. The output, and each input's gradient, is laid out in memory in the order of
 * q's (that input's) dimensions by stride: attention on heads split from a (B, T, H·E) matrix
 * returns a (B, H, T, Ev) tensor stored as (B, T, H, Ev), so merging the heads back is a view.
 * The batch's matrices are spread over the kernel threads, each computed by one thread, so
 * results do not depend on the thread count.
 *
 * <p>Batch dimensions broadcast. A row that every mask blocks gives NaN, as in PyTorch; the
 * causal mask never blocks a whole row. {@link #packed} is the same op on one packed q/k/v
 * projection (self-attention), whose gradient then comes back in one piece.
 */
public final class Attention extends Node {
    /**
     * Work per batch matrix (in multiply-adds) from which the matrices are done one after the
     * other, each GEMM spreading itself over the threads; below it the batch is spread instead
     * (the GEMMs of one matrix are then too small to split).
     */
    private static final long PER_MATRIX_PARALLEL = 1L << 21;

    /**
     * A mask on the scores, broadcast to (…, L, S): a bool/uint8 tensor that blocks the positions
     * where it is true ({@code blockWhereTrue}) or false (PyTorch's {@code attn_mask} convention:
     * true = take part), or a float tensor added to the scores.
     */
    public record Mask(Tensor values, boolean blockWhereTrue) {
        public Mask {
            Objects.requireNonNull(values, "mask");
        }

        /** A bool/uint8 mask whose true entries may be attended (PyTorch's scaled_dot_product_attention). */
        public static Mask allowWhereTrue(Tensor mask) {
            return new Mask(mask, false);
        }

        /** A bool/uint8 mask whose true entries are blocked (MultiheadAttention's attn_mask and key_padding_mask). */
        public static Mask blockWhereTrue(Tensor mask) {
            return new Mask(mask, true);
        }

        /** A float mask added to the scores (−∞ blocks). */
        public static Mask additive(Tensor mask) {
            return new Mask(mask, false);
        }
    }

    private final int[] batch;
    private final int l;
    private final int s;
    private final int e;
    private final int ev;
    private final int heads; // packed form: heads per q/k/v block of the input; 0 for separate q, k, v
    private final float scale;
    private final boolean causal;
    private float[] p; // the probabilities, contiguous (batch…, L, S)

    private Attention(Tensor[] inputs, int[] batch, int l, int s, int e, int ev, int heads, float scale,
            boolean causal, float[] p) {
        super("scaled_dot_product_attention", inputs);
        this.batch = batch;
        this.l = l;
        this.s = s;
        this.e = e;
        this.ev = ev;
        this.heads = heads;
        this.scale = scale;
        this.causal = causal;
        this.p = p;
    }

    /**
     * softmax(q kᵀ · scale + masks) v.
     *
     * @param scale the factor on the scores; NaN for PyTorch's default 1/√E
     * @param causal block key j for query i when j &gt; i (the top-left aligned causal mask)
     * @param masks further masks, applied in order after the scaling
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, boolean causal, double scale, Mask... masks) {
        String op = "scaled_dot_product_attention";
        q.requireType(DType.FLOAT32, op);
        k.requireType(DType.FLOAT32, op);
        v.requireType(DType.FLOAT32, op);
        if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2) {
            throw new IllegalArgumentException(op + ": query, key and value need at least 2 dimensions (…, L, E), "
                    + "(…, S, E), (…, S, Ev); got " + Shape.str(q.shape()) + ", " + Shape.str(k.shape()) + ", "
                    + Shape.str(v.shape()));
        }
        int[] qs = q.shape();
        int[] ks = k.shape();
        int[] vs = v.shape();
        int l = qs[qs.length - 2];
        int e = qs[qs.length - 1];
        int s = ks[ks.length - 2];
        int ev = vs[vs.length - 1];
        if (ks[ks.length - 1] != e || vs[vs.length - 2] != s) {
            throw new IllegalArgumentException(op + ": expected query (…, L, E), key (…, S, E) and value (…, S, Ev);"
                    + " got query " + Shape.str(qs) + ", key " + Shape.str(ks) + ", value " + Shape.str(vs));
        }
        int[] batch;
        try {
            batch = Shape.broadcast(Shape.broadcast(batchOf(qs), batchOf(ks), op), batchOf(vs), op);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(op + ": the batch dimensions of query " + Shape.str(qs) + ", key "
                    + Shape.str(ks) + " and value " + Shape.str(vs) + " do not broadcast", ex);
        }
        int[] scoreShape = withMatrix(batch, l, s);
        for (Mask m : masks) {
            Tensor t = m.values();
            if (!t.dtype().isMask() && t.dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException(op + ": a mask must be bool/uint8 or float32, got "
                        + t.dtype().torchName() + " of shape " + Shape.str(t.shape()));
            }
            if (!Shape.broadcastsTo(t.shape(), scoreShape)) {
                throw new IllegalArgumentException(op + ": the mask of shape " + Shape.str(t.shape())
                        + " cannot be broadcast to the scores' shape (…, L, S) " + Shape.str(scoreShape));
            }
        }
        float sc = (float) (Double.isNaN(scale) ? 1 / Math.sqrt(e) : scale);
        Tensor out = denseLike(withMatrix(batch, l, ev), Arrays.equals(batchOf(qs), batch) ? q.strides() : null);
        MaskReader[] readers = new MaskReader[masks.length];
        for (int i = 0; i < masks.length; i++) {
            readers[i] = new MaskReader(masks[i], scoreShape);
        }
        float[] p = forward(Operand.of(q, batch), Operand.of(k, batch), Operand.of(v, batch), Target.of(out),
                batch, l, s, e, ev, sc, causal, readers);
        return record(op, out, needsGrad(q, k, v)
                ? new Attention(new Tensor[] {q, k, v}, batch, l, s, e, ev, 0, sc, causal, p) : null);
    }

    /**
     * Self-attention on a packed projection, the layout of GPT's {@code c_attn} and of
     * MultiheadAttention's {@code in_proj}: {@code qkv} (…, T, 3·H·D) holds q, k and v one after
     * the other along its last dimension, each split into {@code heads} heads of D features. Returns
     * the heads' outputs merged back, (…, T, H·D): the same numbers as splitting the heads into
     * (…, H, T, D) views and calling {@link #apply}, but with one input, so the gradient of the
     * packed matrix is written in one piece rather than assembled from three slices.
     *
     * @param scale the factor on the scores; NaN for 1/√D
     */
    public static Tensor packed(Tensor qkv, int heads, boolean causal, double scale) {
        String op = "scaled_dot_product_attention";
        qkv.requireType(DType.FLOAT32, op);
        int r = qkv.dim();
        if (r < 2 || heads <= 0 || qkv.size(-1) % (3 * heads) != 0) {
            throw new IllegalArgumentException(op + ": expected a packed q/k/v projection (…, T, 3·" + heads
                    + "·D), got " + Shape.str(qkv.shape()));
        }
        int[] shape = qkv.shape();
        int t = shape[r - 2];
        int d = shape[r - 1] / (3 * heads);
        int[] batch = Arrays.copyOf(shape, r - 1);
        batch[r - 2] = heads; // (…, H)
        float sc = (float) (Double.isNaN(scale) ? 1 / Math.sqrt(d) : scale);
        int[] outShape = Arrays.copyOf(shape, r);
        outShape[r - 1] = heads * d;
        Tensor out = Tensor.zeros(outShape);
        float[] p = forward(Operand.of(headView(qkv, heads, d, 0), batch), Operand.of(headView(qkv, heads, d, 1), batch),
                Operand.of(headView(qkv, heads, d, 2), batch), Target.of(headView(out, heads, d, 0)), batch, t, t, d, d,
                sc, causal, new MaskReader[0]);
        return record(op, out, needsGrad(qkv)
                ? new Attention(new Tensor[] {qkv}, batch, t, t, d, d, heads, sc, causal, p) : null);
    }

    /**
     * Block {@code block} of a (…, T, n·H·D) tensor seen as (…, H, T, D) heads, without autograd
     * (a plain strided view of the same storage).
     */
    private static Tensor headView(Tensor x, int heads, int d, int block) {
        int r = x.dim();
        int[] sh = x.shape();
        int[] st = x.strides();
        int[] shape = Arrays.copyOf(sh, r + 1);
        int[] strides = Arrays.copyOf(st, r + 1);
        shape[r - 2] = heads;
        strides[r - 2] = d * st[r - 1];
        shape[r - 1] = sh[r - 2];
        strides[r - 1] = st[r - 2];
        shape[r] = d;
        strides[r] = st[r - 1];
        return x.asStrided(shape, strides, x.offset() + block * heads * d * st[r - 1]);
    }

    /** The forward pass over every matrix of the batch into {@code out}; returns P. */
    private static float[] forward(Operand qo, Operand ko, Operand vo, Target out, int[] batch, int l, int s, int e,
            int ev, float sc, boolean causal, MaskReader[] readers) {
        int count = Shape.numel(batch);
        float[] p = new float[count * l * s];
        Kernels kernels = Kernels.get();
        long work = (long) l * s * (e + ev);
        Kernels.parallelFor(count, work >= PER_MATRIX_PARALLEL ? Integer.MAX_VALUE : 1, (from, to) -> {
            int[] idx = new int[batch.length];
            for (int t = from; t < to; t++) {
                unravel(t, batch, idx);
                int pOff = t * l * s;
                kernels.gemm(qo.trans, !ko.trans, l, s, e, qo.data, qo.offset(idx), qo.ld, ko.data, ko.offset(idx),
                        ko.ld, p, pOff, s, false);
                for (int i = 0; i < l; i++) {
                    int row = pOff + i * s;
                    int n = causal ? Math.min(i + 1, s) : s;
                    if (readers.length == 0) {
                        kernels.softmax(sc, p, row, p, row, n);
                    } else {
                        for (int j = 0; j < n; j++) {
                            p[row + j] *= sc;
                        }
                        for (MaskReader r : readers) {
                            r.apply(idx, i, p, row, n);
                        }
                        kernels.softmax(1f, p, row, p, row, n);
                    }
                    if (n < s) {
                        Arrays.fill(p, row + n, row + s, 0f);
                    }
                }
                kernels.gemm(false, vo.trans, l, ev, s, p, pOff, s, vo.data, vo.offset(idx), vo.ld,
                        out.data, out.offset(idx), out.ld, false);
            }
        });
        return p;
    }

    @Override
    protected Tensor[] backward(Tensor dOut) {
        if (heads > 0) { // packed: one gradient, (…, T, 3·H·D), its q, k and v blocks written in place
            Tensor qkv = input(0);
            Tensor grad = Tensor.zeros(qkv.shape());
            backward(Operand.of(headView(qkv, heads, e, 0), batch), Operand.of(headView(qkv, heads, e, 1), batch),
                    Operand.of(headView(qkv, heads, e, 2), batch), Operand.of(headView(dOut, heads, e, 0), batch),
                    Target.of(headView(grad, heads, e, 0)), Target.of(headView(grad, heads, e, 1)),
                    Target.of(headView(grad, heads, e, 2)));
            return new Tensor[] {grad};
        }
        Tensor q = input(0);
        Tensor k = input(1);
        Tensor v = input(2);
        Tensor dq = needsInputGrad(0) ? gradientLike(q, l, e) : null;
        Tensor dk = needsInputGrad(1) ? gradientLike(k, s, e) : null;
        Tensor dv = needsInputGrad(2) ? gradientLike(v, s, ev) : null;
        backward(Operand.of(q, batch), Operand.of(k, batch), Operand.of(v, batch), Operand.of(dOut, batch),
                dq == null ? null : Target.of(dq), dk == null ? null : Target.of(dk), dv == null ? null : Target.of(dv));
        return new Tensor[] {reduced(dq, q), reduced(dk, k), reduced(dv, v)};
    }

    /**
     * Where an input's gradient is computed: a (batch…, rows, cols) tensor in that input's memory
     * order when its batch shape is the whole batch, else row-major (summed down by {@link #reduced}).
     */
    private Tensor gradientLike(Tensor input, int rows, int cols) {
        int[] full = withMatrix(batch, rows, cols);
        return denseLike(full, Arrays.equals(input.shape(), full) ? input.strides() : null);
    }

    /** The gradient summed over the batch dimensions that {@code input} broadcast (null stays null). */
    private static Tensor reduced(Tensor grad, Tensor input) {
        return grad == null || Arrays.equals(grad.shape(), input.shape()) ? grad : Sum.toShape(grad, input.shape());
    }

    /** The backward pass over every matrix of the batch into the targets that are not null. */
    private void backward(Operand qo, Operand ko, Operand vo, Operand go, Target dq, Target dk, Target dv) {
        float[] pv = p;
        Kernels kernels = Kernels.get();
        int count = Shape.numel(batch);
        long work = (long) l * s * (e + ev);
        Kernels.parallelFor(count, work >= PER_MATRIX_PARALLEL ? Integer.MAX_VALUE : 1, (from, to) -> {
            int[] idx = new int[batch.length];
            float[] ds = dq != null || dk != null ? new float[l * s] : null;
            for (int t = from; t < to; t++) {
                unravel(t, batch, idx);
                int pOff = t * l * s;
                int gOff = go.offset(idx);
                if (dv != null) { // dV = Pᵀ dO
                    kernels.gemm(true, go.trans, s, ev, l, pv, pOff, s, go.data, gOff, go.ld,
                            dv.data, dv.offset(idx), dv.ld, false);
                }
                if (ds == null) {
                    continue;
                }
                // dP = dO Vᵀ, then dS = P (dP − rowsum(dP P)) · scale, row by row
                kernels.gemm(go.trans, !vo.trans, l, s, ev, go.data, gOff, go.ld, vo.data, vo.offset(idx), vo.ld,
                        ds, 0, s, false);
                for (int i = 0; i < l; i++) {
                    int n = causal ? Math.min(i + 1, s) : s;
                    kernels.softmaxBackward(scale, pv, pOff + i * s, ds, i * s, ds, i * s, n);
                    if (n < s) {
                        Arrays.fill(ds, i * s + n, (i + 1) * s, 0f);
                    }
                }
                if (dq != null) { // dQ = dS K
                    kernels.gemm(false, ko.trans, l, e, s, ds, 0, s, ko.data, ko.offset(idx), ko.ld,
                            dq.data, dq.offset(idx), dq.ld, false);
                }
                if (dk != null) { // dK = dSᵀ Q
                    kernels.gemm(true, qo.trans, s, e, l, ds, 0, s, qo.data, qo.offset(idx), qo.ld,
                            dk.data, dk.offset(idx), dk.ld, false);
                }
            }
        });
    }

    @Override
    protected void release() {
        p = null;
    }

    // ------------------------------------------------------------------ layout helpers

    private static int[] batchOf(int[] shape) {
        return Arrays.copyOf(shape, shape.length - 2);
    }

    private static int[] withMatrix(int[] batch, int rows, int cols) {
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = rows;
        out[batch.length + 1] = cols;
        return out;
    }

    /** The multi-index of flat batch entry t (row-major). */
    private static void unravel(int t, int[] batch, int[] idx) {
        for (int i = batch.length - 1; i >= 0; i--) {
            idx[i] = t % batch[i];
            t /= batch[i];
        }
    }

    private static int offset(int[] strides, int[] idx) {
        int off = 0;
        for (int i = 0; i < idx.length; i++) {
            off += idx[i] * strides[i];
        }
        return off;
    }

    /**
     * A new zero tensor of {@code shape} stored densely in the order of {@code like}'s strides
     * (the outer dimensions by decreasing stride, the last dimension innermost), or row-major
     * when {@code like} is null, has a zero stride, or its last dimension is not contiguous.
     */
    static Tensor denseLike(int[] shape, int[] like) {
        int r = shape.length;
        float[] data = new float[Shape.numel(shape)];
        boolean usable = like != null && like.length == r && (like[r - 1] == 1 || shape[r - 1] == 1);
        for (int i = 0; usable && i < r; i++) {
            usable = like[i] != 0 || shape[i] == 1;
        }
        if (!usable) {
            return Tensor.of(data, shape);
        }
        Integer[] order = new Integer[r - 1];
        for (int i = 0; i < r - 1; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(like[b], like[a])); // stable: ties keep their order
        int[] strides = new int[r];
        int stride = shape[r - 1];
        strides[r - 1] = 1;
        for (int i = r - 2; i >= 0; i--) {
            strides[order[i]] = stride;
            stride *= shape[order[i]];
        }
        return Tensor.of(data, data.length).asStrided(shape, strides, 0);
    }

    /**
     * The matrices of a (…, rows, cols) tensor as the GEMM kernel reads them: row-major with
     * leading dimension {@code ld}, or stored transposed ({@code trans}: element (i, j) at
     * {@code j * ld + i}); a copy only when neither rows nor columns are contiguous.
     */
    private record Operand(float[] data, int base, int[] batchStrides, int ld, boolean trans) {
        static Operand of(Tensor t, int[] batch) {
            int r = t.dim();
            int[] sh = t.shape();
            int[] st = t.strides();
            int rows = sh[r - 2];
            int cols = sh[r - 1];
            Tensor src = t;
            boolean trans;
            int ld;
            if (st[r - 1] == 1 || cols == 1) {
                trans = false;
                ld = rows == 1 ? cols : st[r - 2];
            } else if (st[r - 2] == 1 || rows == 1) {
                trans = true;
                ld = st[r - 1];
            } else {
                src = t.detach().contiguous();
                st = src.strides();
                trans = false;
                ld = cols;
            }
            int[] bs = Shape.broadcastStrides(batchOf(sh), Arrays.copyOf(st, r - 2), batch);
            return new Operand(src.floatStorage(), src.offset(), bs, ld, trans);
        }

        int offset(int[] idx) {
            return base + Attention.offset(batchStrides, idx);
        }
    }

    /**
     * Where the matrices of a result are written: a dense tensor whose last dimension is
     * contiguous, (i, j) of batch entry idx at {@code data[offset(idx) + i * ld + j]}.
     */
    private record Target(float[] data, int base, int[] batchStrides, int ld) {
        static Target of(Tensor t) {
            int[] st = t.strides();
            return new Target(t.floatStorage(), t.offset(), Arrays.copyOf(st, st.length - 2), st[st.length - 2]);
        }

        int offset(int[] idx) {
            return base + Attention.offset(batchStrides, idx);
        }
    }

    /** Reads one mask through its strides, broadcast to the scores' shape. */
    private static final class MaskReader {
        private final boolean[] bools;
        private final byte[] bytes;
        private final float[] floats;
        private final boolean blockWhereTrue;
        private final int base;
        private final int[] batchStrides;
        private final int rowStride;
        private final int colStride;

        MaskReader(Mask m, int[] scoreShape) {
            Tensor t = m.values();
            int r = scoreShape.length;
            int[] st = Shape.broadcastStrides(t.shape(), t.strides(), scoreShape);
            bools = t.dtype() == DType.BOOL ? t.boolStorage() : null;
            bytes = t.dtype() == DType.UINT8 ? t.byteStorage() : null;
            floats = t.dtype() == DType.FLOAT32 ? t.floatStorage() : null;
            blockWhereTrue = m.blockWhereTrue();
            base = t.offset();
            batchStrides = Arrays.copyOf(st, r - 2);
            rowStride = st[r - 2];
            colStride = st[r - 1];
        }

        /** Applies the mask to the first n scores of row i of batch entry idx, at p[row ..]. */
        void apply(int[] idx, int i, float[] p, int row, int n) {
            int at = base + Attention.offset(batchStrides, idx) + i * rowStride;
            if (floats != null) {
                for (int j = 0; j < n; j++) {
                    p[row + j] += floats[at + j * colStride];
                }
            } else if (bools != null) {
                for (int j = 0; j < n; j++) {
                    if (bools[at + j * colStride] == blockWhereTrue) {
                        p[row + j] = Float.NEGATIVE_INFINITY;
                    }
                }
            } else {
                for (int j = 0; j < n; j++) {
                    if ((bytes[at + j * colStride] != 0) == blockWhereTrue) {
                        p[row + j] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
    }
}
