package dev.backprop.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.backprop.io.SafeTensors;
import dev.backprop.models.GPT;
import dev.backprop.nn.Activation;
import dev.backprop.nn.BatchNorm2d;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Generator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java example of docs/export.md, run as written, and kept in sync with the page. */
class ExportExampleTest {
    @TempDir
    Path dir;

    @Test
    void docsExportExampleRunsAsWritten() throws Exception {
        Module cnn = new Sequential(new Conv2d(1, 8, 3, 1, 1), new BatchNorm2d(8), new Activation.ReLU(),
                new MaxPool2d(2), new Flatten(), new Dropout(0.25f), new Linear(8 * 14 * 14, 10));
        OnnxExporter.export(cnn, dir.resolve("cnn.onnx"), 1, 28, 28);      // input (batch, 1, 28, 28)
        PyTorchExporter.export(cnn, dir.resolve("cnn.safetensors"));       // PyTorch's state-dict keys
        GPT gpt = new GPT(new GPT.Config(65, 64, 2, 4, 64, 256), new Generator(1));
        OnnxExporter.export(gpt, dir.resolve("gpt.onnx"));                  // input_ids (batch, sequence)

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (String f : new String[] {"cnn.onnx", "gpt.onnx"}) {
            try (OrtSession s = env.createSession(dir.resolve(f).toString(), new OrtSession.SessionOptions())) {
                assertTrue(s.getNumInputs() == 1 && s.getNumOutputs() == 1, f);
            }
        }
        assertTrue(SafeTensors.read(dir.resolve("cnn.safetensors")).tensors().containsKey("1.running_var"));
    }

    @Test
    void docsShowThisExample() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "export.md"));
        int start = page.indexOf("```java", page.indexOf("## From Java"));
        int end = page.indexOf("```", start + 7);
        String source = Files.readString(Path.of("src", "test", "java", "dev", "backprop", "onnx",
                "ExportExampleTest.java"));
        for (String line : page.substring(start + 7, end).split("\n")) {
            if (!line.isBlank()) {
                assertTrue(source.contains(line.strip()), "docs/export.md line not in the test: " + line);
            }
        }
    }
}
