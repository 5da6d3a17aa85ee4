package dev.backprop.train;

import static dev.backprop.train.TestData.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataException;
import dev.backprop.data.DataLoader;
import dev.backprop.data.Datasets;
import dev.backprop.data.TensorDataset;
import dev.backprop.diagnostics.Doctor;
import dev.backprop.io.AtomicFiles;
import dev.backprop.io.SafeTensors;
import dev.backprop.io.SafeTensorsException;
import dev.backprop.nn.Activation;
import dev.backprop.nn.F;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.MemoryBudget;
import dev.backprop.tensor.MemoryBudgetException;
import dev.backprop.tensor.Tensor;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety and hostile input around training: a full disk or an unwritable folder stops the
 * run with a clear message and the last checkpoint intact; a diverging run stops with the doctor's
 * diagnosis and its last checkpoint is from a finite step; corrupt files are named with both
 * hashes; bad data is refused before training with its place; a model or tensor that would not fit
 * the memory budget is refused before allocation.
 */
class ReliabilityTest {
    private static Module model(long seed) {
        Generator.defaultGenerator().manualSeed(seed);
        return new Sequential(new Linear(4, 16), new Activation.ReLU(), new Linear(16, 3));
    }

    private static Map<String, Tensor> read(Path f) throws Exception {
        return SafeTensors.read(f).tensors();
    }

    @Test
    void aFullDiskStopsTheRunAndKeepsTheLastCheckpoint(@TempDir Path dir) throws Exception {
        Module m = model(1);
        Trainer t = Trainer.builder(m, new Adam(m.parameters(), 1e-2), F::crossEntropy).epochs(0).maxSteps(4)
                .checkpoints(dir, 2).diagnostics(false).build();
        DataLoader data = new DataLoader(blobs(128, 1), 16, true, 3);
        t.fit(data, null);
        Path last = dir.resolve("checkpoint-last.safetensors");
        byte[] good = Files.readAllBytes(last);
        Trainer more = Trainer.builder(m, new Adam(m.parameters(), 1e-2), F::crossEntropy).epochs(0).maxSteps(8)
                .checkpoints(dir, 2).diagnostics(false).build();
        more.resume(last);
        UncheckedIOException e;
        try (var full = AtomicFiles.simulateFailure(p -> p.getFileName().toString().startsWith("checkpoint"),
                "No space left on device")) {
            e = assertThrows(UncheckedIOException.class, () -> more.fit(data, null));
        }
        assertTrue(e.getMessage().contains("could not write the checkpoint " + last)
                && e.getMessage().contains("No space left on device")
                && e.getMessage().contains("the previous checkpoint is intact")
                && e.getMessage().contains("--resume"), e.getMessage());
        assertArrayEquals(good, Files.readAllBytes(last), "the last good checkpoint is untouched");
        assertEquals("4", SafeTensors.read(last).metadata().get("trainer.step"));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void anUnwritableOutputFolderStopsTheRunWithAClearMessage(@TempDir Path tmp) throws Exception {
        Path notAFolder = tmp.resolve("runs");
        Files.writeString(notAFolder, "a file where the run folder should be");
        Module m = model(1);
        Trainer t = Trainer.builder(m, new SGD(m.parameters(), 0.1), F::crossEntropy).epochs(0).maxSteps(2)
                .checkpoints(notAFolder.resolve("run-1"), 1).diagnostics(false).build();
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> t.fit(new DataLoader(blobs(64, 1), 16, false, 0), null));
        assertTrue(e.getMessage().contains("could not write the checkpoint") && e.getMessage().contains("run-1")
                && e.getMessage().contains("writable"), e.getMessage());
        assertTrue(Files.isRegularFile(notAFolder), "nothing overwritten");
    }

    @Test
    void atomicWritesLeaveTheOldFileWhenTheDiskFills(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("manifest.json");
        AtomicFiles.writeString(f, "{\"old\": true}\n");
        try (var full = AtomicFiles.simulateFailure(p -> true, "No space left on device")) {
            var e = assertThrows(java.io.IOException.class, () -> AtomicFiles.writeString(f, "{\"new\": true}\n"));
            assertEquals("No space left on device", e.getMessage());
            assertThrows(java.io.IOException.class, () -> model(1).save(dir.resolve("model.safetensors")));
        }
        assertEquals("{\"old\": true}\n", Files.readString(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "temporaries removed, no half-written model");
        }
    }

