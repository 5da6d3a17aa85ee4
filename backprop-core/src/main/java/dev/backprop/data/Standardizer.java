package dev.backprop.data;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Per-feature standardisation, {@code (x - mean) / std}, like scikit-learn's
 * {@code StandardScaler}: fitted on the training split only, then applied unchanged to the
 * training, validation and test splits, so that no statistic of the held-out data leaks into
 * training.
 *
 * <p>Statistics are computed in double precision with the population standard deviation
 * (divisor N). A feature that is constant in the training data has standard deviation 0; it is
 * divided by 1 instead (it becomes {@code x - mean}: 0 on the training data).
 *
 * <p>Features are the elements of one example: for inputs (N, F) the F columns, for (N, C, H, W)
 * every one of the C*H*W positions.
 */
public final class Standardizer {
    private final float[] mean; // (F)
    private final float[] std; // (F), 0 for a constant feature

    private Standardizer(float[] mean, float[] std) {
        this.mean = mean;
        this.std = std;
    }

    /**
     * A standardiser with given statistics (restored from a checkpoint, say).
     *
     * @throws IllegalArgumentException if the lengths differ or a value is negative or not finite
     */
    public static Standardizer of(float[] mean, float[] std) {
        if (mean.length != std.length) {
            throw new IllegalArgumentException("Standardizer: " + mean.length + " means but " + std.length
                    + " standard deviations");
        }
        for (int j = 0; j < mean.length; j++) {
            if (!Float.isFinite(mean[j]) || !Float.isFinite(std[j]) || std[j] < 0) {
                throw new IllegalArgumentException("Standardizer: feature " + j + " has mean " + mean[j] + " and std "
                        + std[j] + "; expected finite values and std >= 0");
            }
        }
        return new Standardizer(mean.clone(), std.clone());
    }

    /** Fits the statistics of a training data set's inputs (every example). */
    public static Standardizer fit(Dataset train) {
        return fit(train.all().inputs());
    }

    /**
     * Fits the statistics of training features (N, ...), N &gt;= 1, float32.
     *
     * @throws IllegalArgumentException if there are no examples or a value is not finite
     */
    public static Standardizer fit(Tensor features) {
        features.requireType(DType.FLOAT32, "Standardizer.fit");
        if (features.dim() == 0 || features.size(0) == 0) {
            throw new IllegalArgumentException("Standardizer.fit: need at least one example, got features of shape "
                    + Arrays.toString(features.shape()));
        }
        int n = features.size(0);
        int f = features.numel() / n;
        float[] x = features.contiguous().toFloatArray();
        double[] sum = new double[f];
        float[] min = new float[f];
        float[] max = new float[f];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            for (int j = 0, p = i * f; j < f; j++, p++) {
                float v = x[p];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("Standardizer.fit: example " + i + ", feature " + j + " is "
                            + v);
                }
                sum[j] += v;
                min[j] = Math.min(min[j], v);
                max[j] = Math.max(max[j], v);
            }
        }
        double[] m = new double[f];
        for (int j = 0; j < f; j++) {
            m[j] = sum[j] / n;
        }
        double[] squares = new double[f];
        for (int i = 0; i < n; i++) {
            for (int j = 0, p = i * f; j < f; j++, p++) {
                double d = x[p] - m[j];
                squares[j] += d * d;
            }
        }
        float[] mean = new float[f];
        float[] std = new float[f];
        for (int j = 0; j < f; j++) {
            // an exactly constant feature gets std 0 even where rounding in the mean would leave a trace
            mean[j] = min[j] == max[j] ? min[j] : (float) m[j];
            std[j] = min[j] == max[j] ? 0f : (float) Math.sqrt(squares[j] / n);
        }
        return new Standardizer(mean, std);
    }

    /** Number of features. */
    public int numFeatures() {
        return mean.length;
    }

    /** A copy of the per-feature means. */
    public float[] mean() {
        return mean.clone();
    }

    /** A copy of the per-feature standard deviations (0 for a constant feature). */
    public float[] std() {
        return std.clone();
    }

    /**
     * A standardised copy of features (N, ...) with {@link #numFeatures()} elements per example.
     *
     * @throws IllegalArgumentException if the number of features differs from the fitted one
     */
    public Tensor apply(Tensor features) {
        features.requireType(DType.FLOAT32, "Standardizer.apply");
        int n = features.dim() == 0 ? 0 : features.size(0);
        int f = mean.length;
        if (features.dim() == 0 || (long) n * f != features.numel()) {
            throw new IllegalArgumentException("Standardizer.apply: fitted on " + f + " features per example, got"
                    + " features of shape " + Arrays.toString(features.shape()));
        }
        float[] x = features.toFloatArray();
        float[] divisor = new float[f];
        for (int j = 0; j < f; j++) {
            divisor[j] = std[j] == 0 ? 1f : std[j];
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0, p = i * f; j < f; j++, p++) {
                x[p] = (x[p] - mean[j]) / divisor[j];
            }
        }
        return Tensor.of(x, features.shape());
    }

    /** The data set's examples with standardised inputs and the same targets, in memory. */
    public TensorDataset apply(Dataset dataset) {
        Batch all = dataset.all();
        return new TensorDataset(apply(all.inputs()), all.targets());
    }

    @Override
    public String toString() {
        return "Standardizer(" + mean.length + " features)";
    }
}
