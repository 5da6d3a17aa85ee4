package dev.backprop.train;

import static dev.backprop.train.TestData.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataLoader;
import dev.backprop.data.TensorDataset;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.F;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {

    private record Setup(Module model, Optimizer optimizer, LRScheduler scheduler) {}

    private static Setup setup(long initSeed) {
        Generator.defaultGenerator().manualSeed(initSeed);
        Module model = new Sequential(new Linear(4, 16), new Activation.ReLU(), new Dropout(0.2f), new Linear(16, 3));
        Optimizer opt = new Adam(model.parameters(), 0.01);
        LRScheduler sched = LRScheduler.warmupCosine(opt, 5, 60, 0.1, 1e-4);
        return new Setup(model, opt, sched);
    }

    private static Trainer.Builder trainer(Setup s) {
        return Trainer.builder(s.model(), s.optimizer(), F::crossEntropy).scheduler(s.scheduler()).numClasses(3)
                .clipGradNorm(5.0);
    }

    @Test
    void learnsAndReportsMetrics() {
        Setup s = setup(1);
        DataLoader train = new DataLoader(blobs(400, 1), 32, true, 7);
        DataLoader val = new DataLoader(blobs(200, 2), 50, false, 0);
        List<StepReport> steps = new ArrayList<>();
        Trainer t = trainer(s).epochs(4).listener(new TrainingListener() {
            @Override
            public void onStep(Trainer trainer, StepReport step) {
                steps.add(step);
            }
        }).build();
        History h = t.fit(train, val);
        assertEquals(4, h.epochs().size());
        assertEquals(4 * 13, h.steps());
        assertEquals("epochs", h.stopReason());
        assertTrue(h.last().validation().accuracy() > 0.9, "val accuracy " + h.last().validation().accuracy());
        assertTrue(h.last().trainLoss() < h.epochs().get(0).trainLoss());
        assertEquals(52, steps.size());
        assertTrue(steps.get(0).gradNorm() > 0 && steps.get(0).lr() < 0.01, "warm-up starts low");
        Evaluation test = t.evaluate(new DataLoader(blobs(300, 3), 64, false, 0));
        assertEquals(300, test.examples());
        assertTrue(test.confusion().report().contains("macro F1"));
        Tensor logits = t.predict(blobs(5, 4).features());
        assertArrayEquals(new int[] {5, 3}, logits.shape());
        assertFalse(logits.requiresGrad(), "prediction records no graph");
    }

    @Test
    void sameSeedGivesBitIdenticalWeights() {
        float[][] runs = new float[2][];
        for (int r = 0; r < 2; r++) {
            Setup s = setup(5);
            trainer(s).epochs(2).build().fit(new DataLoader(blobs(200, 1), 16, true, 3), null);
            runs[r] = flat(s.model());
        }
        assertArrayEquals(runs[0], runs[1]);
    }

    @Test
    void aStoppedAndResumedRunEndsWithTheSameWeightsBitForBit(@TempDir Path dir) throws Exception {
        TensorDataset data = blobs(200, 1);
        // uninterrupted
        Setup a = setup(5);
        trainer(a).epochs(3).build().fit(new DataLoader(data, 16, true, 3), null);
        float[] expected = flat(a.model());
        // stopped in the middle of epoch 1 (step 20 of 39), with a checkpoint every step
        Setup b = setup(5);
        trainer(b).epochs(3).maxSteps(20).checkpoints(dir, 1).build().fit(new DataLoader(data, 16, true, 3), null);
        assertTrue(Files.exists(dir.resolve("checkpoint-last.safetensors")));
        // a fresh process: new objects, another initialisation, the random generator moved on
        Setup c = setup(999);
        Generator.defaultGenerator().manualSeed(12345);
        Trainer resumed = trainer(c).epochs(3).build();
        resumed.resume(dir.resolve("checkpoint-last.safetensors"));
        assertEquals(20, resumed.step());
        resumed.fit(new DataLoader(data, 16, true, 3), null);
        assertArrayEquals(expected, flat(c.model()));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no half-written file");
        }
    }

    @Test
    void earlyStoppingStopsAndRestoresTheBestWeights() {
        Setup s = setup(2);
        EarlyStopping early = new EarlyStopping("val_loss", 2, 0.0, true);
        List<Double> valLosses = new ArrayList<>();
        List<float[]> weights = new ArrayList<>();
        Trainer t = Trainer.builder(s.model(), new SGD(s.model().parameters(), 0.5), F::crossEntropy)
                .epochs(40).numClasses(3).listener(early).listener(new TrainingListener() {
                    @Override
                    public void onValidation(Trainer trainer, Evaluation v) {
                        valLosses.add(v.loss());
                        weights.add(flat(trainer.model()));
                    }
                }).build();
        // a tiny training set with a third of its labels wrong: memorising it makes validation loss turn up
        TensorDataset small = blobs(24, 1);
        long[] labels = small.targets().toLongArray();
        for (int i = 0; i < labels.length; i += 3) {
            labels[i] = (labels[i] + 1) % 3;
        }
        TensorDataset noisy = new TensorDataset(small.features(), Tensor.ofLongs(labels, labels.length));
        History h = t.fit(new DataLoader(noisy, 4, true, 1), new DataLoader(blobs(300, 9), 100, false, 0));
        assertTrue(h.stopReason().startsWith("early stopping"), h.stopReason());
        assertTrue(h.epochs().size() < 40);
        int best = 0;
        for (int i = 1; i < valLosses.size(); i++) {
            if (valLosses.get(i) < valLosses.get(best)) {
                best = i;
            }
        }
        assertArrayEquals(weights.get(best), flat(s.model()), "the best validation's weights are back");
    }

    @Test
    void gradientAccumulationMatchesOneLargeBatch() {
        TensorDataset data = blobs(64, 4);
        float[][] w = new float[2][];
        for (int r = 0; r < 2; r++) {
            Generator.defaultGenerator().manualSeed(3);
            Module m = new Sequential(new Linear(4, 8), new Activation.Tanh(), new Linear(8, 3));
            Trainer.Builder b = Trainer.builder(m, new SGD(m.parameters(), 0.1), F::crossEntropy).epochs(2);
            if (r == 0) {
                b.build().fit(new DataLoader(data, 16, false, 0), null);
            } else {
                b.accumulateGradients(2).build().fit(new DataLoader(data, 8, false, 0), null);
            }
            w[r] = flat(m);
        }
        assertArrayEquals(w[0], w[1], 1e-5f);
    }

    @Test
    void progressBarPrintsPlainLinesWhenNotATerminal() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Setup s = setup(1);
        trainer(s).epochs(1).listener(new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), false, 5))
                .build().fit(new DataLoader(blobs(100, 1), 10, true, 1), new DataLoader(blobs(50, 2), 50, false, 0));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"));
        assertTrue(out.contains("epoch 1 [") && out.contains("ex/s") && out.contains("ETA"), out);
        assertTrue(out.contains("epoch 1: train loss") && out.contains("val acc"), out);
    }

    @Test
    void misconfigurationIsRefused() {
        Setup s = setup(1);
        assertThrows(IllegalArgumentException.class, () -> trainer(s).epochs(0).build());
        assertThrows(IllegalArgumentException.class, () -> trainer(s).accumulateGradients(0));
        Trainer t = trainer(s).epochs(1).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.fit(DataLoader.builder(blobs(3, 1)).batchSize(4).dropLast(true).build(), null));
        assertTrue(e.getMessage().contains("no batch"), e.getMessage());
    }

    static float[] flat(Module m) {
        List<Float> all = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
            for (float f : e.getValue().toFloat().toFloatArray()) {
                all.add(f);
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    @Test
    void validatesEveryNStepsAndAfterTheLastOneLoggingEach(@TempDir Path dir) throws Exception {
        Setup s = setup(5);
        DataLoader train = new DataLoader(blobs(100, 1), 10, true, 3);
        DataLoader val = new DataLoader(blobs(60, 2), 30, false, 0);
        RunFolder run = RunFolder.create(dir, "test");
        List<Long> validatedAt = new ArrayList<>();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Trainer t = trainer(s).epochs(0).maxSteps(7).validateEverySteps(3).listener(new MetricsLog(run, 100))
                .listener(new ProgressBar(new PrintStream(printed, true, StandardCharsets.UTF_8), false, 100))
                .listener(new TrainingListener() {
                    @Override
                    public void onValidation(Trainer trainer, Evaluation v) {
                        validatedAt.add(trainer.step());
                    }
                }).build();
        assertEquals(3, t.validateEverySteps());
        t.fit(train, val);
        assertEquals(List.of(3L, 6L, 7L), validatedAt, "every 3 steps, and the final model");
        List<String> records = Files.readAllLines(run.dir().resolve("metrics.jsonl")).stream()
                .filter(l -> l.contains("\"type\":\"validation\"")).toList();
        assertEquals(3, records.size(), records.toString());
        assertTrue(records.get(2).startsWith("{\"type\":\"validation\",\"step\":7,\"val_loss\":"), records.get(2));
        String out = printed.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("step 3: val loss ") && out.contains("step 7: val loss "), out);
        assertTrue(RunReport.html(run.dir()).contains("validation loss"), "the report draws them");
    }
}
