package dev.backprop.cli;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.Batch;
import dev.backprop.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code backprop predict RUN}: a forward pass only, on test examples, printing the predictions. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Runs the model of a run forward (no gradients) on the first examples of its test data and "
                + "prints the predicted class with its probability next to the true class; for an intent run, "
                + "the --top likeliest intents of each --text.")
final class PredictCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id or run folder")
    String run;

    @Option(names = "--data", paramLabel = "DATA", description = "data to predict on (default: the run's test split)")
    String data;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "10", description = "examples (default: ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--text", paramLabel = "TEXT",
            description = "intent runs: a text to classify (repeatable); prints the --top likeliest intents")
    List<String> texts;

    @Option(names = "--top", paramLabel = "K", defaultValue = "3",
            description = "intent runs: how many intents to show per text (default: ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path runs;

    @Override
    public Integer call() throws Exception {
        if (IntentRecipe.isIntentRun(RunRef.find(run, runs))) {
            return IntentRecipe.predict(RunRef.verified(RunRef.find(run, runs)), texts, top);
        }
        if (texts != null && !texts.isEmpty()) {
            throw new IllegalArgumentException("--text is for runs of text recipes (intent); run " + run
                    + " predicts on its test data");
        }
        RunRef ref = RunRef.open(run, runs, data);
        int n = Math.min(limit, ref.data().test().size());
        Batch b = ref.data().test().range(0, n);
        Tensor out = GradMode.noGrad(() -> ref.model().forward(b.inputs()));
        if (ref.data().numClasses() == 0) {
            float[] y = out.reshape(-1).toFloatArray();
            float[] t = b.targets().toFloat().reshape(-1).toFloatArray();
            for (int i = 0; i < n; i++) {
                System.out.println(String.format(Locale.ROOT, "%4d  predicted %10.4f  true %10.4f", i, y[i], t[i]));
            }
            return 0;
        }
        Tensor probs = out.softmax(1);
        long[] pred = out.argmax(1, false).toLongArray();
        long[] truth = b.targets().toLongArray();
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int p = (int) pred[i];
            correct += p == truth[i] ? 1 : 0;
            System.out.println(String.format(Locale.ROOT, "%4d  predicted %-22s (%.3f)  true %-22s %s", i, name(ref, p),
                    probs.get(i, p), name(ref, (int) truth[i]), p == truth[i] ? "" : "✗"));
        }
        System.out.println(correct + "/" + n + " correct");
        return 0;
    }

    private static String name(RunRef ref, int c) {
        return c < ref.classes().size() ? ref.classes().get(c) : Integer.toString(c);
    }
}
