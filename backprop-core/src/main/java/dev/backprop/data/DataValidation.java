package dev.backprop.data;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Checks a data set before training starts, so that bad data fails at once with its place named
 * instead of turning into a NaN loss or an index error hours later: an empty split, NaN or
 * infinite features (example and feature index), class labels outside {@code [0, numClasses)}
 * (example and label), non-finite regression targets, and features and targets of different
 * counts. {@link dev.backprop.train.Trainer#fit} runs it on the training and validation data;
 * the file loaders ({@link Csv}, {@link Idx}, {@link FashionMnist}, {@link LabeledTexts}) already
 * refuse such files with the file, line and column.
 *
 * <p>It reads tensors that are already in memory ({@link TensorDataset} and {@link Subset}s of
 * one): one pass over the features, about a millisecond per million values. Other data sets
 * (generated on the fly) are checked for emptiness only.
 */
public final class DataValidation {
    private DataValidation() {}

    /**
     * Checks {@code data}.
     *
     * @param name names the data in messages ("training data", a file path)
     * @param numClasses the number of classes for int64 targets, or 0 when not a classification
     * @throws DataException naming the data, the example (0-based index and, for a subset, the
     *     index in the whole data set) and what is wrong
     */
    public static void check(Dataset data, String name, int numClasses) {
        if (data.size() == 0) {
            throw new DataException(name, "the split is empty: no examples (a file with a header only, a filter "
                    + "that removed every row, or a split fraction that rounds to zero)");
        }
        int[] indices = null;
        Dataset base = data;
        if (data instanceof Subset s && s.dataset() instanceof TensorDataset) {
            indices = s.indices();
            base = s.dataset();
        }
        if (!(base instanceof TensorDataset t)) {
            return;
        }
        Tensor f = t.features().contiguous(); // the scans below read storage from the offset on
        Tensor y = t.targets().contiguous();
        if (f.size(0) != y.size(0)) {
            throw new DataException(name, "features have " + f.size(0) + " examples but targets have " + y.size(0));
        }
        int rows = f.size(0);
        boolean[] used = null;
        if (indices != null) {
            used = new boolean[rows];
            for (int i : indices) {
                used[i] = true;
            }
        }
        if (f.dtype() == DType.FLOAT32) {
            float[] a = f.floatStorage();
            scan(f, used, (r, j, at) -> {
                if (!Float.isFinite(a[at])) {
                    throw new DataException(name, "example " + r + ", feature " + position(f, j) + " is "
                            + a[at] + ": NaN and infinite inputs make the loss NaN; fill in or drop the value");
                }
            });
        }
        if (y.dtype() == DType.INT64 && numClasses > 0) {
            long[] labels = y.longStorage();
            int per = rows == 0 ? 0 : y.numel() / rows;
            scan(y, used, (r, j, at) -> {
                long c = labels[at];
                if (c < 0 || c >= numClasses) {
                    throw new DataException(name, "example " + r + (per > 1 ? ", target " + j : "") + " has class "
                            + c + ", outside [0, " + numClasses + "): a label the model has no output for"
                            + " (wrong number of classes, or labels counted from 1?)");
                }
            });
        } else if (y.dtype() == DType.FLOAT32) {
            float[] v = y.floatStorage();
            scan(y, used, (r, j, at) -> {
                if (!Float.isFinite(v[at])) {
                    throw new DataException(name, "example " + r + ", target " + j + " is " + v[at]
                            + ": a NaN or infinite target makes the loss NaN");
                }
            });
        }
    }

    /** One element of example {@code r}: its index {@code j} within the example, {@code at} in storage. */
    @FunctionalInterface
    private interface ElementCheck {
        void check(int r, int j, int at);
    }

    /** Visits every element of the examples in use (all when {@code used} is null) of a contiguous tensor. */
    private static void scan(Tensor t, boolean[] used, ElementCheck check) {
        int rows = t.size(0);
        int per = rows == 0 ? 0 : t.numel() / rows;
        for (int r = 0; r < rows; r++) {
            if (used != null && !used[r]) {
                continue;
            }
            for (int j = 0, at = t.offset() + r * per; j < per; j++, at++) {
                check.check(r, j, at);
            }
        }
    }

    /** The multi-index of the {@code j}-th element of one example, e.g. [0, 13, 27]. */
    private static String position(Tensor features, int j) {
        int[] shape = Arrays.copyOfRange(features.shape(), 1, features.dim());
        if (shape.length <= 1) {
            return Integer.toString(j);
        }
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = j % shape[d];
            j /= shape[d];
        }
        return Arrays.toString(idx);
    }
}
