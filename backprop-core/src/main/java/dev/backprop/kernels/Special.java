package dev.backprop.kernels;

/** Special functions the JDK lacks, in double precision. */
public final class Special {
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double INV_SQRT_PI = 0.5641895835477563;

    private Special() {}

    /**
     * The error function. Below |x| = 2.5 its Maclaurin series (alternating terms, at most ~60 of
     * them, relative error ~1e-14); above, the Laplace continued fraction of erfc, which
     * converges quickly there. Odd: erf(-x) = -erf(x).
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax < 2.5) {
            double x2 = ax * ax;
            double term = ax; // x^(2n+1) (-1)^n / n!
            double sum = ax;
            for (int n = 1; n < 100; n++) {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.abs(t) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            return Math.copySign(TWO_OVER_SQRT_PI * sum, x);
        }
        return Math.copySign(1.0 - erfcLarge(ax), x);
    }

    /** erfc(x) for x >= 2.5: exp(-x^2) / (sqrt(pi) (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))). */
    private static double erfcLarge(double x) {
        if (x > 27) {
            return 0;
        }
        double k = x;
        for (int n = 60; n >= 1; n--) {
            k = x + (n / 2.0) / k;
        }
        return Math.exp(-x * x) * INV_SQRT_PI / k;
    }
}
