package dev.backprop.autograd;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Checks analytic gradients (the backward pass) against numerical ones, for any function or
 * module built from backprop's ops.
 *
 * <p>Method. The output y is projected on a fixed random direction r, L = Σ y·r (accumulated in
 * double), so one backward pass with gradient r gives dL/dx for every input element. Each
 * element is then perturbed by ±h and ±h/2 and the two central differences D(h), D(h/2) are
 * combined by Richardson extrapolation, (4 D(h/2) - D(h)) / 3, whose truncation error is O(h⁴):
 * that lets h be large enough (1e-2) for float32 rounding in the forward pass to stay small. An
 * element passes when |analytic - numeric| ≤ atol + rtol·|numeric| + noise, where noise bounds
 * the float32 rounding of L divided by the step. With the defaults a gradient that is off by 2%
 * or more of its value (or by 2e-3 near zero) fails; the test suite shows that wrong gradients
 * (scaled, sign-flipped, transposed, missing a broadcast sum) are caught.
 *
 * <p>Inputs must avoid points where the function is not differentiable by more than the step
 * (relu or abs at 0, clamp at its bounds, ties in max).
 */
public final class GradCheck {
    private static final double UNIT_ROUNDOFF = 0x1.0p-24;
    /** The relative error is reported over elements whose gradient is at least this large. */
    private static final double REL_FLOOR = 1e-2;

    private GradCheck() {}

    /** Step and tolerances. */
    public record Options(double step, double atol, double rtol, long seed) {
        public static Options defaults() {
            return new Options(1e-2, 1e-3, 1e-2, 1234);
        }

        public Options withStep(double h) {
            return new Options(h, atol, rtol, seed);
        }

        public Options withTolerance(double absolute, double relative) {
            return new Options(step, absolute, relative, seed);
        }
    }

    /**
     * Outcome of one check. {@code maxRelError} is taken over elements whose numerical gradient
     * is at least 1e-2 in magnitude (smaller ones are judged by the absolute tolerance).
     */
    public record Report(boolean passed, int elementsChecked, double maxAbsError, double maxRelError,
            String worstElement, List<String> failures) {

        /** One line: PASS/FAIL, count, the worst error. */
        public String summary() {
            return String.format(Locale.ROOT, "%s  %d elements, max abs err %.2e, max rel err %.2e%s",
                    passed ? "PASS" : "FAIL", elementsChecked, maxAbsError, maxRelError,
                    passed ? "" : "; first failure: " + failures.get(0));
        }
    }

    /** Thrown by {@link #assertGradients} when a check fails. */
    public static final class GradCheckFailedException extends AssertionError {
        public GradCheckFailedException(String message) {
            super(message);
        }
    }

    /**
     * Checks {@code f} at {@code inputs}: every float input with {@code requiresGrad()} is checked.
     * The inputs are copied first, so the caller's tensors are not touched.
     */
    public static Report check(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, Options options) {
        List<Tensor> leaves = new ArrayList<>(inputs.size());
        List<Tensor> checked = new ArrayList<>();
        for (Tensor t : inputs) {
            if (t.dtype() == DType.FLOAT32 && t.requiresGrad()) {
                Tensor leaf = t.copy().requiresGrad(true);
                leaves.add(leaf);
                checked.add(leaf);
            } else {
                leaves.add(t);
            }
        }
        return check(() -> f.apply(leaves), checked, options);
    }

    /** {@link #check(Function, List, Options)} with default options. */
    public static Report check(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        return check(f, Arrays.asList(inputs), Options.defaults());
    }

    /**
     * Checks a closure that reads {@code parameters} (for example a module's forward on fixed
     * inputs). Each parameter is perturbed in place and restored; their {@code grad()} is
     * restored afterwards too.
     */
    public static Report check(Supplier<Tensor> forward, List<Tensor> parameters, Options options) {
        Tensor[] savedGrads = new Tensor[parameters.size()];
        for (int i = 0; i < savedGrads.length; i++) {
            Tensor p = parameters.get(i);
            p.requireType(DType.FLOAT32, "gradcheck");
            if (!p.isLeaf() || !p.requiresGrad()) {
                throw new IllegalArgumentException("gradcheck: parameter " + i + " " + Shape.str(p.shape())
                        + " must be a leaf with requiresGrad(true)");
            }
            savedGrads[i] = p.grad();
            p.zeroGrad();
        }
        try {
            return run(forward, parameters, options);
        } finally {
            for (int i = 0; i < savedGrads.length; i++) {
                parameters.get(i).setGrad(savedGrads[i]);
            }
        }
    }

