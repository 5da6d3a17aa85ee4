package dev.backprop.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.LabeledTexts;
import dev.backprop.models.Bert;
import dev.backprop.train.BertFineTuning;
import dev.backprop.train.EpochReport;
import dev.backprop.train.Evaluation;
import dev.backprop.train.StepReport;
import dev.backprop.train.Trainer;
import dev.backprop.train.TrainingListener;
import dev.backprop.text.WordPieceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Fine-tuning the imported all-MiniLM-L6-v2 on Banking77 (../shared/data): the full run is opt-in
 * ({@code -Dbackprop.banking77.finetune=true}; {@code -Dbackprop.banking77.epochs=N},
 * {@code -Dbackprop.banking77.frozen=true} for the linear probe); see
 * BertFineTuningTest for the default-suite smoke tests.
 */
class MiniLmFineTuneTest {
    static Path data(String name) {
        for (Path dir : List.of(Path.of("../../shared/data"), Path.of("../shared/data"))) { // from backprop-core or the root
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        return null;
    }

    @Test
    void banking77FineTune() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("backprop.banking77.finetune"),
                "the Banking77 fine-tune is opt-in: -Dbackprop.banking77.finetune=true");
        Path trainFile = data("banking77-train.csv");
        Path testFile = data("banking77-test.csv");
        Assumptions.assumeTrue(trainFile != null && testFile != null, "banking77 data not found under ../shared/data");
        var csv = LabeledTexts.Options.of("text", "category");
        LabeledTexts train = LabeledTexts.read(trainFile, csv);
        LabeledTexts test = LabeledTexts.readLike(testFile, train, csv);
        Bert bert = OnnxBertImport.load(MiniLm.onnx()).model();
        WordPieceTokenizer tok = WordPieceTokenizer.fromHuggingFace(MiniLm.tokenizerJson());
        int epochs = Integer.getInteger("backprop.banking77.epochs", 3);
        int maxSteps = Integer.getInteger("backprop.banking77.steps", 0);
        long t0 = System.nanoTime();
        TrainingListener progress = new TrainingListener() {
            @Override
            public void onStep(Trainer trainer, StepReport step) {
                if (trainer.step() % 20 == 0) {
                    System.out.printf("step %d loss %.4f %.1fs%n", trainer.step(), step.loss(),
                            (System.nanoTime() - t0) / 1e9);
                    if (maxSteps > 0 && trainer.step() >= maxSteps) {
                        trainer.requestStop("steps");
                    }
                }
            }

            @Override
            public void onEpochEnd(Trainer trainer, EpochReport e) {
                System.out.printf("epoch %d train loss %.4f val acc %.4f %.1fs%n", e.epoch(), e.trainLoss(),
                        e.validation() == null ? Double.NaN : e.validation().accuracy(), (System.nanoTime() - t0) / 1e9);
            }
        };
        BertFineTuning.Options options = BertFineTuning.Options.defaults().withEpochs(epochs);
        if (Boolean.getBoolean("backprop.banking77.frozen")) { // the linear probe: -Dbackprop.banking77.frozen=true
            options = options.withFrozenEncoder(true, 0).withEpochs(40).withLr(1e-2, 1e-4).withPatience(5);
        }
        BertFineTuning clf = BertFineTuning.train(bert, tok, train, options, List.of(progress));
        Evaluation ev = clf.evaluate(test);
        System.out.printf("Banking77 test accuracy %.4f after %.1f s%n", ev.accuracy(), (System.nanoTime() - t0) / 1e9);
        assertNotNull(ev);
        if (maxSteps == 0 && !Boolean.getBoolean("backprop.banking77.frozen")) {
            assertTrue(ev.accuracy() >= 0.93, "test accuracy " + ev.accuracy());
        }
        assertEquals(77, clf.classes().size());
    }
}
