/**
 * Training that explains itself: a cheap gradient-flow {@link dev.backprop.diagnostics.Monitor}
 * that the {@link dev.backprop.train.Trainer} runs by default every few optimizer steps, and a
 * {@link dev.backprop.diagnostics.Doctor} whose rules turn its numbers (and the validation
 * history) into plain-words {@link dev.backprop.diagnostics.Diagnosis diagnoses} with a fix to try:
 * vanishing and exploding gradients, NaN/Inf, dead ReLUs, frozen or disconnected layers, a
 * learning rate too low or too high, and overfitting.
 *
 * <p>The monitor's {@link dev.backprop.diagnostics.StepStats} and the diagnoses reach the
 * {@link dev.backprop.train.TrainingListener}s ({@code onDiagnostics}, {@code onDiagnosis}); the
 * {@link dev.backprop.train.MetricsLog} writes them into the run's {@code metrics.jsonl} as
 * {@code {"type":"grad", ...}} and {@code {"type":"diagnosis", ...}} records.
 */
package dev.backprop.diagnostics;