    /** Like {@link #check(Function, List, Options)}, but throws with the details when it fails. */
    public static Report assertGradients(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, Options options) {
        Report r = check(f, inputs, options);
        if (!r.passed()) {
            throw new GradCheckFailedException("gradient check failed: " + r.summary() + "\n  "
                    + String.join("\n  ", r.failures().subList(0, Math.min(10, r.failures().size()))));
        }
        return r;
    }

    private static Report run(Supplier<Tensor> forward, List<Tensor> params, Options o) {
        Tensor y = forward.get();
        y.requireType(DType.FLOAT32, "gradcheck (output)");
        Generator gen = new Generator(o.seed());
        float[] r = new float[y.numel()];
        for (int i = 0; i < r.length; i++) {
            r[i] = y.numel() == 1 ? 1f : (float) gen.nextGaussian();
        }
        double scale = 0;
        float[] yv = y.toFloatArray();
        for (int i = 0; i < r.length; i++) {
            scale += Math.abs((double) yv[i] * r[i]);
        }
        if (y.requiresGrad()) {
            y.backward(Tensor.of(r.clone(), y.shape()));
        }
        int count = 0;
        double maxAbs = 0;
        double maxRel = 0;
        String worst = "";
        List<String> failures = new ArrayList<>();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int pi = 0; pi < params.size(); pi++) {
                Tensor p = params.get(pi);
                float[] analytic = p.grad() == null ? new float[p.numel()] : p.grad().toFloatArray();
                float[] storage = p.floatStorage();
                int[] shape = p.shape();
                int[] idx = new int[shape.length];
                for (int e = 0; e < p.numel(); e++) {
                    int pos = p.storageIndex(idx);
                    float x0 = storage[pos];
                    double h = o.step() * Math.max(1, Math.abs(x0));
                    double d1 = centralDifference(forward, r, storage, pos, x0, h);
                    double d2 = centralDifference(forward, r, storage, pos, x0, h / 2);
                    storage[pos] = x0;
                    double numeric = (4 * d2 - d1) / 3;
                    double noise = 8 * UNIT_ROUNDOFF * scale / h;
                    double err = Math.abs(analytic[e] - numeric);
                    double rel = err / Math.max(Math.abs(numeric), 1e-12);
                    count++;
                    if (err > maxAbs) {
                        maxAbs = err;
                        worst = describe(pi, idx, analytic[e], numeric);
                    }
                    maxRel = Math.max(maxRel, Math.abs(numeric) >= REL_FLOOR ? rel : 0);
                    if (!(err <= o.atol() + o.rtol() * Math.abs(numeric) + noise)) {
                        failures.add(describe(pi, idx, analytic[e], numeric));
                    }
                    increment(idx, shape);
                }
            }
        }
        return new Report(failures.isEmpty(), count, maxAbs, maxRel, worst, failures);
    }

    /** (L(x0 + h) - L(x0 - h)) / (actual step), with L = Σ y·r in double. */
    private static double centralDifference(Supplier<Tensor> forward, float[] r, float[] storage, int pos, float x0,
            double h) {
        float plus = (float) (x0 + h);
        float minus = (float) (x0 - h);
        storage[pos] = plus;
        double lp = project(forward.get(), r);
        storage[pos] = minus;
        double lm = project(forward.get(), r);
        return (lp - lm) / ((double) plus - minus);
    }

    private static double project(Tensor y, float[] r) {
        float[] v = y.toFloatArray();
        double s = 0;
        for (int i = 0; i < v.length; i++) {
            s += (double) v[i] * r[i];
        }
        return s;
    }

    private static String describe(int input, int[] idx, double analytic, double numeric) {
        return String.format(Locale.ROOT, "input %d %s: analytic %.6g, numeric %.6g", input, Arrays.toString(idx),
                analytic, numeric);
    }

    private static void increment(int[] idx, int[] shape) {
        for (int k = idx.length - 1; k >= 0; k--) {
            if (++idx[k] < shape[k]) {
                return;
            }
            idx[k] = 0;
        }
    }
}
