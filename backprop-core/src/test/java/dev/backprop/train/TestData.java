package dev.backprop.train;

import dev.backprop.data.TensorDataset;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;

/** Small synthetic data sets shared by the training and diagnostics tests. */
public final class TestData {
    private TestData() {}

    /** Three classes of 2-D points around different centres plus two noise features, not linearly trivial. */
    public static TensorDataset blobs(int n, long seed) {
        Generator g = new Generator(seed);
        float[] x = new float[n * 4];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int c = g.nextInt(3);
            y[i] = c;
            double angle = 2 * Math.PI * c / 3;
            x[i * 4] = (float) (Math.cos(angle) * 2 + g.nextGaussian() * 0.6);
            x[i * 4 + 1] = (float) (Math.sin(angle) * 2 + g.nextGaussian() * 0.6);
            x[i * 4 + 2] = (float) g.nextGaussian();
            x[i * 4 + 3] = (float) g.nextGaussian();
        }
        return new TensorDataset(Tensor.of(x, n, 4), Tensor.ofLongs(y, n));
    }
}
