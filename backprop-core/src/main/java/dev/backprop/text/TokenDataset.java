package dev.backprop.text;

import dev.backprop.data.Batch;
import dev.backprop.data.DataLoader;
import dev.backprop.data.Dataset;
import dev.backprop.data.Datasets;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Token sequences with one class label each, for text classification: a {@link Dataset} whose
 * batches are padded to their own longest sequence, so a batch of short texts stays short.
 *
 * <pre>{@code
 * TokenDataset data = TokenDataset.encode(tok, texts, labels, 64);   // at most 64 tokens a text
 * Batch b = data.get(new int[] {0, 1, 2});   // inputs (3, T) int64 ids padded with tok.padId(), targets (3) int64
 * data.truncated();                          // texts cut to 64 tokens
 * }</pre>
 *
 * <p>Immutable, so safe to read from a {@link dev.backprop.data.DataLoader}'s prefetch thread.
 */
public final class TokenDataset implements Dataset {
    private final int[][] sequences;
    private final int[] labels;
    private final int padId;
    private final int maxLength;
    private final int truncated;

    private TokenDataset(int[][] sequences, int[] labels, int padId, int maxLength, int truncated) {
        this.sequences = sequences;
        this.labels = labels;
        this.padId = padId;
        this.maxLength = maxLength;
        this.truncated = truncated;
    }

    /**
     * Sequences of ids with their labels; sequences longer than {@code maxLength} keep their first
     * {@code maxLength} ids and are counted in {@link #truncated()}.
     *
     * @throws IllegalArgumentException if the counts differ, the pad id is negative, the maximum
     *     length is not positive, or a sequence is empty (naming it)
     */
    public static TokenDataset of(List<int[]> sequences, int[] labels, int padId, int maxLength) {
        Objects.requireNonNull(sequences, "sequences");
        Objects.requireNonNull(labels, "labels");
        if (sequences.size() != labels.length) {
            throw new IllegalArgumentException("expected one label per sequence, got " + sequences.size()
                    + " sequences and " + labels.length + " labels");
        }
        if (padId < 0) {
            throw new IllegalArgumentException("the pad id must be at least 0, got " + padId + " (a tokenizer without"
                    + " a pad token has padId() -1: give it SpecialTokens with a pad token)");
        }
        if (maxLength <= 0) {
            throw new IllegalArgumentException("maxLength must be positive, got " + maxLength);
        }
        int[][] seqs = new int[sequences.size()][];
        int cut = 0;
        for (int i = 0; i < seqs.length; i++) {
            int[] s = sequences.get(i);
            if (s.length == 0) {
                throw new IllegalArgumentException("sequence " + i + " is empty; expected at least one token (leave "
                        + "out empty texts before encoding)");
            }
            if (s.length > maxLength) {
                cut++;
            }
            seqs[i] = Arrays.copyOf(s, Math.min(s.length, maxLength));
        }
        return new TokenDataset(seqs, labels.clone(), padId, maxLength, cut);
    }

    /**
     * Encodes texts with a tokenizer (see {@link #of}).
     *
     * @throws IllegalArgumentException if a text encodes to no tokens (naming it), or as {@link #of}
     */
    public static TokenDataset encode(Tokenizer tokenizer, List<String> texts, int[] labels, int maxLength) {
        List<int[]> seqs = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            int[] ids = tokenizer.encode(texts.get(i));
            if (ids.length == 0) {
                throw new IllegalArgumentException("text " + i + " (\"" + texts.get(i) + "\") has no tokens; expected"
                        + " a non-empty text");
            }
            seqs.add(ids);
        }
        return of(seqs, labels, tokenizer.padId(), maxLength);
    }

    /**
     * An epoch order for a {@link dev.backprop.data.DataLoader} that puts texts of similar lengths
     * into the same batches, so that batches carry little padding: the examples are shuffled, cut
     * into pools of {@code poolBatches} batches, each pool sorted by length and cut into batches,
     * and the batches shuffled (a last smaller batch stays last). Random every epoch and
     * deterministic for a seed, as a shuffle is.
     *
     * <pre>{@code
     * DataLoader.builder(data).batchSize(64).seed(42).order(data.bucketed(50)).build();
     * }</pre>
     *
     * @throws IllegalArgumentException if {@code poolBatches} is not positive
     */
    public DataLoader.Order bucketed(int poolBatches) {
        if (poolBatches <= 0) {
            throw new IllegalArgumentException("poolBatches must be positive, got " + poolBatches);
        }
        return (size, batchSize, epoch, gen) -> {
            int[] perm = Datasets.permutation(size, gen);
            int pool = (int) Math.min(size, (long) batchSize * poolBatches);
            Integer[] boxed = new Integer[size];
            for (int i = 0; i < size; i++) {
                boxed[i] = perm[i];
            }
            for (int from = 0; from < size; from += pool) { // stable: equal lengths keep their shuffled order
                Arrays.sort(boxed, from, Math.min(size, from + pool),
                        (a, b) -> Integer.compare(sequences[a].length, sequences[b].length));
            }
            int full = size / batchSize;
            int[] batchOrder = Datasets.permutation(full, gen);
            int[] out = new int[size];
            int at = 0;
            for (int b : batchOrder) {
                for (int j = 0; j < batchSize; j++) {
                    out[at++] = boxed[b * batchSize + j];
                }
            }
            for (int i = full * batchSize; i < size; i++) {
                out[at++] = boxed[i];
            }
            return out;
        };
    }

    @Override
    public int size() {
        return sequences.length;
    }

    /** Inputs (N, T) int64, padded on the right with the pad id to the longest of these sequences; targets (N) int64. */
    @Override
    public Batch get(int[] indices) {
        int t = 1;
        for (int i : indices) {
            Objects.checkIndex(i, sequences.length);
            t = Math.max(t, sequences[i].length);
        }
        long[] ids = new long[indices.length * t];
        long[] targets = new long[indices.length];
        Arrays.fill(ids, padId);
        for (int r = 0; r < indices.length; r++) {
            int[] s = sequences[indices[r]];
            for (int j = 0; j < s.length; j++) {
                ids[r * t + j] = s[j];
            }
            targets[r] = labels[indices[r]];
        }
        return Batch.of(Tensor.ofLongs(ids, indices.length, t), Tensor.ofLongs(targets, indices.length));
    }

    /** {@code [maxLength]}: the longest a batch can be. */
    @Override
    public int[] inputShape() {
        return new int[] {maxLength};
    }

    /** The ids of sequence i (after truncation). */
    public int[] sequence(int i) {
        return sequences[i].clone();
    }

    /** The label of sequence i. */
    public int label(int i) {
        return labels[i];
    }

    /** The padding id. */
    public int padId() {
        return padId;
    }

    /** The maximum sequence length. */
    public int maxLength() {
        return maxLength;
    }

    /** How many sequences were longer than {@link #maxLength()} and were cut. */
    public int truncated() {
        return truncated;
    }

    @Override
    public String toString() {
        return "TokenDataset(" + sequences.length + " sequences, max length " + maxLength + ", " + truncated
                + " truncated)";
    }
}
