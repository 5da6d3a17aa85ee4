package dev.backprop.tensor;

import java.util.Arrays;

/** Static helpers on shapes ({@code int[]}), strides and broadcasting; shapes are never mutated. */
public final class Shape {
    private Shape() {}

    /** Number of elements of a tensor of this shape (1 for a scalar). */
    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + str(shape) + " has " + n
                    + " elements, more than a Java array can hold (" + (Integer.MAX_VALUE - 8) + ")");
        }
        return (int) n;
    }

    /** Row-major (C order) strides for a shape. */
    public static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** Checks every size is non-negative and returns a defensive copy. */
    public static int[] checked(int[] shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative size in shape " + str(shape));
            }
        }
        return shape.clone();
    }

    /** Formats a shape the way PyTorch prints it: {@code [2, 3]}. */
    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** Turns a possibly negative dimension into {@code 0..rank-1}, or fails naming the op. */
    public static int normalizeDim(int dim, int rank, String op) {
        int r = Math.max(rank, 1);
        if (dim < -r || dim >= r) {
            throw new IndexOutOfBoundsException(op + ": dimension " + dim + " is out of range for a tensor of rank "
                    + rank + " (expected a value in [" + (-r) + ", " + (r - 1) + "])");
        }
        return dim < 0 ? dim + r : dim;
    }

    /**
     * The broadcast shape of two shapes, by NumPy's rule: align trailing dimensions; two sizes
     * are compatible when they are equal or one of them is 1.
     */
    public static int[] broadcast(int[] a, int[] b, String op) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
                        + " cannot be broadcast: at dimension " + i + " (aligned from the right) the sizes are "
                        + da + " and " + db + "; broadcasting needs them equal or one of them 1");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Whether {@code from} broadcasts to {@code to} (to is the larger shape). */
    public static boolean broadcastsTo(int[] from, int[] to) {
        if (from.length > to.length) {
            return false;
        }
        int off = to.length - from.length;
        for (int i = 0; i < from.length; i++) {
            if (from[i] != 1 && from[i] != to[i + off]) {
                return false;
            }
        }
        return true;
    }

    /** Strides that read {@code shape} as if broadcast to {@code target}: 0 on broadcast dims. */
    public static int[] broadcastStrides(int[] shape, int[] strides, int[] target) {
        int off = target.length - shape.length;
        int[] out = new int[target.length];
        for (int i = 0; i < shape.length; i++) {
            out[i + off] = shape[i] == 1 && target[i + off] != 1 ? 0 : strides[i];
        }
        return out;
    }

    /** Resolves one {@code -1} in a requested shape against a number of elements. */
    public static int[] inferSize(int[] requested, int numel, String op, int[] from) {
        int[] out = requested.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException(op + ": only one dimension can be -1, got " + str(requested));
                }
                infer = i;
            } else if (out[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid size " + out[i] + " in " + str(requested));
            } else {
                known *= out[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException(op + ": shape " + str(requested) + " is invalid for input of shape "
                        + str(from) + " (" + numel + " elements)");
            }
            out[infer] = (int) (numel / known);
        } else if (known != numel) {
            throw new IllegalArgumentException(op + ": shape " + str(requested) + " is invalid for input of shape "
                    + str(from) + " (" + numel + " elements, the new shape has " + known + ")");
        }
        return out;
    }

    /**
     * Strides that read {@code oldShape}'s elements in row-major order as {@code newShape} without
     * copying, or null when the layout does not allow it (PyTorch's {@code computeStride}): each
     * run of old dimensions that is contiguous in memory can be split or merged freely.
     */
    public static int[] viewStrides(int[] oldShape, int[] oldStrides, int[] newShape) {
        int[] newStrides = new int[newShape.length];
        if (oldShape.length == 0) {
            java.util.Arrays.fill(newStrides, 1);
            return newStrides;
        }
        if (numel(oldShape) == 0) {
            return contiguousStrides(newShape);
        }
        int viewD = newShape.length - 1;
        long chunkBaseStride = oldStrides[oldStrides.length - 1];
        long tensorNumel = 1;
        long viewNumel = 1;
        for (int tensorD = oldShape.length - 1; tensorD >= 0; tensorD--) {
            tensorNumel *= oldShape[tensorD];
            if (tensorD == 0 || (oldShape[tensorD - 1] != 1
                    && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    newStrides[viewD] = (int) (viewNumel * chunkBaseStride);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) {
                    return null;
                }
                if (tensorD > 0) {
                    chunkBaseStride = oldStrides[tensorD - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? newStrides : null;
    }
}
