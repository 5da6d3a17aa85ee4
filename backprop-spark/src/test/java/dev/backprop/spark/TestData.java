package dev.backprop.spark;

import dev.backprop.nn.Activation;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Small learnable classification data and a small model for the Spark tests. */
final class TestData {
    static final int FEATURES = 20;
    static final int CLASSES = 4;

    private TestData() {}

    /** {@code n} examples: x ~ N(0, 1), label = argmax of x times a fixed random matrix. */
    static ExampleBlock block(int n, long seed) {
        Generator g = new Generator(seed);
        Generator teacher = new Generator(7);
        float[][] w = new float[FEATURES][CLASSES];
        for (float[] row : w) {
            for (int c = 0; c < CLASSES; c++) {
                row[c] = (float) teacher.nextGaussian();
            }
        }
        float[] x = new float[n * FEATURES];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            double[] score = new double[CLASSES];
            for (int f = 0; f < FEATURES; f++) {
                float v = (float) g.nextGaussian();
                x[i * FEATURES + f] = v;
                for (int c = 0; c < CLASSES; c++) {
                    score[c] += v * w[f][c];
                }
            }
            int best = 0;
            for (int c = 1; c < CLASSES; c++) {
                best = score[c] > score[best] ? c : best;
            }
            y[i] = best;
        }
        return new ExampleBlock(new int[] {FEATURES}, x, y, null);
    }

    /** {@code partitions} blocks of {@code perPartition} examples each. */
    static List<ExampleBlock> blocks(int partitions, int perPartition, long seed) {
        List<ExampleBlock> out = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            out.add(block(perPartition, seed * 1000 + p));
        }
        return out;
    }

    /** The test model: Linear(20, 32) - ReLU - Linear(32, 4). */
    static Module model() {
        return new Sequential(new Linear(FEATURES, 32), new Activation.ReLU(), new Linear(32, CLASSES));
    }

    /** A model with weights drawn from a generator seeded with {@code seed}. */
    static Module model(long seed) {
        Generator.defaultGenerator().manualSeed(seed);
        return model();
    }

    /** The parameters, flattened in order. */
    static float[] weights(Module m) {
        return Worker.flatten(m.namedParameters().values().toArray(new Tensor[0]));
    }

    /** A copy of {@code m}'s weights in a new model. */
    static Module copy(Module m) {
        Module c = model();
        java.util.Map<String, Tensor> state = new java.util.LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> state.put(k, Tensor.of(v.toFloatArray(), v.shape())));
        c.loadStateDict(state);
        return c;
    }
}
