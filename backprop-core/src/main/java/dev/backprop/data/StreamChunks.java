package dev.backprop.data;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.Objects;

/**
 * A token sequence cut into {@code S} parallel streams and each stream into consecutive chunks of
 * {@code T} tokens, for truncated backpropagation through time: batch {@code j} of
 * {@link #loader()} is chunk {@code j} of every stream, so row {@code s} of batch {@code j + 1}
 * continues row {@code s} of batch {@code j} and a recurrent model can carry its state from one
 * batch to the next.
 *
 * <pre>
 *   stream length M = (L - 1) / S  (integer division), chunks per stream C = M / T
 *   stream s covers tokens [s·M, (s+1)·M); example k = j·S + s is chunk j of stream s:
 *   inputs  tokens[s·M + j·T … s·M + j·T + T - 1],  targets the same positions + 1
 * </pre>
 *
 * The tokens after the last whole chunk of each stream are not used (fewer than T per stream).
 *
 * <pre>{@code
 * StreamChunks chunks = new StreamChunks(corpus.train(), 32, 64);
 * DataLoader loader = chunks.loader();          // batches of 32 rows: chunk j of every stream, in order
 * }</pre>
 */
public final class StreamChunks implements Dataset {
    private final long[] tokens; // the sequence, contiguous from `start`
    private final int start;
    private final int streams;
    private final int chunkLength;
    private final int streamLength;
    private final int chunksPerStream;

    /**
     * @param tokens an int64 (L) token sequence
     * @param streams S, the parallel streams (the batch size)
     * @param chunkLength T, tokens per chunk (the sequence length of a batch)
     * @throws IllegalArgumentException if the sequence is too short for one chunk per stream:
     *     it needs {@code L >= S·T + 1}
     */
    public StreamChunks(Tensor tokens, int streams, int chunkLength) {
        Objects.requireNonNull(tokens, "tokens");
        tokens.requireType(DType.INT64, "StreamChunks");
        if (tokens.dim() != 1) {
            throw new IllegalArgumentException("StreamChunks: expected a 1-D token sequence, got shape "
                    + java.util.Arrays.toString(tokens.shape()));
        }
        if (streams <= 0 || chunkLength <= 0) {
            throw new IllegalArgumentException("StreamChunks: streams and chunk length must be positive, got "
                    + streams + " and " + chunkLength);
        }
        Tensor t = tokens.contiguous();
        this.tokens = t.longStorage();
        this.start = t.offset();
        this.streams = streams;
        this.chunkLength = chunkLength;
        this.streamLength = (t.numel() - 1) / streams;
        this.chunksPerStream = streamLength / chunkLength;
        if (chunksPerStream == 0) {
            throw new IllegalArgumentException("StreamChunks: " + streams + " streams of at least one chunk of "
                    + chunkLength + " tokens need at least " + ((long) streams * chunkLength + 1) + " tokens, the "
                    + "sequence has " + t.numel() + "; use fewer streams, shorter chunks or more text");
        }
    }

    /** S, the number of parallel streams. */
    public int streams() {
        return streams;
    }

    /** T, tokens per chunk. */
    public int chunkLength() {
        return chunkLength;
    }

    /** C, chunks per stream: the batches of an epoch of {@link #loader()}. */
    public int chunksPerStream() {
        return chunksPerStream;
    }

    /** M, the tokens each stream covers. */
    public int streamLength() {
        return streamLength;
    }

    /** {@code C · S} examples. */
    @Override
    public int size() {
        return chunksPerStream * streams;
    }

    /**
     * A loader of one batch per chunk index, in order: batch size S, no shuffling, whole batches
     * only, and no transform.
     */
    public DataLoader loader() {
        return DataLoader.builder(this).batchSize(streams).shuffle(false).dropLast(true).build();
    }

    /** Where example {@code index} (chunk {@code index / S} of stream {@code index % S}) starts in the sequence. */
    public int startOf(int index) {
        if (index < 0 || index >= size()) {
            throw new IndexOutOfBoundsException("example " + index + " is outside [0, " + size() + ")");
        }
        int chunk = index / streams;
        int stream = index % streams;
        return stream * streamLength + chunk * chunkLength;
    }

    @Override
    public Batch get(int[] indices) {
        int t = chunkLength;
        long[] x = new long[indices.length * t];
        long[] y = new long[indices.length * t];
        for (int i = 0; i < indices.length; i++) {
            int s = start + startOf(indices[i]);
            System.arraycopy(tokens, s, x, i * t, t);
            System.arraycopy(tokens, s + 1, y, i * t, t);
        }
        return Batch.of(Tensor.ofLongs(x, indices.length, t), Tensor.ofLongs(y, indices.length, t));
    }

    @Override
    public int[] inputShape() {
        return new int[] {chunkLength};
    }

    @Override
    public String toString() {
        return "StreamChunks(" + streams + " streams of " + streamLength + " tokens, " + chunksPerStream
                + " chunks of " + chunkLength + ")";
    }
}
