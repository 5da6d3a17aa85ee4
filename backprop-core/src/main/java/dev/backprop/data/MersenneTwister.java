package dev.backprop.data;

/**
 * MT19937, the 32-bit Mersenne Twister (Matsumoto and Nishimura, 1998) with the standard
 * {@code init_genrand} seeding — the engine of PyTorch's CPU generator. With it, Java code draws
 * the same random integers as PyTorch: {@code new MersenneTwister(s).nextBelow(n)} repeated gives
 * the numbers of {@code torch.randint(n, (k,), generator=torch.Generator().manual_seed(s))} for
 * any {@code n < 2^32} (torch takes one 32-bit output per number, modulo {@code n}).
 *
 * <p>It exists so that a run can be scored on exactly the examples a PyTorch reference script
 * samples (the char-gpt recipe's validation windows are those of {@code quality.py q2}); the
 * framework's own randomness comes from {@link dev.backprop.tensor.Generator}.
 */
public final class MersenneTwister {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] mt = new int[N];
    private int index = N;

    /** Seeded as {@code torch.Generator().manual_seed(seed)} for a seed in [0, 2^32). */
    public MersenneTwister(long seed) {
        if (seed < 0 || seed > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("MT19937 seed must be in [0, 2^32), got " + seed);
        }
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
    }

    /** The next 32-bit output, as an unsigned value in [0, 2^32). */
    public long nextUnsignedInt() {
        if (index >= N) {
            twist();
        }
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9D2C5680;
        y ^= (y << 15) & 0xEFC60000;
        y ^= y >>> 18;
        return Integer.toUnsignedLong(y);
    }

    /** A number in [0, bound): the next output modulo {@code bound}, as {@code torch.randint(bound)}. */
    public int nextBelow(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        return (int) (nextUnsignedInt() % bound);
    }

    /** Skips {@code count} outputs (the numbers another consumer of the same stream drew first). */
    public void skip(long count) {
        for (long i = 0; i < count; i++) {
            nextUnsignedInt();
        }
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % N] & 0x7FFF_FFFF);
            mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908_B0DF : 0);
        }
        index = 0;
    }
}
