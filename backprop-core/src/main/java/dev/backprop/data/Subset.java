package dev.backprop.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * The examples of another data set at given indices, in that order (PyTorch's {@code Subset}).
 * Nothing is copied until a batch is read; {@link Datasets#randomSplit} makes these.
 */
public final class Subset implements Dataset {
    private final Dataset dataset;
    private final int[] indices; // into dataset, each in [0, dataset.size())

    /**
     * @throws IndexOutOfBoundsException if an index is outside the data set
     */
    public Subset(Dataset dataset, int[] indices) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.indices = indices.clone();
        int n = dataset.size();
        for (int i : this.indices) {
            if (i < 0 || i >= n) {
                throw new IndexOutOfBoundsException("Subset: index " + i + " is outside a data set of " + n
                        + " examples");
            }
        }
    }

    /** The data set this is a subset of. */
    public Dataset dataset() {
        return dataset;
    }

    /** A copy of the indices into {@link #dataset()}. */
    public int[] indices() {
        return indices.clone();
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public int[] inputShape() {
        return dataset.inputShape();
    }

    @Override
    public Batch get(int[] subsetIndices) {
        int[] mapped = new int[subsetIndices.length];
        for (int k = 0; k < mapped.length; k++) {
            int i = subsetIndices[k];
            if (i < 0 || i >= indices.length) {
                throw new IndexOutOfBoundsException("index " + i + " is outside a subset of " + indices.length
                        + " examples");
            }
            mapped[k] = indices[i];
        }
        return dataset.get(mapped);
    }

    @Override
    public String toString() {
        return "Subset(" + indices.length + " of " + dataset + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Subset s && s.dataset == dataset && Arrays.equals(s.indices, indices);
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(dataset) * 31 + Arrays.hashCode(indices);
    }
}
