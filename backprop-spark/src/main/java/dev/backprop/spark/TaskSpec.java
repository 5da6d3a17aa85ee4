package dev.backprop.spark;

import java.io.Serializable;

/** Everything a task needs besides the broadcast weights: shipped once per job in the closure. */
record TaskSpec(String runId, ModelFactory model, OptimizerFactory optimizer, SparkLoss loss, ShardPlan plan,
        int microBatch, boolean averageOptimizerState, int kernelThreads) implements Serializable {}
