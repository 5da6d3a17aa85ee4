package dev.backprop.nn;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.io.SafeTensors;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * State dicts move between PyTorch and backprop as safetensors, in both directions: PyTorch
 * (Debian's python3-torch, run by src/test/python/torch_interop.py) writes models that backprop
 * loads by their PyTorch keys and runs to the same outputs, and PyTorch loads backprop's files
 * strictly and reproduces backprop's outputs. Skipped, with the reason, where PyTorch is not
 * installed; .ci/run installs it.
 */
class TorchInteropTest {
    private static final Path SCRIPT = Path.of("src", "test", "python", "torch_interop.py");
    private static String python;

    /** The backprop twins of the script's models. */
    private static final Map<String, Supplier<Module>> MODELS = new LinkedHashMap<>();

    static {
        MODELS.put("mlp", Mlp::new);
        MODELS.put("tokens", TokenModel::new);
    }

    static final class Mlp extends Module {
        final Module features = registerModule("features", new Sequential(new Linear(6, 16), new Activation.ReLU(),
                new BatchNorm1d(16), new Linear(16, 8), new Activation.GELU()));
        final Module norm = registerModule("norm", new LayerNorm(8));
        final Module head = registerModule("head", new Linear(8, 3));

        @Override
        protected Tensor compute(Tensor x) {
            return head.forward(norm.forward(features.forward(x)));
        }
    }

    static final class TokenModel extends Module {
        final Module embed = registerModule("embed", new Embedding(11, 5, 0));
        final Module proj = registerModule("proj", new Linear(5, 4, false));

        @Override
        protected Tensor compute(Tensor x) {
            return proj.forward(embed.forward(x)).tanh();
        }
    }

    @BeforeAll
    static void findPyTorch() {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                if (run(List.of(candidate, "-c", "import torch"), 120).exitCode == 0) {
                    python = candidate;
                    return;
                }
            } catch (IOException e) {
                // try the next candidate
            }
        }
    }

    private static void requirePyTorch() {
        assumeTrue(python != null, "PyTorch is not installed (Debian package python3-torch; .ci/run installs it): "
                + "skipping the PyTorch interoperability tests");
    }

    @Test
    void pytorchStateDictsLoadIntoBackpropModels(@TempDir Path dir) throws Exception {
        requirePyTorch();
        Result r = run(List.of(python, SCRIPT.toString(), "export", dir.toString()), 300);
        assertEquals(0, r.exitCode, r.output);
        for (Map.Entry<String, Supplier<Module>> e : MODELS.entrySet()) {
            Map<String, Tensor> file = SafeTensors.read(dir.resolve(e.getKey() + ".safetensors")).tensors();
            Map<String, Tensor> state = new LinkedHashMap<>(file);
            Tensor input = state.remove("__input");
            Tensor expected = state.remove("__output");
            Module model = e.getValue().get();
            model.loadStateDict(state); // strict: every PyTorch key maps onto a backprop parameter or buffer
            model.eval();
            Tensor out = GradMode.noGrad(() -> model.forward(input));
            assertClose(e.getKey() + " output", out, expected);
        }
    }

    @Test
    void backpropStateDictsLoadIntoPyTorch(@TempDir Path dir) throws Exception {
        requirePyTorch();
        Generator gen = new Generator(17);
        for (Map.Entry<String, Supplier<Module>> e : MODELS.entrySet()) {
            Generator.defaultGenerator().manualSeed(gen.nextLong()); // our own random initialisation
            Module model = e.getValue().get();
            Tensor input = e.getKey().equals("tokens")
                    ? Tensor.randint(gen, 0, 11, 2, 3)
                    : Tensor.randn(gen, 4, 6);
            model.train();
            if (e.getKey().equals("mlp")) {
                model.forward(Tensor.randn(gen, 32, 6).mul(2f).add(1f)); // running statistics move
            }
            model.eval();
            Map<String, Tensor> file = new LinkedHashMap<>(model.stateDict());
            file.put("__input", input);
            file.put("__output", GradMode.noGrad(() -> model.forward(input)));
            SafeTensors.write(dir.resolve(e.getKey() + ".backprop.safetensors"), file);
        }
        Result r = run(List.of(python, SCRIPT.toString(), "check", dir.toString()), 300);
        assertEquals(0, r.exitCode, "PyTorch could not reproduce backprop's outputs:\n" + r.output);
    }

    private record Result(int exitCode, String output) {}

    private static Result run(List<String> command, int timeoutSeconds) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out: " + command);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(-1, "interrupted");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
