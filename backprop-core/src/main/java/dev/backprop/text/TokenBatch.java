package dev.backprop.text;

import dev.backprop.tensor.Tensor;

/**
 * A batch of B token sequences padded to one length T, made by {@link Padding#batch}: the ids,
 * which positions are real tokens, and the length of each sequence.
 *
 * <p>The tensors are created on each call and do not share storage with this object.
 */
public final class TokenBatch {
    private final long[] ids; // (B, T)
    private final float[] mask; // (B, T): 1 real, 0 padding
    private final int[] lengths; // (B)
    private final int length; // T
    private final int truncated;
    private final boolean leftPadded;

    TokenBatch(long[] ids, float[] mask, int[] lengths, int length, int truncated, boolean leftPadded) {
        this.ids = ids;
        this.mask = mask;
        this.lengths = lengths;
        this.length = length;
        this.truncated = truncated;
        this.leftPadded = leftPadded;
    }

    /** The number of sequences, B. */
    public int batchSize() {
        return lengths.length;
    }

    /** The padded length, T. */
    public int length() {
        return length;
    }

    /** The ids, (B, T) int64, padding included. */
    public Tensor ids() {
        return Tensor.ofLongs(ids.clone(), lengths.length, length);
    }

    /** The attention mask, (B, T) float32: 1 for real tokens (bos and eos included), 0 for padding. */
    public Tensor mask() {
        return Tensor.of(mask.clone(), lengths.length, length);
    }

    /**
     * The padding mask, (B, T) bool: true for padding, as
     * {@link dev.backprop.nn.MultiheadAttention}'s {@code keyPaddingMask} expects.
     */
    public Tensor paddingMask() {
        boolean[] pad = new boolean[mask.length];
        for (int i = 0; i < pad.length; i++) {
            pad[i] = mask[i] == 0f;
        }
        return Tensor.ofBools(pad, lengths.length, length);
    }

    /** The number of real tokens of each sequence, bos and eos included. */
    public int[] lengths() {
        return lengths.clone();
    }

    /** The lengths as a (B) int64 tensor. */
    public Tensor lengthsTensor() {
        long[] l = new long[lengths.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = lengths[i];
        }
        return Tensor.ofLongs(l, l.length);
    }

    /** How many sequences were cut to fit the maximum length (0 without one). */
    public int truncated() {
        return truncated;
    }

    /** The ids of row {@code i} without its padding. */
    public int[] row(int i) {
        int start = i * length + (leftPadded ? length - lengths[i] : 0);
        int[] out = new int[lengths[i]];
        for (int j = 0; j < out.length; j++) {
            out[j] = (int) ids[start + j];
        }
        return out;
    }

    @Override
    public String toString() {
        return "TokenBatch(" + lengths.length + " x " + length + ", " + truncated + " truncated)";
    }
}
