package dev.backprop.data;

/**
 * A fixed-size, indexable collection of examples, read a batch at a time.
 *
 * <p>There are no per-example objects: {@link #get(int[])} gathers the rows it is asked for into
 * one new (N, ...) inputs tensor and one targets tensor by copying from large contiguous arrays
 * ({@link TensorDataset}), which is what keeps loading cheap next to a training step.
 *
 * <p>Implementations must be safe to read from another thread than the one that built them (a
 * {@link DataLoader} prefetches on a background thread; it never reads from two threads at once).
 * The implementations in this package are immutable.
 */
public interface Dataset {

    /** Number of examples. */
    int size();

    /**
     * The examples at {@code indices}, in that order, as one batch (epoch and index -1). The
     * returned tensors are new: writing into them does not change the data set.
     *
     * @throws IndexOutOfBoundsException if an index is outside {@code [0, size())}
     */
    Batch get(int[] indices);

    /** The shape of one example's inputs, for example {@code [1, 28, 28]}. */
    int[] inputShape();

    /**
     * The examples {@code from} (inclusive) to {@code to} (exclusive) as one batch, for evaluation
     * in order. May return views of the data set's storage ({@link TensorDataset} does): treat them
     * as read-only.
     */
    default Batch range(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IndexOutOfBoundsException("range [" + from + ", " + to + ") is outside a data set of "
                    + size() + " examples");
        }
        int[] indices = new int[to - from];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = from + i;
        }
        return get(indices);
    }

    /** Every example, in order (see {@link #range}). */
    default Batch all() {
        return range(0, size());
    }
}
