package dev.backprop.train;

import dev.backprop.nn.Module;
import dev.backprop.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stops training when the validation metric has not improved by more than {@code minDelta} for
 * {@code patience} validations, and (optionally) puts back the weights of the best validation
 * when training ends, as Keras' {@code EarlyStopping(restore_best_weights=True)}.
 */
public final class EarlyStopping implements TrainingListener {
    private final String monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBestWeights;
    private double best = Double.NaN;
    private int bad;
    private Map<String, Tensor> bestState;
    private int bestValidation = -1;
    private int validations;

    /** @param monitor "val_loss" (lower is better) or "val_accuracy" (higher is better) */
    public EarlyStopping(String monitor, int patience, double minDelta, boolean restoreBestWeights) {
        if (!monitor.equals("val_loss") && !monitor.equals("val_accuracy")) {
            throw new IllegalArgumentException("EarlyStopping monitors val_loss or val_accuracy, got " + monitor);
        }
        this.monitor = monitor;
        this.patience = patience;
        this.minDelta = minDelta;
        this.restoreBestWeights = restoreBestWeights;
    }

    @Override
    public void onValidation(Trainer trainer, Evaluation v) {
        validations++;
        double score = monitor.equals("val_loss") ? v.loss() : -v.accuracy();
        if (Double.isNaN(best) || score < best - minDelta) {
            best = score;
            bad = 0;
            bestValidation = validations;
            if (restoreBestWeights) {
                bestState = copy(trainer.model());
            }
        } else if (++bad >= patience) {
            trainer.requestStop("early stopping: " + monitor + " did not improve for " + patience
                    + " validations (best at validation " + bestValidation + ")");
        }
    }

    @Override
    public void onTrainEnd(Trainer trainer, History history) {
        if (restoreBestWeights && bestState != null) {
            trainer.model().loadStateDict(bestState);
        }
    }

    /** The best monitored value so far (loss, or accuracy), NaN before any validation. */
    public double best() {
        return monitor.equals("val_loss") ? best : -best;
    }

    private static Map<String, Tensor> copy(Module m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> out.put(k, v.copy()));
        return out;
    }
}
