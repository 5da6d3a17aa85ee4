package dev.backprop.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.io.SafeTensors;
import dev.backprop.models.CharLSTM;
import dev.backprop.models.GPT;
import dev.backprop.models.TextClassifier;
import dev.backprop.nn.Activation;
import dev.backprop.nn.BatchNorm1d;
import dev.backprop.nn.BatchNorm2d;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights exported by {@link PyTorchExporter} load into PyTorch: src/test/python/export_check.py
 * builds the same architectures (the mlp, cnn and cnn-bn recipes' nn.Sequential, GPT and
 * CharLSTM of models.py, the intent recipe's TextClassifier), calls {@code load_state_dict(strict=True)} and reproduces backprop's
 * outputs within 1e-4. Skipped, with the reason, where PyTorch is not installed.
 */
class PyTorchExportTest {
    private static final Path SCRIPT = Path.of("src", "test", "python", "export_check.py");

    @Test
    void exportedWeightsLoadIntoPyTorchAndGiveTheSameOutputs(@TempDir Path dir) throws Exception {
        String python = findPyTorch();
        assumeTrue(python != null, "PyTorch is not installed (Debian package python3-torch; .ci/run installs it): "
                + "skipping the check that exported safetensors load into PyTorch");
        Generator gen = new Generator(31);
        Generator.defaultGenerator().manualSeed(32);
        Module mlp = new Sequential(new Flatten(), new Linear(784, 512), new Activation.ReLU(), new Linear(512, 256),
                new Activation.ReLU(), new Linear(256, 10));
        Module cnn = new Sequential(new Conv2d(1, 32, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2), new Flatten(),
                new Linear(3136, 128), new Activation.ReLU(), new Linear(128, 10));
        Module cnnBn = new Sequential(
                new Conv2d(1, 32, 3, 1, 1), new BatchNorm2d(32), new Activation.ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1), new BatchNorm2d(64), new Activation.ReLU(), new MaxPool2d(2),
                new Flatten(), new Dropout(0.25f), new Linear(3136, 256), new BatchNorm1d(256),
                new Activation.ReLU(), new Dropout(0.25f), new Linear(256, 10));
        cnnBn.train();
        GradMode.noGrad(() -> cnnBn.forward(Tensor.randn(gen, 8, 1, 28, 28).mul(2f).add(0.3f)));
        GPT gpt = new GPT(new GPT.Config(17, 16, 2, 2, 16, 64), new Generator(33));
        CharLSTM lstm = new CharLSTM(new CharLSTM.Config(17, 8, 12, 2), new Generator(34));
        save(dir, "mlp", mlp, Tensor.rand(gen, 3, 1, 28, 28));
        save(dir, "cnn", cnn, Tensor.rand(gen, 3, 1, 28, 28));
        save(dir, "cnn-bn", cnnBn, Tensor.rand(gen, 3, 1, 28, 28));
        save(dir, "gpt", gpt, Tensor.randint(gen, 0, 17, 2, 11));
        save(dir, "lstm", lstm, Tensor.randint(gen, 0, 17, 2, 11));
        TextClassifier clf = new TextClassifier(new TextClassifier.Config(23, 0, 4, 8, List.of(1, 2, 3, 5), 6, 0.3f,
                0.5f));
        long[] ids = Tensor.randint(gen, 1, 23, 3, 10).toLongArray();
        java.util.Arrays.fill(ids, 6, 10, 0L); // padding at the end of row 0 ...
        java.util.Arrays.fill(ids, 20, 30, 0L); // ... and a row of padding only
        save(dir, "intent", clf, Tensor.ofLongs(ids, 3, 10));
        Process p = new ProcessBuilder(python, SCRIPT.toString(), dir.toString()).redirectErrorStream(true).start();
        String output;
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("export_check.py timed out");
        }
        output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.print(output);
        assertEquals(0, p.exitValue(), "PyTorch could not load the exported weights or reproduce the outputs:\n"
                + output);
    }

    private static void save(Path dir, String name, Module model, Tensor input) throws IOException {
        model.eval();
        PyTorchExporter.export(model, dir.resolve(name + ".safetensors"));
        Tensor output = GradMode.noGrad(() -> model.forward(input));
        SafeTensors.write(dir.resolve(name + ".io.safetensors"), Map.of("input", input, "output", output));
    }

    private static String findPyTorch() throws InterruptedException {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import torch").redirectErrorStream(true).start();
                if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // try the next candidate
            }
        }
        return null;
    }
}
