package dev.backprop.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Memory figures for the benchmark: bytes allocated on the Java heap by all threads (HotSpot's
 * {@code com.sun.management.ThreadMXBean}) and the process's peak resident set size (Linux
 * {@code /proc/self/status}, VmHWM), which can be reset between workloads.
 */
public final class Memory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private Memory() {}

    /** Bytes allocated on the heap so far by all live threads, or -1 where the JVM cannot tell. */
    public static long allocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean
                && bean.isThreadAllocatedMemorySupported() && bean.isThreadAllocatedMemoryEnabled()) {
            return bean.getTotalThreadAllocatedBytes();
        }
        return -1;
    }

    /** Peak resident set size of this process in bytes, or -1 where the system does not report it. */
    public static long peakResidentBytes() {
        return bytes(statusKilobytes("VmHWM:"));
    }


    /**
     * Resets the peak resident set size to the current one (Linux: writes 5 to
     * /proc/self/clear_refs), so the next {@link #peakResidentBytes()} covers what follows; returns
     * false where that is not possible.
     */
    public static boolean resetPeakResident() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static long bytes(long kilobytes) {
        return kilobytes < 0 ? -1 : kilobytes * 1024;
    }

    private static long statusKilobytes(String key) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(key)) {
                    String v = line.substring(key.length()).trim();
                    return Long.parseLong(v.substring(0, v.indexOf(' ')));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
