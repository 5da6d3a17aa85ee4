package dev.backprop.data;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;

/**
 * A data set of {@code size} random windows of a token sequence, for language-model training that
 * samples a fresh random window for every example (nanoGPT's {@code get_batch}) yet stays a
 * {@link Dataset}: example {@code i} is the window of {@code T} tokens starting at a position drawn
 * uniformly from a generator seeded with a hash of {@code (seed, i)}, and its targets are the same
 * window shifted by one. Being a pure function of the index, it prefetches, resumes from a
 * checkpoint and repeats from run to run exactly.
 *
 * <pre>{@code
 * Dataset windows = new RandomWindows(corpus.train(), 64, 2000 * 12, seed);
 * DataLoader loader = new DataLoader(windows, 12, false, 0);   // 2000 batches of 12 random windows
 * }</pre>
 */
public final class RandomWindows implements Dataset {
    private final WindowSampler windows;
    private final int size;
    private final long seed;

    /**
     * @param tokens an int64 (L) token sequence with L &gt;= blockSize + 1
     * @param blockSize T, the window length
     * @param size the number of examples
     * @param seed the seed of the start positions
     */
    public RandomWindows(Tensor tokens, int blockSize, int size, long seed) {
        if (size < 0) {
            throw new IllegalArgumentException("RandomWindows: size must be >= 0, got " + size);
        }
        this.windows = new WindowSampler(tokens, blockSize);
        this.size = size;
        this.seed = seed;
    }

    @Override
    public int size() {
        return size;
    }

    /** Where example {@code index}'s window starts in the sequence. */
    public int start(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("example " + index + " is outside [0, " + size + ")");
        }
        return new Generator(Seeds.derive(seed, Seeds.WINDOW, index)).nextInt(windows.numWindows());
    }

    @Override
    public Batch get(int[] indices) {
        int[] starts = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            starts[i] = start(indices[i]);
        }
        return windows.windows(starts);
    }

    @Override
    public int[] inputShape() {
        return new int[] {windows.blockSize()};
    }

    @Override
    public String toString() {
        return "RandomWindows(" + size + " windows of " + windows.blockSize() + " tokens, seed " + seed + ")";
    }
}
