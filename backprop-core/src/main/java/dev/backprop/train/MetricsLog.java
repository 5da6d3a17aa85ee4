package dev.backprop.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the training stream into a run folder's {@code metrics.jsonl}: one record every
 * {@code every} steps ({@code type: step}) and one per validation and epoch.
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
        }
        r.put("seconds", e.seconds());
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
