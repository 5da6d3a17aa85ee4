package dev.backprop.nn;

import dev.backprop.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * The activation functions of the ops as modules ({@code new Activation.ReLU()}), with PyTorch's
 * class names so that summaries and reprs read the same.
 */
public abstract class Activation extends Module {
    private final String name;
    private final String repr;
    private final UnaryOperator<Tensor> fn;

    private Activation(String name, String repr, UnaryOperator<Tensor> fn) {
        this.name = name;
        this.repr = repr;
        this.fn = fn;
    }

    @Override
    protected Tensor compute(Tensor x) {
        return fn.apply(x);
    }

    @Override
    public String typeName() {
        return name;
    }

    @Override
    protected String extraRepr() {
        return repr;
    }

    public static final class ReLU extends Activation {
        public ReLU() {
            super("ReLU", "", Tensor::relu);
        }
    }

    public static final class LeakyReLU extends Activation {
        public LeakyReLU() {
            this(0.01f);
        }

        private final float negativeSlope;

        public LeakyReLU(float negativeSlope) {
            super("LeakyReLU", "negative_slope=" + negativeSlope, x -> x.leakyRelu(negativeSlope));
            this.negativeSlope = negativeSlope;
        }

        public float negativeSlope() {
            return negativeSlope;
        }
    }

    public static final class ELU extends Activation {
        public ELU() {
            this(1f);
        }

        private final float alpha;

        public ELU(float alpha) {
            super("ELU", "alpha=" + alpha, x -> x.elu(alpha));
            this.alpha = alpha;
        }

        public float alpha() {
            return alpha;
        }
    }

    /** GELU, exact by default; {@code new GELU(true)} is the tanh approximation. */
    public static final class GELU extends Activation {
        public GELU() {
            this(false);
        }

        private final boolean tanhApproximation;

        public GELU(boolean tanhApproximation) {
            super("GELU", tanhApproximation ? "approximate='tanh'" : "approximate='none'",
                    tanhApproximation ? Tensor::geluTanh : Tensor::gelu);
            this.tanhApproximation = tanhApproximation;
        }

        /** Whether this is the tanh approximation (PyTorch's {@code approximate='tanh'}). */
        public boolean tanhApproximation() {
            return tanhApproximation;
        }
    }

    public static final class SiLU extends Activation {
        public SiLU() {
            super("SiLU", "", Tensor::silu);
        }
    }

    public static final class Sigmoid extends Activation {
        public Sigmoid() {
            super("Sigmoid", "", Tensor::sigmoid);
        }
    }

    public static final class Tanh extends Activation {
        public Tanh() {
            super("Tanh", "", Tensor::tanh);
        }
    }

    public static final class Softplus extends Activation {
        public Softplus() {
            this(1f, 20f);
        }

        private final float beta;
        private final float threshold;

        public Softplus(float beta, float threshold) {
            super("Softplus", "beta=" + beta + ", threshold=" + threshold, x -> x.softplus(beta, threshold));
            this.beta = beta;
            this.threshold = threshold;
        }

        public float beta() {
            return beta;
        }

        /** Above {@code beta * x > threshold} the function is x itself. */
        public float threshold() {
            return threshold;
        }
    }

    public static final class Softmax extends Activation {
        private final int dim;

        public Softmax(int dim) {
            super("Softmax", "dim=" + dim, x -> x.softmax(dim));
            this.dim = dim;
        }

        public int dim() {
            return dim;
        }
    }

    public static final class LogSoftmax extends Activation {
        private final int dim;

        public LogSoftmax(int dim) {
            super("LogSoftmax", "dim=" + dim, x -> x.logSoftmax(dim));
            this.dim = dim;
        }

        public int dim() {
            return dim;
        }
    }

    public static final class Identity extends Activation {
        public Identity() {
            super("Identity", "", x -> x);
        }
    }
}
