package dev.backprop.data;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Objects;

/**
 * Random windows of a token sequence for language-model training (nanoGPT's {@code get_batch}):
 * each example is {@code T} consecutive tokens starting at a uniformly random position, and its
 * targets are the same window shifted by one, the next token at every position.
 *
 * <pre>{@code
 * WindowSampler windows = new WindowSampler(corpus.train(), 64);
 * Batch b = windows.sample(12, gen);     // inputs (12, 64), targets (12, 64), int64
 * }</pre>
 */
public final class WindowSampler {
    private final long[] tokens; // the sequence, contiguous from `start`
    private final int start;
    private final int length;
    private final int blockSize;

    /**
     * @param tokens an int64 (L) sequence of token ids
     * @param blockSize T, the window length; needs {@code L >= T + 1}
     */
    public WindowSampler(Tensor tokens, int blockSize) {
        Objects.requireNonNull(tokens, "tokens");
        tokens.requireType(DType.INT64, "WindowSampler");
        if (tokens.dim() != 1) {
            throw new IllegalArgumentException("WindowSampler: expected a 1-D token sequence, got shape "
                    + java.util.Arrays.toString(tokens.shape()));
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("WindowSampler: block size must be positive, got " + blockSize);
        }
        Tensor t = tokens.contiguous();
        if (t.numel() < blockSize + 1) {
            throw new IllegalArgumentException("WindowSampler: a window of " + blockSize + " tokens and its next-token"
                    + " targets need at least " + (blockSize + 1) + " tokens, the sequence has " + t.numel());
        }
        this.tokens = t.longStorage();
        this.start = t.offset();
        this.length = t.numel();
        this.blockSize = blockSize;
    }

    /** T, the window length. */
    public int blockSize() {
        return blockSize;
    }

    /** Number of distinct windows: start positions {@code 0 .. L - T - 1}. */
    public int numWindows() {
        return length - blockSize;
    }

    /**
     * A batch of {@code batchSize} windows at random start positions drawn from {@code gen} (one
     * {@code nextInt} each, in order): inputs (N, T) and targets (N, T), both int64.
     */
    public Batch sample(int batchSize, Generator gen) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("WindowSampler: batch size must be positive, got " + batchSize);
        }
        int[] starts = new int[batchSize];
        for (int i = 0; i < batchSize; i++) {
            starts[i] = gen.nextInt(numWindows());
        }
        return windows(starts);
    }

    /**
     * A batch of {@code batchSize} windows whose start positions are drawn exactly as nanoGPT's
     * {@code get_batch} draws them with PyTorch: {@code torch.randint(len - T - 1, (batchSize,),
     * generator=g)}, where {@code mt} replays {@code g} (so the last possible window is never
     * drawn, as there).
     */
    public Batch sample(int batchSize, MersenneTwister mt) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("WindowSampler: batch size must be positive, got " + batchSize);
        }
        if (numWindows() < 2) {
            throw new IllegalArgumentException("WindowSampler: torch-style sampling needs a sequence of at least "
                    + (blockSize + 2) + " tokens for windows of " + blockSize + ", got " + length);
        }
        int[] starts = new int[batchSize];
        for (int i = 0; i < batchSize; i++) {
            starts[i] = mt.nextBelow(numWindows() - 1);
        }
        return windows(starts);
    }

    /** The windows starting at the given positions (each in {@code [0, numWindows())}). */
    public Batch windows(int[] starts) {
        int t = blockSize;
        long[] x = new long[starts.length * t];
        long[] y = new long[starts.length * t];
        for (int i = 0; i < starts.length; i++) {
            int s = starts[i];
            if (s < 0 || s >= numWindows()) {
                throw new IndexOutOfBoundsException("window start " + s + " is outside [0, " + numWindows() + ")");
            }
            System.arraycopy(tokens, start + s, x, i * t, t);
            System.arraycopy(tokens, start + s + 1, y, i * t, t);
        }
        return Batch.of(Tensor.ofLongs(x, starts.length, t), Tensor.ofLongs(y, starts.length, t));
    }
}
