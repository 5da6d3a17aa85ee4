package dev.backprop.bench;

/**
 * What one workload measured at one thread count.
 *
 * @param id workload id
 * @param threads kernel threads
 * @param batch samples per step
 * @param parameters trainable parameter elements
 * @param step training step times
 * @param forward forward-only (no-grad) times
 * @param firstStepMs time from starting to build the workload to the end of its first step
 *     (model and data creation, first compilation of the code it runs)
 * @param allocatedBytesPerStep heap bytes allocated per training step (all threads), -1 if unknown
 * @param peakResidentBytes peak resident memory of the process while the workload ran, -1 if unknown
 */
public record WorkloadResult(String id, int threads, int batch, long parameters, Timing step, Timing forward,
                             double firstStepMs, long allocatedBytesPerStep, long peakResidentBytes) {

    /** Samples per second at the median step time. */
    public double samplesPerSecond() {
        return batch / (step.medianMs() / 1e3);
    }
}
