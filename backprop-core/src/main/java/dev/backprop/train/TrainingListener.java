package dev.backprop.train;

import dev.backprop.diagnostics.Diagnosis;
import dev.backprop.diagnostics.StepStats;

/**
 * Receives the trainer's events; every method has an empty default. Listeners see the same
 * records that go to {@code metrics.jsonl}, so the terminal, the report and the dashboard are
 * views of one stream.
 */
public interface TrainingListener {
    default void onTrainStart(Trainer trainer) {}

    /** After every optimizer step. */
    default void onStep(Trainer trainer, StepReport step) {}

    /** After each validation (end of epoch, or every N steps when so configured). */
    default void onValidation(Trainer trainer, Evaluation validation) {}

    default void onEpochEnd(Trainer trainer, EpochReport epoch) {}

    default void onTrainEnd(Trainer trainer, History history) {}

    /** After each monitored step (see {@link dev.backprop.diagnostics.Monitor}), after {@link #onStep}. */
    default void onDiagnostics(Trainer trainer, StepStats stats) {}

    /** When the {@link dev.backprop.diagnostics.Doctor} finds a problem (once per rule and run). */
    default void onDiagnosis(Trainer trainer, Diagnosis diagnosis) {}
}
