package dev.backprop.train;

/**
 * One finished epoch.
 *
 * @param epoch the epoch (from 0)
 * @param trainLoss mean training loss over the epoch's steps
 * @param trainAccuracy training accuracy measured on the batches as they were trained (NaN if not classification)
 * @param validation the validation result, or null without validation data
 * @param seconds wall time of the epoch's training (validation excluded)
 */
public record EpochReport(int epoch, double trainLoss, double trainAccuracy, Evaluation validation, double seconds) {}
