/**
 * The reference workloads of the project's benchmark (W1–W5 of {@code WORKLOADS.md}) and the means
 * to time them: median step and forward times over blocks of steps after warm-up, allocation per
 * step, peak resident memory, GEMM throughput per shape, and PyTorch's figures on the same machine
 * for side-by-side ratios. {@code ./backprop bench} is the front end.
 */
package dev.backprop.bench;
