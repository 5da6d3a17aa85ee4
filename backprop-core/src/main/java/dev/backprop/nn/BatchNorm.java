package dev.backprop.nn;

import dev.backprop.autograd.GradMode;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;

/**
 * Batch normalisation over channels (PyTorch's {@code _BatchNorm}): weight (C) = 1, bias (C) = 0,
 * buffers running_mean (C) = 0, running_var (C) = 1 and num_batches_tracked (int64 scalar).
 * Training mode normalises with the batch's statistics and updates the running ones
 * (running = (1 - momentum) running + momentum batch, unbiased variance); eval mode uses the
 * running ones. {@link BatchNorm1d} takes (N, C) or (N, C, L), {@link BatchNorm2d} (N, C, H, W).
 */
public abstract class BatchNorm extends Module {
    private final int numFeatures;
    private final float eps;
    private final float momentum;
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final Tensor numBatchesTracked;

    BatchNorm(int numFeatures, float eps, float momentum, boolean affine, boolean trackRunningStats) {
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = affine ? registerParameter("weight", Tensor.ones(numFeatures)) : null;
        this.bias = affine ? registerParameter("bias", Tensor.zeros(numFeatures)) : null;
        this.runningMean = trackRunningStats ? registerBuffer("running_mean", Tensor.zeros(numFeatures)) : null;
        this.runningVar = trackRunningStats ? registerBuffer("running_var", Tensor.ones(numFeatures)) : null;
        this.numBatchesTracked = trackRunningStats
                ? registerBuffer("num_batches_tracked", Tensor.empty(DType.INT64)) : null;
    }

    /** Ranks of input this layer accepts, and how to describe them. */
    abstract boolean acceptsRank(int rank);

    abstract String expectedShape();

    @Override
    protected Tensor compute(Tensor x) {
        checkInput(acceptsRank(x.dim()) && x.size(1) == numFeatures, expectedShape(), x);
        boolean useBatchStats = isTraining() || runningMean == null;
        if (isTraining() && numBatchesTracked != null) {
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                numBatchesTracked.longStorage()[numBatchesTracked.offset()]++;
            }
        }
        return F.batchNorm(x, runningMean, runningVar, weight, bias, useBatchStats,
                momentum, eps);
    }

    public Tensor runningMean() {
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    /** The number of channels C. */
    public int numFeatures() {
        return numFeatures;
    }

    public float eps() {
        return eps;
    }

    @Override
    protected String extraRepr() {
        return numFeatures + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + (weight != null)
                + ", track_running_stats=" + (runningMean != null);
    }
}
