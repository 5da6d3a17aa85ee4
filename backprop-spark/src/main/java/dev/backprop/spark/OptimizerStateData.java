package dev.backprop.spark;

import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Tensor;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An {@link Optimizer.State} as plain arrays, to ship between driver and executors and to average:
 * the tensors (moments, momentum buffers) flattened in key order, and the exact scalar values
 * (step counts, options).
 */
final class OptimizerStateData implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String[] keys;
    private final int[][] shapes;
    private final float[] values;
    private final LinkedHashMap<String, String> scalars;

    private OptimizerStateData(String[] keys, int[][] shapes, float[] values, LinkedHashMap<String, String> scalars) {
        this.keys = keys;
        this.shapes = shapes;
        this.values = values;
        this.scalars = scalars;
    }

    static OptimizerStateData of(Optimizer.State s) {
        int n = s.tensors().size();
        String[] keys = new String[n];
        int[][] shapes = new int[n][];
        int total = 0;
        int i = 0;
        for (Map.Entry<String, Tensor> e : s.tensors().entrySet()) {
            keys[i] = e.getKey();
            shapes[i] = e.getValue().shape();
            total += e.getValue().numel();
            i++;
        }
        float[] values = new float[total];
        int off = 0;
        for (Tensor t : s.tensors().values()) {
            float[] v = t.toFloatArray();
            System.arraycopy(v, 0, values, off, v.length);
            off += v.length;
        }
        return new OptimizerStateData(keys, shapes, values, new LinkedHashMap<>(s.values()));
    }

    Optimizer.State toState() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        int off = 0;
        for (int i = 0; i < keys.length; i++) {
            int numel = 1;
            for (int d : shapes[i]) {
                numel *= d;
            }
            tensors.put(keys[i], Tensor.of(Arrays.copyOfRange(values, off, off + numel), shapes[i]));
            off += numel;
        }
        return new Optimizer.State(tensors, new LinkedHashMap<>(scalars));
    }

    void add(OptimizerStateData o) {
        if (!Arrays.equals(keys, o.keys) || values.length != o.values.length) {
            throw new IllegalStateException("partitions sent different optimizer states (" + Arrays.toString(keys)
                    + " and " + Arrays.toString(o.keys) + ")");
        }
        for (int i = 0; i < values.length; i++) {
            values[i] += o.values[i];
        }
    }

    /** Divides the tensors by {@code n} (the scalars, equal in every partition, stay). */
    void scale(float inverse) {
        for (int i = 0; i < values.length; i++) {
            values[i] *= inverse;
        }
    }
}
