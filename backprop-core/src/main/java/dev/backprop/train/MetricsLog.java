package dev.backprop.train;

import dev.backprop.diagnostics.Diagnosis;
import dev.backprop.diagnostics.Norms;
import dev.backprop.diagnostics.StepStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the training stream into a run folder's {@code metrics.jsonl}: one record every
 * {@code every} steps ({@code type: step}), one per epoch (with its validation), one per
 * validation on a step cadence ({@code type: validation}), one per monitored step of the
 * gradient-flow monitor ({@code type: grad}: per layer and per parameter gradient norm, weight
 * norm and update ratio, dead ReLU fractions, fraction of non-finite gradients) and one per diagnosis of the
 * doctor ({@code type: diagnosis}).
 */
public final class MetricsLog implements TrainingListener {
    private final RunFolder run;
    private final int every;

    public MetricsLog(RunFolder run, int every) {
        this.run = run;
        this.every = Math.max(1, every);
    }

    @Override
    public void onStep(Trainer trainer, StepReport s) {
        if (s.step() % every != 0) {
            return;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "step");
        r.put("step", s.step());
        r.put("epoch", s.epoch());
        r.put("loss", finite(s.loss()));
        r.put("lr", s.lr());
        r.put("grad_norm", finite(s.gradNorm()));
        r.put("examples_per_s", finite(s.throughput()));
        write(r);
    }

    @Override
    public void onEpochEnd(Trainer trainer, EpochReport e) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "epoch");
        r.put("epoch", e.epoch());
        r.put("step", trainer.step());
        r.put("train_loss", finite(e.trainLoss()));
        r.put("train_accuracy", finite(e.trainAccuracy()));
        if (e.validation() != null) {
            r.put("val_loss", finite(e.validation().loss()));
            r.put("val_accuracy", finite(e.validation().accuracy()));
            if (e.validation().confusion() != null) { // rows: true class, columns: predicted
                r.put("val_confusion", e.validation().confusion().counts());
            }
        }
        r.put("seconds", e.seconds());
        write(r);
    }

    /**
     * A validation on a step cadence ({@link Trainer.Builder#validateEverySteps}) is a record of its
     * own, {@code type: validation}; per-epoch validations go into the epoch record.
     */
    @Override
    public void onValidation(Trainer trainer, Evaluation validation) {
        if (trainer.validateEverySteps() <= 0) {
            return;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "validation");
        r.put("step", trainer.step());
        r.put("val_loss", finite(validation.loss()));
        r.put("val_accuracy", finite(validation.accuracy()));
        write(r);
    }

    @Override
    public void onTrainEnd(Trainer trainer, History history) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "end");
        r.put("step", trainer.step());
        r.put("epochs", history.epochs().size());
        r.put("stop_reason", history.stopReason());
        write(r);
    }

    @Override
    public void onDiagnostics(Trainer trainer, StepStats s) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "grad");
        r.put("step", s.step());
        r.put("loss", finite(s.loss()));
        r.put("grad_norm", finite(s.gradNorm()));
        r.put("nonfinite", s.nonFiniteFraction());
        r.put("layers", norms(s.layers()));
        r.put("params", norms(s.parameters()));
        r.put("dead", new LinkedHashMap<>(s.dead()));
        write(r);
    }

    @Override
    public void onDiagnosis(Trainer trainer, Diagnosis d) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "diagnosis");
        r.put("step", d.step());
        r.put("rule", d.rule());
        r.put("severity", d.severity().name().toLowerCase(java.util.Locale.ROOT));
        r.put("layers", d.layers());
        r.put("message", d.message());
        r.put("fix", d.fix());
        write(r);
    }

    /** Per layer or per parameter: gradient norm (null when none reached it), weight norm, update ratio. */
    private static Map<String, Object> norms(Map<String, Norms> byName) {
        Map<String, Object> out = new LinkedHashMap<>();
        byName.forEach((name, n) -> {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("grad_norm", n.hasGrad() ? finite(n.gradNorm()) : null);
            l.put("weight_norm", finite(n.weightNorm()));
            l.put("update_ratio", finite(n.updateRatio()));
            if (n.nonFiniteFraction() > 0) {
                l.put("nonfinite", n.nonFiniteFraction());
            }
            out.put(name, l);
        });
        return out;
    }

    /** JSON has no NaN or infinity: such values are written as null. */
    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private void write(Map<String, Object> r) {
        try {
            run.log(r);
        } catch (IOException ex) {
            throw new UncheckedIOException("could not append to " + run.dir().resolve("metrics.jsonl"), ex);
        }
    }
}
