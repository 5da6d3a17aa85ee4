package dev.backprop.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/** Comparison with the reference tolerance |a - b| <= 1e-5 + 1e-4 |b|. */
final class TensorAssert {
    private TensorAssert() {}

    static void assertClose(String what, Tensor actual, Tensor expected) {
        assertNotNull(actual, what + ": missing (no gradient reached it?)");
        assertEquals(Shape.str(expected.shape()), Shape.str(actual.shape()), what + ": shape");
        float[] a = actual.toFloatArray();
        float[] b = expected.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            double err = Math.abs((double) a[i] - b[i]);
            if (!(err <= 1e-5 + 1e-4 * Math.abs(b[i]))) {
                fail(what + " differs at flat index " + i + ": got " + a[i] + ", PyTorch " + b[i] + " (|err| " + err
                        + ")\n  got:      " + Arrays.toString(a) + "\n  expected: " + Arrays.toString(b));
            }
        }
    }
}