    @Test
    void aCorruptFileIsNamedWithBothHashes(@TempDir Path dir) throws Exception {
        Module m = model(2);
        Path f = dir.resolve("model.safetensors");
        m.save(f);
        String recorded = SafeTensors.read(f).metadata().get(SafeTensors.CHECKSUM_KEY);
        assertNotNull(recorded);
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length - 3] ^= 0x40; // one flipped bit in the data
        Files.write(f, bytes);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> model(2).load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("checksum mismatch")
                && e.getMessage().contains(recorded), e.getMessage());

        RunFolder run = RunFolder.create(dir.resolve("runs"), "mlp");
        run.saveModel(m);
        RunFolder.verifyArtifacts(run.dir());
        Files.writeString(run.dir().resolve("model.safetensors"), "replaced");
        IllegalArgumentException v = assertThrows(IllegalArgumentException.class,
                () -> RunFolder.verifyArtifacts(run.dir()));
        assertTrue(v.getMessage().contains("model.safetensors") && v.getMessage().contains("recorded SHA-256")
                && v.getMessage().contains("hashes to " + AtomicFiles.sha256(run.dir().resolve("model.safetensors"))),
                v.getMessage());
    }

    @Test
    void aDivergingRunStopsWithTheDiagnosisAndKeepsItsLastFiniteCheckpoint(@TempDir Path dir) throws Exception {
        Module m = model(3);
        // a learning rate this large blows the weights up within a few steps
        Trainer t = Trainer.builder(m, new SGD(m.parameters(), 1e12), F::crossEntropy).epochs(0).maxSteps(200)
                .checkpoints(dir, 1).numClasses(3).build();
        History h = t.fit(new DataLoader(blobs(256, 1), 16, true, 3), null);
        assertTrue(h.stopReason().startsWith(Trainer.DIVERGED), h.stopReason());
        assertTrue(h.steps() < 200, "stopped early: " + h.steps());
        assertTrue(t.diagnoses().stream().anyMatch(d -> d.rule().equals(Doctor.NON_FINITE)), t.diagnoses().toString());
        Path last = dir.resolve("checkpoint-last.safetensors");
        assertTrue(Files.exists(last), "a checkpoint from before the divergence");
        long step = Long.parseLong(SafeTensors.read(last).metadata().get("trainer.step"));
        assertTrue(step < h.steps(), "the checkpoint (step " + step + ") is from before the non-finite step");
        for (Tensor w : read(last).values()) {
            for (float v : w.toFloatArray()) {
                assertTrue(Float.isFinite(v), "the checkpoint holds only finite values");
            }
        }
        Module again = model(3);
        Trainer resumed = Trainer.builder(again, new SGD(again.parameters(), 1e-3), F::crossEntropy).epochs(1).build();
        resumed.resume(last); // it loads
        assertEquals(step, resumed.step());
    }

    @Test
    void badDataIsRefusedBeforeTrainingWithItsPlace() {
        TensorDataset clean = blobs(32, 1);
        Module m = model(4);
        Trainer t = Trainer.builder(m, new SGD(m.parameters(), 0.1), F::crossEntropy).epochs(1).numClasses(3)
                .diagnostics(false).build();

        float[] x = clean.features().toFloatArray();
        x[7 * 4 + 2] = Float.NaN;
        DataException nan = assertThrows(DataException.class, () -> t.fit(new DataLoader(
                new TensorDataset(Tensor.of(x, 32, 4), clean.targets()), 8, false, 0), null));
        assertTrue(nan.getMessage().contains("training data") && nan.getMessage().contains("example 7, feature 2")
                && nan.getMessage().contains("NaN"), nan.getMessage());

        float[] inf = clean.features().toFloatArray();
        inf[3] = Float.POSITIVE_INFINITY;
        DataException infinite = assertThrows(DataException.class, () -> t.fit(new DataLoader(
                new TensorDataset(Tensor.of(inf, 32, 4), clean.targets()), 8, false, 0), null));
        assertTrue(infinite.getMessage().contains("example 0, feature 3 is Infinity"), infinite.getMessage());

        // features that are a view (here a transpose): the check reads the values, not the storage order
        float[] xt = new float[4 * 32];
        for (int r = 0; r < 32; r++) {
            for (int c = 0; c < 4; c++) {
                xt[c * 32 + r] = clean.features().toFloatArray()[r * 4 + c];
            }
        }
        xt[2 * 32 + 7] = Float.NaN; // example 7, feature 2 of the transposed view
        Tensor view = Tensor.of(xt, 4, 32).transpose(0, 1);
        DataException viewNan = assertThrows(DataException.class, () -> t.fit(new DataLoader(
                new TensorDataset(view, clean.targets()), 8, false, 0), null));
        assertTrue(viewNan.getMessage().contains("example 7, feature 2"), viewNan.getMessage());

        long[] y = clean.targets().toLongArray();
        y[11] = 3;
        DataException label = assertThrows(DataException.class, () -> t.fit(new DataLoader(
                new TensorDataset(clean.features(), Tensor.ofLongs(y, 32)), 8, false, 0), null));
        assertTrue(label.getMessage().contains("example 11 has class 3, outside [0, 3)"), label.getMessage());

        var parts = Datasets.randomSplit(clean, new double[] {1.0, 0.0}, new Generator(1));
        DataException empty = assertThrows(DataException.class, () -> t.fit(new DataLoader(parts.get(0), 8, false, 0),
                new DataLoader(parts.get(1), 8, false, 0)));
        assertTrue(empty.getMessage().contains("validation data") && empty.getMessage().contains("empty"),
                empty.getMessage());

        long[] yNeg = clean.targets().toLongArray();
        yNeg[30] = -1;
        var subset = Datasets.randomSplit(new TensorDataset(clean.features(), Tensor.ofLongs(yNeg, 32)),
                new double[] {0.5, 0.5}, new Generator(2));
        DataException inSubset = assertThrows(DataException.class, () -> {
            t.fit(new DataLoader(subset.get(0), 8, false, 0), null);
            t.fit(new DataLoader(subset.get(1), 8, false, 0), null);
        });
        assertTrue(inSubset.getMessage().contains("example 30 has class -1"), inSubset.getMessage());
    }

    @Test
    void aModelOrTensorOverTheMemoryBudgetIsRefusedBeforeAllocation() {
        try {
            MemoryBudget.set(MemoryBudget.parse("64m"));
            MemoryBudgetException big = assertThrows(MemoryBudgetException.class, () -> Tensor.zeros(1 << 14, 1 << 11));
            assertTrue(big.getMessage().contains("[16384, 2048]") && big.getMessage().contains("128.0 MiB")
                    && big.getMessage().contains("64.0 MiB") && big.getMessage().contains(MemoryBudget.PROPERTY),
                    big.getMessage());
            Tensor.zeros(1024, 1024); // 4 MiB fits

            Generator.defaultGenerator().manualSeed(5);
            Module wide = new Sequential(new Linear(4, 2048), new Activation.ReLU(), new Linear(2048, 2048),
                    new Activation.ReLU(), new Linear(2048, 3)); // 16 MiB of weights, x4 with gradients and Adam
            Trainer t = Trainer.builder(wide, new Adam(wide.parameters(), 1e-3), F::crossEntropy).epochs(1)
                    .diagnostics(false).build();
            float[] before = wide.parameters().get(0).toFloatArray();
            MemoryBudgetException train = assertThrows(MemoryBudgetException.class,
                    () -> t.fit(new DataLoader(blobs(64, 1), 64, false, 0), null));
            assertTrue(train.getMessage().contains("training needs about") && train.getMessage().contains("weights 16.1 MiB")
                    && train.getMessage().contains("optimizer state 32.1 MiB") && train.getMessage().contains("64.0 MiB"),
                    train.getMessage());
            assertArrayEquals(before, wide.parameters().get(0).toFloatArray(), "nothing trained");
            assertEquals(0, t.step());
        } finally {
            MemoryBudget.set(0);
        }
        assertEquals(Runtime.getRuntime().maxMemory(), MemoryBudget.bytes());
        assertEquals(4L << 30, MemoryBudget.parse("4g"));
        assertEquals(512L << 20, MemoryBudget.parse("512MiB"));
        assertEquals(1500000000L, MemoryBudget.parse("1500000000"));
        assertThrows(IllegalArgumentException.class, () -> MemoryBudget.parse("lots"));
        assertFalse(MemoryEstimate.of(model(1), new SGD(model(1).parameters(), 0.1),
                new DataLoader(blobs(8, 1), 8, false, 0)).total() <= 0);
    }
}
