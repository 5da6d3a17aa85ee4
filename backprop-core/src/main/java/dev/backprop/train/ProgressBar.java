package dev.backprop.train;

import dev.backprop.diagnostics.Diagnosis;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Terminal progress: on a terminal one line redrawn in place (epoch, step, loss, throughput,
 * ETA); otherwise (a log file, CI) a plain line every {@code plainEvery} steps. Each epoch ends
 * with a summary line including validation metrics. The doctor's diagnoses are printed once each,
 * as they are found, with the fix to try, and the end of training says how many there were.
 */
public final class ProgressBar implements TrainingListener {
    private final PrintStream out;
    private final boolean interactive;
    private final int plainEvery;
    private double smoothedLoss = Double.NaN;
    private long trainStart;
    private boolean lineOpen;

    /** Progress on standard output, redrawn in place when it is a terminal. */
    public ProgressBar() {
        this(System.out, System.console() != null && System.console().isTerminal(), 100);
    }

    public ProgressBar(PrintStream out, boolean interactive, int plainEvery) {
        this.out = out;
        this.interactive = interactive;
        this.plainEvery = plainEvery;
    }

    @Override
    public void onTrainStart(Trainer trainer) {
        trainStart = System.nanoTime();
    }

    @Override
    public void onStep(Trainer trainer, StepReport s) {
        smoothedLoss = Double.isNaN(smoothedLoss) ? s.loss() : 0.9 * smoothedLoss + 0.1 * s.loss();
        int done = s.batch() + 1;
        double elapsed = (System.nanoTime() - trainStart) / 1e9;
        long totalSteps = trainer.maxSteps() > 0 ? trainer.maxSteps()
                : (long) trainer.epochs() * s.batchesPerEpoch();
        double eta = s.step() > 0 && totalSteps > 0 ? elapsed / s.step() * Math.max(0, totalSteps - s.step()) : 0;
        String line = String.format(Locale.ROOT, "epoch %d [%s] %d/%d  loss %.4f  lr %.2e  %.0f ex/s  ETA %s",
                s.epoch() + 1, bar(done, s.batchesPerEpoch(), 24), done, s.batchesPerEpoch(), smoothedLoss, s.lr(),
                s.throughput(), duration(eta));
        if (interactive) {
            out.print("\r" + line + "   ");
            out.flush();
            lineOpen = true;
        } else if (s.step() % plainEvery == 0) {
            out.println(line);
        }
    }

    @Override
    public void onEpochEnd(Trainer trainer, EpochReport e) {
        endLine();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %d: train loss %.4f", e.epoch() + 1,
                e.trainLoss()));
        if (!Double.isNaN(e.trainAccuracy())) {
            sb.append(String.format(Locale.ROOT, ", train acc %.4f", e.trainAccuracy()));
        }
        if (e.validation() != null) {
            sb.append(String.format(Locale.ROOT, ", val loss %.4f", e.validation().loss()));
            if (!Double.isNaN(e.validation().accuracy())) {
                sb.append(String.format(Locale.ROOT, ", val acc %.4f", e.validation().accuracy()));
            }
        }
        sb.append(String.format(Locale.ROOT, " (%.1f s)", e.seconds()));
        out.println(sb);
    }

    /** A validation on a step cadence gets a line of its own (per-epoch ones are in the epoch line). */
    @Override
    public void onValidation(Trainer trainer, Evaluation v) {
        if (trainer.validateEverySteps() <= 0) {
            return;
        }
        endLine();
        double elapsed = (System.nanoTime() - trainStart) / 1e9;
        out.println(String.format(Locale.ROOT, "step %d: val loss %.4f%s (%s)", trainer.step(), v.loss(),
                Double.isNaN(v.accuracy()) ? "" : String.format(Locale.ROOT, ", val acc %.4f", v.accuracy()),
                duration(elapsed)));
    }

    @Override
    public void onDiagnosis(Trainer trainer, Diagnosis d) {
        endLine();
        out.println("doctor: " + (d.severity() == Diagnosis.Severity.ERROR ? "ERROR " : "") + "[" + d.rule()
                + "] " + d.message());
        out.println("        try: " + d.fix());
    }

    @Override
    public void onTrainEnd(Trainer trainer, History history) {
        endLine();
        List<Diagnosis> found = trainer.diagnoses();
        if (!trainer.diagnosticsEnabled()) {
            return;
        }
        if (found.isEmpty()) {
            out.println("doctor: no problem found in gradient flow, learning rate or validation curve");
        } else {
            out.println("doctor: " + found.size() + (found.size() == 1 ? " diagnosis: " : " diagnoses: ")
                    + String.join(", ", found.stream().map(Diagnosis::rule).toList()));
        }
    }

    private void endLine() {
        if (lineOpen) {
            out.println();
            lineOpen = false;
        }
    }

    private static String bar(int done, int total, int width) {
        int filled = total == 0 ? width : (int) ((long) done * width / total);
        return "=".repeat(filled) + (filled < width ? ">" + " ".repeat(width - filled - 1) : "");
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
