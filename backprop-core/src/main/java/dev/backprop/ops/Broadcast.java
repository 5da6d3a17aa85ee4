package dev.backprop.ops;

import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Walks the elements of an output shape together with the matching positions of up to three
 * broadcast inputs, one innermost row at a time: the row callback gets the storage position and
 * stride of each input, so the loop body stays a plain counted loop.
 */
final class Broadcast {
    private Broadcast() {}

    /** Called once per innermost row of the output (positions in each operand's storage). */
    interface RowVisitor {
        void row(int outPos, int n, int aPos, int aStride, int bPos, int bStride, int cPos, int cStride);
    }

    /**
     * Visits the contiguous output of shape {@code out} with operands read through strides already
     * broadcast to {@code out} (pass null for unused operands).
     */
    static void forEachRow(int[] out, Tensor a, Tensor b, Tensor c, RowVisitor visitor) {
        int rank = out.length;
        int[] sa = strides(a, out);
        int[] sb = strides(b, out);
        int[] sc = strides(c, out);
        int pa = a == null ? 0 : a.offset();
        int pb = b == null ? 0 : b.offset();
        int pc = c == null ? 0 : c.offset();
        if (Shape.numel(out) == 0) {
            return;
        }
        if (rank == 0) {
            visitor.row(0, 1, pa, 0, pb, 0, pc, 0);
            return;
        }
        int inner = out[rank - 1];
        int[] idx = new int[rank];
        int po = 0;
        while (true) {
            visitor.row(po, inner, pa, sa[rank - 1], pb, sb[rank - 1], pc, sc[rank - 1]);
            po += inner;
            int k = rank - 2;
            for (; k >= 0; k--) {
                idx[k]++;
                pa += sa[k];
                pb += sb[k];
                pc += sc[k];
                if (idx[k] < out[k]) {
                    break;
                }
                pa -= sa[k] * out[k];
                pb -= sb[k] * out[k];
                pc -= sc[k] * out[k];
                idx[k] = 0;
            }
            if (k < 0) {
                return;
            }
        }
    }

    private static int[] strides(Tensor t, int[] out) {
        return t == null ? new int[out.length] : Shape.broadcastStrides(t.shape(), t.strides(), out);
    }
}
