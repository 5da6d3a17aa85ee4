package dev.backprop.cli;

import dev.backprop.data.DataLoader;
import dev.backprop.nn.F;
import dev.backprop.optim.SGD;
import dev.backprop.train.ConfusionMatrix;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Trainer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code backprop eval RUN}: evaluates a trained run's model on its test data. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluates the model of a run (id under --runs, or a run folder) on the test split of its data: "
                + "loss, accuracy, per-class precision/recall/F1 and the most confused classes.")
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id or run folder")
    String run;

    @Option(names = "--data", paramLabel = "DATA", description = "data to evaluate on (default: the run's)")
    String data;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path runs;

    @Override
    public Integer call() throws Exception {
        if (IntentRecipe.isIntentRun(RunRef.find(run, runs))) {
            return IntentRecipe.eval(RunRef.verified(RunRef.find(run, runs)), data);
        }
        RunRef ref = RunRef.open(run, runs, data);
        boolean classification = ref.data().numClasses() > 0;
        Trainer.Builder b = Trainer.builder(ref.model(), new SGD(ref.model().parameters(), 0),
                classification ? F::crossEntropy : (o, t) -> F.mseLoss(o.reshape(-1), t.reshape(-1)));
        if (classification) {
            b.numClasses(ref.data().numClasses());
        }
        Evaluation e = b.build().evaluate(new DataLoader(ref.data().test(), 1000, false, 0));
        System.out.println("run " + ref.dir().getFileName() + " (" + ref.recipe().name() + ") on " + ref.data().source()
                + ": " + e.examples() + " test examples");
        if (classification) {
            ConfusionMatrix cm = ref.classes().size() == e.confusion().numClasses()
                    ? e.confusion().withLabels(ref.classes()) : e.confusion();
            System.out.println(String.format(Locale.ROOT, "test accuracy %.4f, test loss %.4f", e.accuracy(), e.loss()));
            System.out.print(cm.report());
            System.out.println("most confused: " + String.join("; ", cm.mostConfused(5)));
        } else {
            System.out.println(String.format(Locale.ROOT, "test MSE %.4f", e.loss()));
        }
        return 0;
    }
}
