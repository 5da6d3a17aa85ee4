package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.kernels.Special;
import dev.backprop.kernels.UnaryOp;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;

/**
 * Elementwise functions of one tensor. Each {@link Fn} constant holds its value and its
 * derivative side by side; {@code p} and {@code q} are the function's scalar parameters (slope,
 * alpha, bounds, exponent...). Values are computed in double and rounded once to float.
 */
public final class Unary extends Node {

    /**
     * The functions; the doc line of each is its derivative formula. Those with an array kernel
     * ({@link UnaryOp}) are computed by it, the scalar kernel being the reference; the others by
     * their {@code f} and {@code df} here.
     */
    public enum Fn {
        /** y = -x;  dx = -dy */
        NEG("neg", UnaryOp.NEG),
        /** y = exp(x);  dx = dy * y */
        EXP("exp", UnaryOp.EXP),
        /** y = ln(x);  dx = dy / x */
        LOG("log", UnaryOp.LOG),
        /** y = sqrt(x);  dx = dy / (2 y) */
        SQRT("sqrt", UnaryOp.SQRT),
        /** y = |x|;  dx = dy * sign(x), with sign(0) = 0 as in PyTorch */
        ABS("abs", UnaryOp.ABS),
        /** y = sin(x);  dx = dy * cos(x) */
        SIN("sin", null) {
            double f(double x, double p, double q) { return Math.sin(x); }
            double df(double x, double y, double p, double q) { return Math.cos(x); }
        },
        /** y = cos(x);  dx = -dy * sin(x) */
        COS("cos", null) {
            double f(double x, double p, double q) { return Math.cos(x); }
            double df(double x, double y, double p, double q) { return -Math.sin(x); }
        },
        /** y = tanh(x);  dx = dy * (1 - y^2) */
        TANH("tanh", UnaryOp.TANH),
        /** y = 1 / (1 + exp(-x));  dx = dy * y * (1 - y) */
        SIGMOID("sigmoid", UnaryOp.SIGMOID),
        /** y = max(x, 0);  dx = dy where x > 0, else 0 (0 at x = 0, as PyTorch) */
        RELU("relu", UnaryOp.RELU),
        /** y = x > 0 ? x : p x;  dx = dy where x > 0, else p dy */
        LEAKY_RELU("leaky_relu", UnaryOp.LEAKY_RELU),
        /** y = x > 0 ? x : p (exp(x) - 1);  dx = dy where x > 0, else dy (y + p) */
        ELU("elu", null) {
            double f(double x, double p, double q) { return x > 0 ? x : p * Math.expm1(x); }
            double df(double x, double y, double p, double q) { return x > 0 ? 1 : y + p; }
        },
        /** y = x Phi(x);  dx = dy (Phi(x) + x phi(x)), Phi the standard normal CDF, phi its density */
        GELU("gelu", null) {
            double f(double x, double p, double q) { return x * normalCdf(x); }
            double df(double x, double y, double p, double q) { return normalCdf(x) + x * normalPdf(x); }
        },
        /** y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);  dx = dy (1/2 (1 + t) + x/2 (1 - t^2) u') */
        GELU_TANH("gelu_tanh", UnaryOp.GELU_TANH),
        /** y = x sigmoid(x);  dx = dy s (1 + x (1 - s)), s = sigmoid(x) */
        SILU("silu", UnaryOp.SILU),
        /** y = ln(1 + exp(p x)) / p, or x where p x > q;  dx = dy sigmoid(p x), or dy where p x > q */
        SOFTPLUS("softplus", null) {
            double f(double x, double p, double q) { return p * x > q ? x : Math.log1p(Math.exp(p * x)) / p; }
            double df(double x, double y, double p, double q) { return p * x > q ? 1 : sigmoid(p * x); }
        },
        /** y = min(max(x, p), q);  dx = dy where p <= x <= q, else 0 */
        CLAMP("clamp", null) {
            double f(double x, double p, double q) { return Double.isNaN(x) ? x : Math.min(Math.max(x, p), q); }
            double df(double x, double y, double p, double q) { return x >= p && x <= q ? 1 : 0; }
        },
        /** y = x^p;  dx = dy p x^(p-1) (0 when p = 0) */
        POW("pow", null) {
            double f(double x, double p, double q) { return Math.pow(x, p); }
            double df(double x, double y, double p, double q) { return p == 0 ? 0 : p * Math.pow(x, p - 1); }
        },
        /** y = p x + q;  dx = p dy */
        AFFINE("affine", UnaryOp.AFFINE),
        /** y = x / p;  dx = dy / p */
        DIV_SCALAR("div", null) {
            double f(double x, double p, double q) { return x / p; }
            double df(double x, double y, double p, double q) { return 1 / p; }
        };

