package dev.backprop.bench;

import java.util.List;

/**
 * One matrix product shape to time: {@code C (m×n) = op(A) · op(B)} with inner size k, where
 * {@code transA}/{@code transB} say that A (B) is stored transposed, as in the backward passes.
 *
 * @param label where the shape comes from, such as {@code W1 fc1 fwd}
 */
public record GemmShape(String label, int m, int n, int k, boolean transA, boolean transB) {

    public GemmShape {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("GEMM shape " + label + ": sizes must be positive, got m=" + m + ", n="
                    + n + ", k=" + k);
        }
    }

    /** Floating-point operations of one product: 2·m·n·k. */
    public double flops() {
        return 2.0 * m * n * k;
    }

    /** Compact form, e.g. {@code 128x512x784 NT} (m x n x k, then N or T for A and B). */
    public String spec() {
        return m + "x" + n + "x" + k + " " + (transA ? 'T' : 'N') + (transB ? 'T' : 'N');
    }

    /** W5: the square products n = 256, 512, 1024, 2048. */
    public static List<GemmShape> squares() {
        return List.of(square(256), square(512), square(1024), square(2048));
    }

    static GemmShape square(int n) {
        return new GemmShape("W5 n=" + n, n, n, n, false, false);
    }

    /**
     * The matrix products that dominate W1–W4, forward and backward. A linear layer y = x·Wᵀ with
     * x (rows×in) and W (out×in) runs forward as NT, the input gradient dY·W as NN and the weight
     * gradient dYᵀ·x as TN.
     */
    public static List<GemmShape> narrow() {
        return List.of(
                new GemmShape("W1 fc1 fwd", 128, 512, 784, false, true),
                new GemmShape("W1 fc1 dW", 512, 784, 128, true, false),
                new GemmShape("W1 fc2 dX", 128, 512, 256, false, false),
                new GemmShape("W1 logits fwd", 128, 10, 256, false, true),
                new GemmShape("W1 logits dW", 10, 256, 128, true, false),
                new GemmShape("W2 conv2 fwd", 12544, 64, 288, false, true),
                new GemmShape("W2 conv2 dW", 64, 288, 12544, true, false),
                new GemmShape("W2 fc1 fwd", 64, 128, 3136, false, true),
                new GemmShape("W3 qkv fwd", 768, 384, 128, false, true),
                new GemmShape("W3 fc2 dW", 128, 512, 768, true, false),
                new GemmShape("W3 head fwd", 768, 65, 128, false, true),
                new GemmShape("W3 scores", 64, 64, 32, false, true),
                new GemmShape("W4 input proj", 2048, 1024, 128, false, true),
                new GemmShape("W4 recurrent", 32, 1024, 256, false, true),
                new GemmShape("W4 recurrent dH", 32, 256, 1024, false, false),
                new GemmShape("W4 head fwd", 2048, 65, 256, false, true));
    }
}
