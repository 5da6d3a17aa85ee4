package dev.backprop.train;

/**
 * One optimizer step.
 *
 * @param step optimizer steps taken so far (1 for the first)
 * @param epoch the epoch (from 0)
 * @param batch the index of the last batch of this step within its epoch
 * @param batchesPerEpoch batches in an epoch
 * @param loss the training loss of this step (mean over its micro-batches)
 * @param lr the learning rate used (first parameter group)
 * @param gradNorm global L2 norm of the gradients before clipping; with diagnostics on and no
 *     clipping it is measured only on monitored steps and every 10th step (NaN on the others: a
 *     pass over every gradient on each step is a visible cost on small, fast models)
 * @param examples examples in this step
 * @param seconds wall time of the step
 */
public record StepReport(long step, int epoch, int batch, int batchesPerEpoch, double loss, double lr,
        double gradNorm, int examples, double seconds) {

    /** Examples per second in this step. */
    public double throughput() {
        return seconds > 0 ? examples / seconds : Double.NaN;
    }
}