        final String opName;
        /** The array kernel computing this function, or null for the generic loop. */
        final UnaryOp kernel;

        Fn(String opName, UnaryOp kernel) {
            this.opName = opName;
            this.kernel = kernel;
        }

        /** The value at x (functions with a {@link #kernel} are computed by it, see {@link UnaryOp}). */
        double f(double x, double p, double q) {
            throw new IllegalStateException(opName + " is computed by its kernel");
        }

        /** dy/dx at x, given y = f(x) (functions with a {@link #kernel}: see {@link UnaryOp}). */
        double df(double x, double y, double p, double q) {
            throw new IllegalStateException(opName + " is computed by its kernel");
        }

        private static double sigmoid(double x) {
            if (x >= 0) {
                return 1 / (1 + Math.exp(-x));
            }
            double e = Math.exp(x); // never overflows for x < 0
            return e / (1 + e);
        }

        private static double normalCdf(double x) {
            return 0.5 * (1 + Special.erf(x / Math.sqrt(2)));
        }

        private static double normalPdf(double x) {
            return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
        }
    }

    private final Fn fn;
    private final float p;
    private final float q;
    private Tensor out;

    private Unary(Fn fn, Tensor x, float p, float q, Tensor out) {
        super(fn.opName, x);
        this.fn = fn;
        this.p = p;
        this.q = q;
        this.out = out;
    }

    /** Applies {@code fn} with parameters p and q. */
    public static Tensor apply(Fn fn, Tensor x, float p, float q) {
        x.requireType(DType.FLOAT32, fn.opName);
        Tensor xc = x.detach().contiguous();
        float[] in = xc.floatStorage();
        int off = xc.offset();
        float[] y = new float[xc.numel()];
        if (fn.kernel != null) {
            Kernels.get().unary(fn.kernel, p, q, in, off, y, 0, y.length);
        } else {
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) fn.f(in[off + i], p, q);
            }
        }
        Tensor out = Tensor.of(y, x.shape());
        return record(fn.opName, out, needsGrad(x) ? new Unary(fn, x, p, q, out) : null);
    }

    /** {@code scale * x + shift}. */
    public static Tensor affine(Tensor x, float scale, float shift) {
        return apply(Fn.AFFINE, x, scale, shift);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor x = input(0).detach().contiguous();
        Tensor g = dy.contiguous();
        float[] xv = x.floatStorage();
        float[] yv = out.floatStorage();
        float[] gv = g.floatStorage();
        int xo = x.offset();
        int go = g.offset();
        float[] dx = new float[yv.length];
        if (fn.kernel != null) {
            Kernels.get().unaryBackward(fn.kernel, p, q, xv, xo, yv, 0, gv, go, dx, 0, dx.length);
        } else {
            for (int i = 0; i < dx.length; i++) {
                dx[i] = (float) (gv[go + i] * fn.df(xv[xo + i], yv[i], p, q));
            }
        }
        return new Tensor[] {Tensor.of(dx, x.shape())};
    }

    @Override
    protected void release() {
        out = null;
    }
}
