package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * y[..., :] = W[index[...], :];  dW[r] = sum of dy rows whose index is r (repeats accumulate),
 * except the padding row, whose gradient stays 0 as in PyTorch.
 */
public final class EmbeddingLookup extends Node {
    private final long[] index;
    private final long paddingIdx;

    private EmbeddingLookup(Tensor weight, long[] index, long paddingIdx) {
        super("embedding", weight);
        this.index = index;
        this.paddingIdx = paddingIdx;
    }

    /**
     * @param weight (V, D) table
     * @param indices int64 of any shape, values in [0, V)
     * @param paddingIdx a row that gets no gradient, or -1 for none
     */
    public static Tensor apply(Tensor weight, Tensor indices, long paddingIdx) {
        weight.requireType(DType.FLOAT32, "embedding");
        indices.requireType(DType.INT64, "embedding (indices)");
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("embedding: the weight must be (num_embeddings, embedding_dim), got "
                    + Shape.str(weight.shape()));
        }
        int v = weight.size(0);
        int d = weight.size(1);
        long[] idx = indices.toLongArray();
        Gather.checkRange(idx, v, "embedding", 0);
        Tensor w = weight.detach().contiguous();
        float[] wv = w.floatStorage();
        float[] out = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(wv, w.offset() + (int) idx[i] * d, out, i * d, d);
        }
        int[] is = indices.shape();
        int[] shape = java.util.Arrays.copyOf(is, is.length + 1);
        shape[is.length] = d;
        return record("embedding", Tensor.of(out, shape), needsGrad(weight) ? new EmbeddingLookup(weight, idx,
                paddingIdx) : null);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        int[] ws = input(0).shape();
        int d = ws[1];
        float[] g = dy.toFloatArray();
        float[] dw = new float[ws[0] * d];
        for (int i = 0; i < index.length; i++) {
            int row = (int) index[i];
            if (row == paddingIdx) {
                continue;
            }
            int src = i * d;
            int dst = row * d;
            for (int k = 0; k < d; k++) {
                dw[dst + k] += g[src + k];
            }
        }
        return new Tensor[] {Tensor.of(dw, ws)};
    }
}
