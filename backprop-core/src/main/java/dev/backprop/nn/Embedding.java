package dev.backprop.nn;

import dev.backprop.autograd.GradMode;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;

/**
 * A lookup table (num_embeddings, embedding_dim), as {@code torch.nn.Embedding}: weight ~ N(0, 1),
 * the padding row (if any) zero and never updated by gradients.
 */
public class Embedding extends Module {
    private final int numEmbeddings;
    private final int embeddingDim;
    private final long paddingIdx;
    private final Tensor weight;

    public Embedding(int numEmbeddings, int embeddingDim) {
        this(numEmbeddings, embeddingDim, NO_PADDING);
    }

    /**
     * @param paddingIdx a row kept at zero and never trained (negative counts from the end), or
     *     {@link #NO_PADDING}
     */
    public Embedding(int numEmbeddings, int embeddingDim, long paddingIdx) {
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        if (paddingIdx != NO_PADDING && (paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings)) {
            throw new IllegalArgumentException("Embedding: padding_idx " + paddingIdx + " must be within num_embeddings "
                    + numEmbeddings);
        }
        this.paddingIdx = paddingIdx == NO_PADDING ? NO_PADDING : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
        this.weight = registerParameter("weight", Tensor.zeros(numEmbeddings, embeddingDim));
        Init.normal(weight, 0, 1);
        if (this.paddingIdx != NO_PADDING) {
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                weight.select(0, (int) this.paddingIdx).fill(0f);
            }
        }
    }

    /** Marks "no padding row" (PyTorch's padding_idx=None). */
    public static final long NO_PADDING = Long.MIN_VALUE;

    @Override
    protected Tensor compute(Tensor indices) {
        checkInput(indices.dtype() == DType.INT64, "int64 indices in [0, " + numEmbeddings + ")", indices);
        return F.embedding(indices, weight, paddingIdx == NO_PADDING ? -1 : paddingIdx);
    }

    public Tensor weight() {
        return weight;
    }

    public int numEmbeddings() {
        return numEmbeddings;
    }

    public int embeddingDim() {
        return embeddingDim;
    }

    @Override
    protected String extraRepr() {
        return numEmbeddings + ", " + embeddingDim + (paddingIdx == NO_PADDING ? "" : ", padding_idx=" + paddingIdx);
    }
}
