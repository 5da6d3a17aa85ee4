package dev.backprop.tensor;

/**
 * A seeded random number generator whose sequence is the same on every JVM and machine:
 * xoshiro256** (Blackman and Vigna, 2018) seeded through SplitMix64. Its whole state is four
 * longs, so a checkpoint can save and restore it exactly ({@link #state()}, {@link #setState}).
 *
 * <p>Not thread-safe: give each thread its own generator.
 */
public final class Generator {
    private static final Generator DEFAULT = new Generator(0x5EEDL);

    private long s0;
    private long s1;
    private long s2;
    private long s3;

    /** A generator seeded with {@code seed}. */
    public Generator(long seed) {
        manualSeed(seed);
    }

    /** The process-wide generator used by factory methods without an explicit generator. */
    public static Generator defaultGenerator() {
        return DEFAULT;
    }

    /** Reseeds this generator (like {@code torch.manual_seed} on the default one). */
    public Generator manualSeed(long seed) {
        long x = seed;
        x += 0x9E3779B97F4A7C15L;
        s0 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s1 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s2 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s3 = mix(x);
        return this;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The next 64 random bits. */
    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in [0, 1) with 24 random bits, every value exactly representable as a float. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform integer in [0, bound) without modulo bias (Lemire's method). */
    public long nextLong(long bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long r = nextLong() >>> 1;
        long m = bound - 1;
        if ((bound & m) == 0L) {
            return r & m;
        }
        for (long u = r; u - (r = u % bound) + m < 0L; u = nextLong() >>> 1) {
            // rejection: retry on the biased top range
        }
        return r;
    }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        return (int) nextLong(bound);
    }

    /** Standard normal by the Box-Muller transform (one value per call, so the state stays four longs). */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log never sees 0
        double u2 = nextDouble();
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * Math.PI * u2); // StrictMath: same bits on every JVM
    }

    /** A copy of the internal state, for checkpoints. */
    public long[] state() {
        return new long[] {s0, s1, s2, s3};
    }

    /** Restores a state returned by {@link #state()}. */
    public void setState(long[] state) {
        if (state.length != 4) {
            throw new IllegalArgumentException("generator state must have 4 longs, got " + state.length);
        }
        if ((state[0] | state[1] | state[2] | state[3]) == 0) {
            throw new IllegalArgumentException("generator state must not be all zero");
        }
        s0 = state[0];
        s1 = state[1];
        s2 = state[2];
        s3 = state[3];
    }
}
