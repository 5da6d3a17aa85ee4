package dev.backprop.spark;

import java.io.Serializable;

/**
 * What one partition sends back after a step (synchronous) or a round (local SGD), and the sum of
 * several: the gradient (or parameters) flattened in parameter order, the float buffers (batch-norm
 * statistics), the optimizer state, and the loss and accuracy counts.
 */
final class Partial implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The first partition summed into this one. */
    int partition;
    /** Partitions summed. */
    int count;
    /** Synchronous: the gradient of the step's loss; local SGD: the parameters after the round. */
    float[] vector;
    /** Float buffers after the step (running statistics), flattened. */
    float[] buffers;
    /** Local SGD: the gradient of the last local step. */
    float[] lastGradient;
    /** Local SGD: the optimizer state after the round. */
    OptimizerStateData state;
    /** Sum over examples of the per-example loss. */
    double lossSum;
    long correct;
    long examples;
    /** Longest compute time of one partition (forward, backward, local steps), in nanoseconds. */
    long maxComputeNanos;

    /** Adds {@code o} into this one (element-wise sums); returns this. */
    Partial add(Partial o) {
        add(vector, o.vector);
        add(buffers, o.buffers);
        add(lastGradient, o.lastGradient);
        if (state != null) {
            state.add(o.state);
        }
        partition = Math.min(partition, o.partition);
        count += o.count;
        lossSum += o.lossSum;
        correct += o.correct;
        examples += o.examples;
        maxComputeNanos = Math.max(maxComputeNanos, o.maxComputeNanos);
        return this;
    }

    private static void add(float[] into, float[] x) {
        if (into == null) {
            return;
        }
        if (x.length != into.length) {
            throw new IllegalStateException("partitions sent vectors of different lengths (" + into.length + " and "
                    + x.length + "): does the model factory build the same architecture every time?");
        }
        for (int i = 0; i < into.length; i++) {
            into[i] += x[i];
        }
    }

    /**
     * The partials summed in the order given (partition order after {@code collect()}): the first
     * one is taken as it is and the others are added one after the other, element by element.
     */
    static Partial sumInOrder(java.util.List<Partial> parts) {
        if (parts.isEmpty()) {
            throw new IllegalStateException("no partition sent a result");
        }
        Partial total = parts.get(0);
        for (int i = 1; i < parts.size(); i++) {
            total.add(parts.get(i));
        }
        return total;
    }
}
