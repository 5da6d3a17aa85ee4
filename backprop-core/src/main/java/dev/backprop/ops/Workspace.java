package dev.backprop.ops;

/**
 * Per-thread scratch arrays reused from call to call by ops that need large temporary buffers
 * (the column matrices of convolutions), so that a training step does not allocate and zero
 * megabytes of garbage each time. A buffer's contents are undefined when handed out; nothing that
 * outlives the call may keep it.
 */
final class Workspace {
    private static final int SLOTS = 3;
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[SLOTS][]);

    private Workspace() {}

    /** A scratch array of at least {@code size} floats for slot {@code slot} (0..2) of this thread. */
    static float[] get(int slot, int size) {
        float[][] slots = BUFFERS.get();
        float[] b = slots[slot];
        if (b == null || b.length < size) {
            b = new float[size];
            slots[slot] = b;
        }
        return b;
    }
}
