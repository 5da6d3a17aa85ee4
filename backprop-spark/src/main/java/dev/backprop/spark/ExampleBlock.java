package dev.backprop.spark;

import dev.backprop.data.Batch;
import dev.backprop.tensor.Tensor;
import java.io.Serializable;
import java.util.Arrays;

/**
 * All the examples of one RDD partition in two contiguous arrays (features and targets), which is
 * how the trainer keeps a partition in executor memory: one object per partition instead of one
 * per example, and a batch is a copy of some rows.
 */
public final class ExampleBlock implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int[] shape;
    private final int rowSize;
    private final float[] features;
    private final long[] labels;
    private final float[] values;

    /**
     * @param shape the shape of one example's inputs
     * @param features {@code size * prod(shape)} values, row-major
     * @param labels class indices (classification), or null
     * @param values numeric targets (regression), or null; exactly one of labels, values is given
     */
    public ExampleBlock(int[] shape, float[] features, long[] labels, float[] values) {
        if ((labels == null) == (values == null)) {
            throw new IllegalArgumentException("an example block holds either class labels or numeric targets");
        }
        int row = 1;
        for (int d : shape) {
            row *= d;
        }
        int n = labels != null ? labels.length : values.length;
        if ((long) n * row != features.length) {
            throw new IllegalArgumentException("example block: " + n + " examples of shape " + Arrays.toString(shape)
                    + " need " + (long) n * row + " feature values, got " + features.length);
        }
        this.shape = shape.clone();
        this.rowSize = row;
        this.features = features;
        this.labels = labels;
        this.values = values;
    }

    /** Number of examples. */
    public int size() {
        return labels != null ? labels.length : values.length;
    }

    /** The shape of one example's inputs. */
    public int[] inputShape() {
        return shape.clone();
    }

    /** Whether the targets are class labels. */
    public boolean classification() {
        return labels != null;
    }

    /** The largest class label + 1 (0 for regression or an empty block). */
    public int numClasses() {
        long max = -1;
        if (labels != null) {
            for (long l : labels) {
                max = Math.max(max, l);
            }
        }
        return (int) (max + 1);
    }

    /** The examples at {@code indices[from..to)}, in that order, as one new batch. */
    public Batch batch(int[] indices, int from, int to) {
        int n = to - from;
        float[] x = new float[n * rowSize];
        for (int i = 0; i < n; i++) {
            System.arraycopy(features, indices[from + i] * rowSize, x, i * rowSize, rowSize);
        }
        int[] s = new int[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        Tensor inputs = Tensor.of(x, s);
        Tensor targets;
        if (labels != null) {
            long[] y = new long[n];
            for (int i = 0; i < n; i++) {
                y[i] = labels[indices[from + i]];
            }
            targets = Tensor.ofLongs(y, n);
        } else {
            float[] y = new float[n];
            for (int i = 0; i < n; i++) {
                y[i] = values[indices[from + i]];
            }
            targets = Tensor.of(y, n);
        }
        return Batch.of(inputs, targets);
    }

    @Override
    public String toString() {
        return "ExampleBlock[" + size() + " examples of shape " + Arrays.toString(shape) + "]";
    }
}
