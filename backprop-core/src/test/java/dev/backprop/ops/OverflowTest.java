package dev.backprop.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.nn.F;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Overflow safety: softmax, log-softmax, cross-entropy, logsumexp, sigmoid and BCE-with-logits, and
 * their gradients, stay finite and exact for logits of ±1e4 (where a naive exp overflows to
 * infinity and gives NaN). Rows of 37 elements run the SIMD loops and their tails; the
 * {@code scalar-kernels} surefire execution runs this class again on the scalar kernels.
 */
class OverflowTest {
    private static final int N = 37;

    /** Row 0: 1e4 at 0, -1e4 elsewhere; row 1: -1e4 at 5, alternating ±1e4 otherwise; row 2: all 1e4. */
    private static float[] logits() {
        float[] x = new float[3 * N];
        for (int j = 0; j < N; j++) {
            x[j] = j == 0 ? 1e4f : -1e4f;
            x[N + j] = j == 5 ? -1e4f : (j % 2 == 0 ? 1e4f : -1e4f);
            x[2 * N + j] = 1e4f;
        }
        return x;
    }

    private static void assertFinite(Tensor t, String what) {
        float[] a = t.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertTrue(Float.isFinite(a[i]), what + "[" + i + "] = " + a[i]);
        }
    }

    @Test
    void softmaxAndItsGradientStayFinite() {
        Tensor x = Tensor.of(logits(), 3, N).requiresGrad(true);
        Tensor y = x.softmax(1);
        assertFinite(y, "softmax");
        float[] p = y.toFloatArray();
        assertEquals(1f, p[0], 0f);
        assertEquals(0f, p[1], 0f);
        assertEquals(1f / N, p[2 * N + 7], 1e-7f);
        y.mul(Tensor.of(logits(), 3, N)).sum().backward();
        assertFinite(x.grad(), "softmax gradient");
    }

    @Test
    void logSoftmaxAndLogsumexpStayFiniteAndExact() {
        Tensor x = Tensor.of(logits(), 3, N).requiresGrad(true);
        Tensor ls = x.logSoftmax(1);
        assertFinite(ls, "logSoftmax");
        float[] v = ls.toFloatArray();
        assertEquals(0f, v[0], 0f);
        assertEquals(-2e4f, v[1], 0f);
        assertEquals((float) -Math.log(N), v[2 * N], 1e-5f);
        ls.sum().backward();
        assertFinite(x.grad(), "logSoftmax gradient");

        Tensor z = Tensor.of(logits(), 3, N).requiresGrad(true);
        Tensor lse = z.logsumexp(1, false);
        assertFinite(lse, "logsumexp");
        assertEquals(1e4f, lse.toFloatArray()[0], 0f);
        assertEquals((float) (1e4 + Math.log(N)), lse.toFloatArray()[2], 1e-2f);
        lse.sum().backward();
        assertFinite(z.grad(), "logsumexp gradient");
    }

    @Test
    void crossEntropyStaysFiniteForConfidentlyWrongLogits() {
        Tensor x = Tensor.of(logits(), 3, N).requiresGrad(true);
        Tensor target = Tensor.ofLongs(new long[] {1, 5, 3}, 3); // row 0: 1e4 on the wrong class
        Tensor loss = F.crossEntropy(x, target);
        assertFinite(loss, "cross-entropy");
        // row 0: 2e4; row 1: 2e4 + log(19); row 2: log(37)
        double expected = (2e4 + (2e4 + Math.log(19)) + Math.log(N)) / 3;
        assertEquals(expected, loss.item(), 1e-2);
        loss.backward();
        assertFinite(x.grad(), "cross-entropy gradient");
    }

    @Test
    void sigmoidAndBinaryCrossEntropyWithLogitsStayFinite() {
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = i % 3 == 0 ? 1e4f : i % 3 == 1 ? -1e4f : 0f;
        }
        Tensor x = Tensor.of(v, N).requiresGrad(true);
        Tensor s = x.sigmoid();
        assertFinite(s, "sigmoid");
        assertEquals(1f, s.toFloatArray()[0], 0f);
        assertEquals(0f, s.toFloatArray()[1], 0f);
        assertEquals(0.5f, s.toFloatArray()[2], 0f);
        s.sum().backward();
        assertFinite(x.grad(), "sigmoid gradient");

        float[] t = new float[N];
        for (int i = 0; i < N; i++) {
            t[i] = i % 2; // half the targets disagree with a ±1e4 logit
        }
        Tensor z = Tensor.of(v, N).requiresGrad(true);
        Tensor bce = F.binaryCrossEntropyWithLogits(z, Tensor.of(t, N));
        assertFinite(bce, "BCE with logits");
        double sum = 0;
        for (int i = 0; i < N; i++) {
            double xi = v[i];
            sum += Math.max(xi, 0) - xi * t[i] + Math.log1p(Math.exp(-Math.abs(xi)));
        }
        assertEquals(sum / N, bce.item(), 1e-2);
        bce.backward();
        assertFinite(z.grad(), "BCE gradient");
    }
}
