package dev.backprop.data;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * A data set held as two tensors: features (N, ...) and targets (N) or (N, ...), like PyTorch's
 * {@code TensorDataset}. Example {@code i} is row {@code i} of each.
 *
 * <p>Both tensors are kept contiguous (made so once, at construction, if they are not), so a row
 * is a run of consecutive array elements: {@link #get(int[])} copies each requested row with one
 * {@link System#arraycopy}, and {@link #range(int, int)} and {@link #example(int)} return views
 * without copying anything.
 *
 * <p>Features are usually float32; int64 and uint8 features work too (token ids, raw pixels).
 * Targets are int64 class indices or float32 regression values.
 */
public final class TensorDataset implements Dataset {
    private final Tensor features; // (N, ...) contiguous, no autograd history
    private final Tensor targets; // (N) or (N, ...) contiguous int64 or float32
    private final int featureRow; // elements per example in features
    private final int targetRow; // elements per example in targets
    private volatile int numClasses = -1; // computed on first use for int64 targets

    /**
     * @param features (N, ...) float32 (or int64, uint8) features
     * @param targets (N) or (N, ...) int64 class indices or float32 values
     * @throws IllegalArgumentException if the first dimensions differ, a tensor is 0-dimensional
     *     or a dtype is not supported
     */
    public TensorDataset(Tensor features, Tensor targets) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(targets, "targets");
        if (features.dim() == 0 || targets.dim() == 0) {
            throw new IllegalArgumentException("TensorDataset: features and targets need a first (example) dimension,"
                    + " got features " + Arrays.toString(features.shape()) + " and targets "
                    + Arrays.toString(targets.shape()));
        }
        if (features.size(0) != targets.size(0)) {
            throw new IllegalArgumentException("TensorDataset: features have " + features.size(0)
                    + " examples but targets have " + targets.size(0) + " (shapes "
                    + Arrays.toString(features.shape()) + " and " + Arrays.toString(targets.shape()) + ")");
        }
        if (features.dtype() == DType.BOOL) {
            throw new IllegalArgumentException("TensorDataset: features must be float32, int64 or uint8, got bool");
        }
        if (targets.dtype() != DType.INT64 && targets.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("TensorDataset: targets must be int64 (class indices) or float32"
                    + " (regression values), got " + targets.dtype().torchName());
        }
        this.features = plain(features);
        this.targets = plain(targets);
        this.featureRow = rowSize(features);
        this.targetRow = rowSize(targets);
    }

    /** Contiguous and without autograd history; the tensor itself when it already is. */
    private static Tensor plain(Tensor t) {
        return t.isContiguous() && !t.requiresGrad() && t.gradFn() == null ? t : t.copy();
    }

    private static int rowSize(Tensor t) {
        int n = 1;
        for (int i = 1; i < t.dim(); i++) {
            n *= t.size(i);
        }
        return n;
    }

    /** The features, (N, ...), contiguous. Treat as read-only. */
    public Tensor features() {
        return features;
    }

    /** The targets, (N) or (N, ...), contiguous. Treat as read-only. */
    public Tensor targets() {
        return targets;
    }

    @Override
    public int size() {
        return features.size(0);
    }

    @Override
    public int[] inputShape() {
        return Arrays.copyOfRange(features.shape(), 1, features.dim());
    }

    /** The shape of one example's targets: {@code []} for class indices. */
    public int[] targetShape() {
        return Arrays.copyOfRange(targets.shape(), 1, targets.dim());
    }

    @Override
    public Batch get(int[] indices) {
        int n = size();
        for (int i : indices) {
            if (i < 0 || i >= n) {
                throw new IndexOutOfBoundsException("index " + i + " is outside a data set of " + n + " examples");
            }
        }
        return Batch.of(gather(features, featureRow, indices), gather(targets, targetRow, indices));
    }

    /** Copies rows {@code indices} of a contiguous tensor into a new contiguous tensor. */
    private static Tensor gather(Tensor source, int row, int[] indices) {
        int[] shape = source.shape();
        shape[0] = indices.length;
        Tensor out = Tensor.empty(source.dtype(), shape);
        Object from = storage(source);
        Object to = storage(out);
        int base = source.offset();
        for (int k = 0; k < indices.length; k++) {
            System.arraycopy(from, base + indices[k] * row, to, k * row, row);
        }
        return out;
    }

    static Object storage(Tensor t) {
        return switch (t.dtype()) {
            case FLOAT32 -> t.floatStorage();
            case INT64 -> t.longStorage();
            case UINT8 -> t.byteStorage();
            case BOOL -> t.boolStorage();
        };
    }

    /** A view of examples {@code [from, to)}: nothing is copied. */
    @Override
    public Batch range(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IndexOutOfBoundsException("range [" + from + ", " + to + ") is outside a data set of "
                    + size() + " examples");
        }
        return Batch.of(features.slice(0, from, to), targets.slice(0, from, to));
    }

    /** Example {@code i} as a batch of one (views, nothing is copied). */
    public Batch example(int i) {
        return range(i, i + 1);
    }

    /**
     * Number of classes for int64 targets: the largest class index plus one (0 for an empty data
     * set).
     *
     * @throws IllegalStateException if the targets are not int64, or hold a negative index
     */
    public int numClasses() {
        int k = numClasses;
        if (k < 0) {
            if (targets.dtype() != DType.INT64) {
                throw new IllegalStateException("numClasses: the targets are " + targets.dtype().torchName()
                        + " (regression values), not int64 class indices");
            }
            long[] t = targets.longStorage();
            long max = -1;
            for (int i = targets.offset(), end = i + targets.numel(); i < end; i++) {
                if (t[i] < 0) {
                    throw new IllegalStateException("numClasses: target " + (i - targets.offset()) + " is " + t[i]
                            + ", a class index must not be negative");
                }
                max = Math.max(max, t[i]);
            }
            k = Math.toIntExact(max + 1);
            numClasses = k;
        }
        return k;
    }

    /** A data set with the same targets and other features (same number of examples). */
    public TensorDataset withFeatures(Tensor newFeatures) {
        return new TensorDataset(newFeatures, targets);
    }

    @Override
    public String toString() {
        return "TensorDataset(" + size() + " examples, features " + Arrays.toString(features.shape()) + " "
                + features.dtype().torchName() + ", targets " + Arrays.toString(targets.shape()) + " "
                + targets.dtype().torchName() + ")";
    }
}
