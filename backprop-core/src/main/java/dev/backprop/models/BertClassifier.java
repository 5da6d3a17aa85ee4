package dev.backprop.models;

import dev.backprop.nn.Dropout;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;

/**
 * A sentence classifier on a (pre-trained) BERT encoder: a new linear head on the mean of the
 * real tokens' last hidden states, as sentence-transformers pool them:
 * <pre>
 *   h      = bert(ids, mask = ids != padId)          (B, T, H)
 *   logits = head(dropout(meanPool(h, mask)))        (B, numClasses)
 * </pre>
 * Keys: {@code bert.*} (the encoder's HuggingFace names), {@code head.weight}, {@code head.bias}.
 * The padding id marks padding wherever it is, so a text's logits do not depend on its batch.
 */
public final class BertClassifier extends Module {
    private final Bert bert;
    private final Dropout dropout;
    private final Linear head;
    private final int padId;

    /**
     * @param bert the encoder (its weights are used as they are: load them before or after)
     * @param numClasses the number of classes
     * @param padId the padding id of the tokenizer
     * @param dropout dropout on the pooled vector, in training
     */
    public BertClassifier(Bert bert, int numClasses, int padId, float dropout) {
        if (numClasses <= 0) {
            throw new IllegalArgumentException("BertClassifier: numClasses must be positive, got " + numClasses);
        }
        this.bert = registerModule("bert", bert);
        this.dropout = registerModule("dropout", new Dropout(dropout));
        this.head = registerModule("head", new Linear(bert.config().hiddenSize(), numClasses));
        this.padId = padId;
    }

    /** (B, T) int64 ids, padded with the pad id, to (B, numClasses) logits. */
    @Override
    protected Tensor compute(Tensor ids) {
        checkInput(ids.dim() == 2 && ids.dtype() == DType.INT64, "(B, T) int64 token ids", ids);
        long[] v = ids.contiguous().toLongArray();
        float[] m = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            m[i] = v[i] == padId ? 0f : 1f;
        }
        Tensor mask = Tensor.of(m, ids.shape());
        return head.forward(dropout.forward(Bert.meanPool(bert.encode(ids, mask), mask)));
    }

    /** The encoder. */
    public Bert bert() {
        return bert;
    }

    /** The classification head. */
    public Linear head() {
        return head;
    }

    /** The padding id. */
    public int padId() {
        return padId;
    }
}
