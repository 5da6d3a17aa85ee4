package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * y = a @ b with {@code torch.matmul}'s rules. The core is the batched product of (..., m, k) and
 * (..., k, n) with broadcast batch dimensions; 1-D operands are lifted to matrices by reshapes,
 * whose own backward undoes the lift.
 * <p>da = dy @ bᵀ, summed over batch dims that a broadcast;  db = aᵀ @ dy, likewise.
 * <p>An operand whose last two dims are a transposed contiguous matrix (such as {@code w.t()}) is
 * read in place by the GEMM kernel, without a copy.
 */
public final class MatMul extends Node {

    private MatMul(Tensor a, Tensor b) {
        super("matmul", a, b);
    }

    public static Tensor apply(Tensor a, Tensor b) {
        a.requireType(DType.FLOAT32, "matmul");
        b.requireType(DType.FLOAT32, "matmul");
        if (a.dim() == 0 || b.dim() == 0) {
            throw new IllegalArgumentException("matmul: both arguments need at least 1 dimension, got "
                    + Shape.str(a.shape()) + " and " + Shape.str(b.shape()) + "; use mul for scalars");
        }
        if (a.dim() == 1 && b.dim() == 1) {
            checkInner(a.shape(), b.shape(), a.size(0), b.size(0));
            return apply(a.unsqueeze(0), b.unsqueeze(1)).reshape();
        }
        if (a.dim() == 1) {
            return apply(a.unsqueeze(0), b).squeeze(-2);
        }
        if (b.dim() == 1) {
            return apply(a, b.unsqueeze(1)).squeeze(-1);
        }
        if (b.dim() == 2 && a.dim() > 2 && a.size(-1) > 0 && a.numel() > 0) {
            // (*, m, k) times (k, n) is one (rows × k)·(k × n) product: one GEMM instead of one per
            // batch index, and db = aᵀ·dy in one GEMM instead of a per-batch buffer summed afterwards
            int k = a.size(-1);
            checkInner(a.shape(), b.shape(), k, b.size(0));
            int[] outShape = a.shape().clone();
            outShape[outShape.length - 1] = b.size(1);
            return apply(a.reshape(-1, k), b).reshape(outShape);
        }
        int[] as = a.shape();
        int[] bs = b.shape();
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int n = bs[bs.length - 1];
        checkInner(as, bs, k, bs[bs.length - 2]);
        int[] batch = Shape.broadcast(Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2), "matmul");
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        float[] out = new float[Shape.numel(outShape)];
        multiply(a, b, false, false, batch, out);
        Tensor y = Tensor.of(out, outShape);
        return record("matmul", y, needsGrad(a, b) ? new MatMul(a, b) : null);
    }

    private static void checkInner(int[] as, int[] bs, int ka, int kb) {
        if (ka != kb) {
            throw new IllegalArgumentException("matmul: shapes " + Shape.str(as) + " and " + Shape.str(bs)
                    + " cannot be multiplied: the inner dimensions " + ka + " and " + kb + " differ");
        }
    }

    /**
     * out[batch] = op(a[batch]) · op(b[batch]) for every index of the broadcast batch shape, where
     * op transposes the last two dims when the flag is set.
     */
    static void multiply(Tensor a, Tensor b, boolean transA, boolean transB, int[] batch, float[] out) {
        Operand pa = Operand.of(a, transA);
        Operand pb = Operand.of(b, transB);
        int m = pa.rows;
        int k = pa.cols;
        int n = pb.cols;
        int batches = Shape.numel(batch);
        int[] sa = Shape.broadcastStrides(pa.batchShape, pa.batchStrides, batch);
        int[] sb = Shape.broadcastStrides(pb.batchShape, pb.batchStrides, batch);
        int[] idx = new int[batch.length];
        Kernels kernels = Kernels.get();
        for (int t = 0; t < batches; t++) {
            int offA = pa.offset;
            int offB = pb.offset;
            for (int i = 0; i < batch.length; i++) {
                offA += idx[i] * sa[i];
                offB += idx[i] * sb[i];
            }
            kernels.gemm(pa.transposed, pb.transposed, m, n, k, pa.data, offA, pa.ld, pb.data, offB, pb.ld,
                    out, t * m * n, n, false);
            for (int i = batch.length - 1; i >= 0; i--) {
                if (++idx[i] < batch[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }

    /**
     * A batch of matrices as the GEMM kernel reads it: row-major with leading dimension {@code ld},
     * or stored transposed. {@code rows × cols} is the logical (op-applied) matrix size.
     */
    private record Operand(float[] data, int offset, int[] batchShape, int[] batchStrides, int rows, int cols,
            int ld, boolean transposed) {

        static Operand of(Tensor t, boolean transpose) {
            int r = t.dim();
            int[] s = t.shape();
            int[] st = t.strides();
            int rows = s[r - 2];
            int cols = s[r - 1];
            Tensor src = t;
            boolean stored; // true when the matrices are stored transposed (column-major), as in w.t()
            int ld;
            if (st[r - 1] == 1 || cols == 1) {
                stored = false; // (i, j) at i * ld + j; ld may be 0 for a broadcast row
                ld = rows == 1 ? cols : st[r - 2];
            } else if (st[r - 2] == 1 || rows == 1) {
                stored = true; // (i, j) at j * ld + i
                ld = st[r - 1];
            } else {
                src = t.detach().contiguous();
                st = src.strides();
                stored = false;
                ld = cols;
            }
            return new Operand(src.floatStorage(), src.offset(), Arrays.copyOf(s, r - 2), Arrays.copyOf(st, r - 2),
                    transpose ? cols : rows, transpose ? rows : cols, ld, stored ^ transpose);
        }
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor a = input(0);
        Tensor b = input(1);
        int[] as = a.shape();
        int[] bs = b.shape();
        int[] ds = dy.shape();
        int[] batch = Arrays.copyOf(ds, ds.length - 2);
        Tensor da = null;
        Tensor db = null;
        if (needsInputGrad(0)) {
            int[] shape = withMatrix(batch, as[as.length - 2], as[as.length - 1]);
            float[] g = new float[Shape.numel(shape)];
            multiply(dy, b, false, true, batch, g); // dy @ bᵀ
            da = Sum.toShape(Tensor.of(g, shape), as);
        }
        if (needsInputGrad(1)) {
            int[] shape = withMatrix(batch, bs[bs.length - 2], bs[bs.length - 1]);
            float[] g = new float[Shape.numel(shape)];
            multiply(a, dy, true, false, batch, g); // aᵀ @ dy
            db = Sum.toShape(Tensor.of(g, shape), bs);
        }
        return new Tensor[] {da, db};
    }

    private static int[] withMatrix(int[] batch, int rows, int cols) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = rows;
        s[batch.length + 1] = cols;
        return s;
    }
}
