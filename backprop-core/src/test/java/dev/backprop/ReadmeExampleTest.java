package dev.backprop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.nn.F;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Runs the README's Java example and keeps the README and this test in sync. */
class ReadmeExampleTest {

    @Test
    void readmeExampleComputesTheRightGradient() {
        // ---- the README example, line for line ----
        Generator gen = new Generator(42);
        Tensor x = Tensor.randn(gen, 8, 4);                                   // 8 samples, 4 features
        Tensor y = Tensor.ofLongs(new long[] {0, 1, 2, 0, 1, 2, 0, 1}, 8);    // class of each sample
        Tensor w = Tensor.randn(gen, 4, 3).requiresGrad(true);                // weights to learn
        Tensor b = Tensor.zeros(3).requiresGrad(true);

        Tensor loss = F.crossEntropy(x.matmul(w).add(b), y);                  // forward: softmax cross-entropy
        loss.backward();                                                      // backward: fills w.grad(), b.grad()

        System.out.println(loss.item());
        System.out.println(w.grad());                                         // d loss / d w, shape [4, 3]
        // ---- end of the example ----

        // closed form: dL/dw = xᵀ (softmax(xw + b) - onehot(y)) / N, computed with plain loops
        float[] xv = x.toFloatArray();
        float[] wv = w.toFloatArray();
        long[] yv = y.toLongArray();
        double[] expected = new double[12];
        double[] expectedB = new double[3];
        for (int i = 0; i < 8; i++) {
            double[] z = new double[3];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 3; c++) {
                for (int k = 0; k < 4; k++) {
                    z[c] += xv[i * 4 + k] * wv[k * 3 + c];
                }
                max = Math.max(max, z[c]);
            }
            double sum = 0;
            for (int c = 0; c < 3; c++) {
                sum += Math.exp(z[c] - max);
            }
            for (int c = 0; c < 3; c++) {
                double d = (Math.exp(z[c] - max) / sum - (yv[i] == c ? 1 : 0)) / 8;
                expectedB[c] += d;
                for (int k = 0; k < 4; k++) {
                    expected[k * 3 + c] += xv[i * 4 + k] * d;
                }
            }
        }
        assertArrayEquals(toFloat(expected), w.grad().toFloatArray(), 1e-5f);
        assertArrayEquals(toFloat(expectedB), b.grad().toFloatArray(), 1e-5f);
    }

    @Test
    void readmeShowsThisExample() throws IOException {
        Path readme = Path.of("..", "README.md");
        Path self = Path.of("src", "test", "java", "dev", "backprop", "ReadmeExampleTest.java");
        String text = Files.readString(readme);
        int start = text.indexOf("```java\n");
        int end = text.indexOf("```", start + 7);
        String source = Files.readString(self);
        String[] lines = text.substring(start + 8, end).split("\n");
        Arrays.stream(lines)
                .filter(l -> !l.isBlank() && !l.startsWith("import "))
                .forEach(l -> assertTrue(source.contains(l.strip()), "README line not in the test: " + l));
    }

    private static float[] toFloat(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }
}
