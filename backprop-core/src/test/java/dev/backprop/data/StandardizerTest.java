package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class StandardizerTest {

    @Test
    void fitsPopulationMeanAndStd() {
        Tensor x = Tensor.of(new float[][] {{1, 10}, {2, 20}, {3, 30}, {6, 60}});
        Standardizer s = Standardizer.fit(x);
        assertArrayEquals(new float[] {3, 30}, s.mean());
        float std = (float) Math.sqrt((4 + 1 + 0 + 9) / 4.0);
        assertArrayEquals(new float[] {std, 10 * std}, s.std(), 1e-5f * 10 * std);
        Tensor z = s.apply(x);
        for (int j = 0; j < 2; j++) {
            double mean = 0;
            double sq = 0;
            for (int i = 0; i < 4; i++) {
                mean += z.get(i, j) / 4.0;
                sq += z.get(i, j) * z.get(i, j) / 4.0;
            }
            assertEquals(0, mean, 1e-6);
            assertEquals(1, sq, 1e-5, "unit variance on the training data");
        }
        assertEquals((1 - 3) / std, z.get(0, 0), 1e-6);
    }

    @Test
    void fittedOnTheTrainingSplitOnlyAndAppliedUnchangedToTheOthers() {
        // feature 0 is i, feature 1 is constant 7; the test rows are far from the training rows
        float[] v = new float[100 * 2];
        long[] y = new long[100];
        for (int i = 0; i < 100; i++) {
            v[2 * i] = i;
            v[2 * i + 1] = 7;
        }
        TensorDataset all = new TensorDataset(Tensor.of(v, 100, 2), Tensor.ofLongs(y, 100));
        TensorDataset train = new TensorDataset(all.range(0, 80).inputs(), all.range(0, 80).targets());
        TensorDataset test = new TensorDataset(all.range(80, 100).inputs(), all.range(80, 100).targets());
        Standardizer s = Standardizer.fit(train);
        assertEquals(39.5f, s.mean()[0], 1e-5f, "the mean of 0..79, not of 0..99");
        float std = (float) Math.sqrt((80 * 80 - 1) / 12.0);
        assertEquals(std, s.std()[0], 1e-4f);
        TensorDataset testZ = s.apply(test);
        assertEquals((80 - 39.5f) / std, testZ.features().get(0, 0), 1e-5f);
        assertEquals((99 - 39.5f) / std, testZ.features().get(19, 0), 1e-5f);
        assertTrue(testZ.features().get(0, 0) > 1.7f, "test values keep their distance from the training data");
        assertArrayEquals(test.targets().toLongArray(), testZ.targets().toLongArray());
        // the constant feature: std 0, divided by 1, so 0 everywhere, never NaN
        assertEquals(0f, s.std()[1]);
        assertEquals(7f, s.mean()[1]);
        for (int i = 0; i < 20; i++) {
            assertEquals(0f, testZ.features().get(i, 1));
        }
    }

    @Test
    void fitsOnASubsetFromRandomSplit() {
        TensorDataset d = DataLoaderTest.indexed(50);
        List<Subset> parts = Datasets.randomSplit(d, new double[] {0.8, 0.2}, new Generator(1));
        Standardizer s = Standardizer.fit(parts.get(0));
        double mean = 0;
        for (int i : parts.get(0).indices()) {
            mean += i / 40.0;
        }
        assertEquals(mean, s.mean()[0], 1e-4);
        TensorDataset val = s.apply(parts.get(1));
        assertEquals(10, val.size());
        assertEquals((parts.get(1).indices()[0] - s.mean()[0]) / s.std()[0], val.features().get(0, 0), 1e-5);
    }

    @Test
    void constantColumnWithRoundingStaysExactlyZero() {
        Tensor x = Tensor.full(0.1f, 7, 1); // the double mean of seven 0.1f is not exactly 0.1f
        Standardizer s = Standardizer.fit(x);
        assertEquals(0f, s.std()[0]);
        for (float v : s.apply(x).toFloatArray()) {
            assertEquals(0f, v);
        }
    }

    @Test
    void errors() {
        Standardizer s = Standardizer.fit(Tensor.of(new float[][] {{1, 2}, {3, 4}}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.apply(Tensor.zeros(2, 3)));
        assertTrue(e.getMessage().contains("fitted on 2 features"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Standardizer.fit(Tensor.zeros(0, 2)));
        assertThrows(IllegalArgumentException.class,
                () -> Standardizer.fit(Tensor.of(new float[][] {{Float.NaN}})));
        assertThrows(IllegalArgumentException.class, () -> Standardizer.of(new float[] {0}, new float[] {-1}));
        Standardizer restored = Standardizer.of(s.mean(), s.std());
        assertArrayEquals(s.apply(Tensor.ones(1, 2)).toFloatArray(), restored.apply(Tensor.ones(1, 2)).toFloatArray());
    }
}
