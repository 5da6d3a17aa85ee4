package dev.backprop.cli;

import dev.backprop.data.DataLoader;
import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.nn.F;
import dev.backprop.nn.Module;
import dev.backprop.optim.Optimizer;
import dev.backprop.train.LrFinder;
import dev.backprop.train.RunFolder;
import dev.backprop.train.RunReport;
import dev.backprop.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code backprop lr-find RECIPE}: the learning-rate range test on a recipe's model and data. */
@Command(name = "lr-find", mixinStandardHelpOptions = true,
        description = "Learning-rate range test: trains the recipe's model for a few hundred steps while the learning "
                + "rate grows exponentially, prints the smoothed loss against the rate and suggests the rate where "
                + "the loss falls fastest. The weights are not kept.")
final class LrFindCommand implements Callable<Integer> {

    @Mixin
    RecipeOptions options;

    @Option(names = "--start", defaultValue = "1e-7", description = "first learning rate (default: ${DEFAULT-VALUE})")
    double start;

    @Option(names = "--end", defaultValue = "10", description = "last learning rate (default: ${DEFAULT-VALUE})")
    double end;

    @Option(names = "--steps", defaultValue = "200", description = "steps of the sweep (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every point of the sweep to FILE.")
    Path json;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs",
            description = "runs folder: the sweep is kept as a run (manifest, metrics.jsonl, report.html with the "
                    + "curve) (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        Recipes.Recipe recipe = options.recipe();
        RunData rd = options.load(recipe, false, null);
        DataLoader loader = DataLoader.builder(rd.train()).batchSize(options.batchSize(recipe)).shuffle(true)
                .seed(options.seed).build();
        Module model = recipe.model(new Recipes.DataShape(rd.inputShape(), rd.numClasses()));
        Optimizer optimizer = recipe.optimizer(model, start);
        Trainer.Loss loss = rd.numClasses() > 0 ? F::crossEntropy
                : (o, t) -> F.mseLoss(o.reshape(-1), t.reshape(-1));
        long wallStart = System.nanoTime();
        LrFinder.Result r = LrFinder.run(model, optimizer, loss, loader, start, end, steps);
        RunFolder run = record(recipe, rd, r, (System.nanoTime() - wallStart) / 1e9);

        PrintStream out = System.out;
        out.printf(Locale.ROOT, "lr-find %s on %s: %d steps from %.0e to %.0e%s%n", recipe.name(), rd.source(),
                r.points().size(), start, end, r.diverged() ? " (stopped: the loss diverged)" : "");
        plot(out, r);
        if (Double.isNaN(r.suggestion())) {
            out.println("no suggestion: the loss never fell; try a wider range (--start smaller, --end larger)");
        } else {
            out.printf(Locale.ROOT, "suggested learning rate: %.2e (steepest fall of the loss); lowest loss at %.2e "
                    + "(use about a tenth of that)%n", r.suggestion(), r.minLossLr());
        }
        if (json != null) {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("recipe", recipe.name());
            root.put("suggestion", Double.isNaN(r.suggestion()) ? null : r.suggestion());
            root.put("min_loss_lr", r.minLossLr());
            root.put("diverged", r.diverged());
            List<Object> pts = new ArrayList<>();
            for (LrFinder.Point p : r.points()) {
                pts.add(Map.of("lr", p.lr(), "loss", p.loss(), "smoothed_loss", p.smoothedLoss()));
            }
            root.put("points", pts);
            AtomicFiles.write(json, Json.write(root).getBytes(StandardCharsets.UTF_8));
            out.println("wrote " + json);
        }
        out.println("run folder: " + run.dir());
        out.println("report: " + RunReport.write(run.dir()));
        return 0;
    }

    /** The sweep as a run folder: manifest (recipe, range, suggestion), one metrics.jsonl record per point. */
    private RunFolder record(Recipes.Recipe recipe, RunData rd, LrFinder.Result r, double seconds) throws IOException {
        RunFolder run = RunFolder.create(out, "lr-find-" + recipe.name());
        run.put("recipe", recipe.name());
        run.put("kind", "lr-find");
        run.put("description", "learning-rate range test of " + recipe.name() + " on " + rd.source());
        Map<String, Object> hyper = new LinkedHashMap<>();
        hyper.put("batch_size", options.batchSize(recipe));
        hyper.put("seed", options.seed);
        hyper.put("start", start);
        hyper.put("end", end);
        hyper.put("steps", steps);
        hyper.put("threads", Threads.current());
        run.put("hyperparameters", hyper);
        run.put("data_description", rd.description());
        for (int i = 0; i < rd.files().size(); i++) {
            run.recordData(rd.files().get(i).getFileName().toString(), rd.files().get(i));
        }
        Map<String, Object> found = new LinkedHashMap<>();
        found.put("suggested_lr", Double.isNaN(r.suggestion()) ? null : r.suggestion());
        found.put("min_loss_lr", r.minLossLr());
        found.put("diverged", r.diverged());
        found.put("start", start);
        found.put("end", end);
        run.put("lr_find", found);
        for (int i = 0; i < r.points().size(); i++) {
            LrFinder.Point p = r.points().get(i);
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("type", "lr_find");
            rec.put("step", i + 1);
            rec.put("lr", p.lr());
            rec.put("loss", Double.isFinite(p.loss()) ? p.loss() : null);
            rec.put("smoothed_loss", Double.isFinite(p.smoothedLoss()) ? p.smoothedLoss() : null);
            run.log(rec);
        }
        run.put("wall_time_s", seconds);
        return run;
    }

    /** About 20 rows: the rate, the smoothed loss and a bar, the suggestion marked. */
    private static void plot(PrintStream out, LrFinder.Result r) {
        List<LrFinder.Point> pts = r.points();
        if (pts.isEmpty()) {
            return;
        }
        double lo = pts.stream().mapToDouble(LrFinder.Point::smoothedLoss).min().orElse(0);
        double hi = pts.stream().mapToDouble(LrFinder.Point::smoothedLoss).max().orElse(1);
        int every = Math.max(1, pts.size() / 20);
        for (int i = 0; i < pts.size(); i += every) {
            LrFinder.Point p = pts.get(i);
            int bar = hi > lo ? (int) Math.round(40 * (p.smoothedLoss() - lo) / (hi - lo)) : 0;
            boolean mark = !Double.isNaN(r.suggestion()) && p.lr() <= r.suggestion()
                    && (i + every >= pts.size() || pts.get(i + every).lr() > r.suggestion());
            out.printf(Locale.ROOT, "  %9.2e  %8.4f  %s%s%n", p.lr(), p.smoothedLoss(), "#".repeat(bar),
                    mark ? "  <- suggested" : "");
        }
    }
}
