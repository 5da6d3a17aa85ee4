package dev.backprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads the PyTorch-generated reference files in {@code src/test/resources/reference} and checks
 * them against {@code INDEX.json}; optionally checks interoperability with the Python
 * {@code safetensors} package when it is installed.
 */
class SafeTensorsReferenceTest {

    @TempDir
    Path dir;

    private static Path referenceDir() {
        URL index = SafeTensorsReferenceTest.class.getResource("/reference/INDEX.json");
        assumeTrue(index != null, "reference files not on the test classpath");
        try {
            return Path.of(index.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void readsAddBroadcast() throws IOException {
        Path file = referenceDir().resolve("add_broadcast.safetensors");
        SafeTensors.Contents c = SafeTensors.read(file);
        assertEquals(List.of("grad.in.a", "grad.in.b", "grad_out", "in.a", "in.b", "out"), List.copyOf(c.tensors().keySet()));
        assertEquals("add", c.metadata().get("op"));
        for (Tensor t : c.tensors().values()) {
            assertEquals(DType.FLOAT32, t.dtype());
        }
        assertArrayEquals(new int[] {3, 4}, c.tensor("in.a").shape());
        assertArrayEquals(new int[] {4}, c.tensor("in.b").shape());
        assertArrayEquals(new int[] {3, 4}, c.tensor("out").shape());

        // the values decode correctly: out = a + b (broadcast over rows), d(out)/d(a) = grad_out,
        // d(out)/d(b) = grad_out summed over rows; the generator worked in float64 and rounded
        float[] a = c.tensor("in.a").toFloatArray();
        float[] b = c.tensor("in.b").toFloatArray();
        float[] out = c.tensor("out").toFloatArray();
        float[] gradOut = c.tensor("grad_out").toFloatArray();
        float[] gradB = c.tensor("grad.in.b").toFloatArray();
        assertArrayEquals(gradOut, c.tensor("grad.in.a").toFloatArray());
        for (int j = 0; j < 4; j++) {
            double sum = 0;
            for (int i = 0; i < 3; i++) {
                assertEquals(a[i * 4 + j] + b[j], out[i * 4 + j], 1e-5 * (1 + Math.abs(out[i * 4 + j])));
                sum += gradOut[i * 4 + j];
            }
            assertEquals(sum, gradB[j], 1e-5 * (1 + Math.abs(sum)));
        }
    }

    @Test
    void everyReferenceFileMatchesTheIndexAndRoundTrips() throws IOException {
        Path refs = referenceDir();
        Map<String, Object> index = Json.parseObject(Files.readString(refs.resolve("INDEX.json")));
        List<?> cases = (List<?>) index.get("cases");
        assertTrue(cases.size() > 50, "cases in INDEX.json: " + cases.size());
        Map<DType, Integer> dtypes = new EnumMap<>(DType.class);
        List<String> scalarsStoredAs1d = new ArrayList<>();
        for (Object o : cases) {
            Map<?, ?> entry = (Map<?, ?>) o;
            String name = (String) entry.get("case");
            SafeTensors.Contents c = SafeTensors.read(refs.resolve(name + ".safetensors"));
            assertTrue(c.metadata().containsKey("op"), name + " has metadata");
            for (Tensor t : c.tensors().values()) {
                dtypes.merge(t.dtype(), 1, Integer::sum);
            }
            if (entry.get("tensors") instanceof Map<?, ?> shapes) {
                assertEquals(shapes.keySet(), c.tensors().keySet(), name);
                for (Map.Entry<?, ?> s : shapes.entrySet()) {
                    int[] expected = ((List<?>) s.getValue()).stream().mapToInt(v -> ((Long) v).intValue()).toArray();
                    int[] actual = c.tensor((String) s.getKey()).shape();
                    if (expected.length == 0 && actual.length == 1 && actual[0] == 1) {
                        // generator/safetensors_io.py saves 0-d arrays through np.ascontiguousarray, which
                        // turns them into shape [1]; INDEX.json records the true shape []
                        scalarsStoredAs1d.add(name + ":" + s.getKey());
                        continue;
                    }
                    assertArrayEquals(expected, actual, name + ":" + s.getKey());
                }
            }
            // our writer's output holds exactly the same tensors and metadata
            SafeTensors.Contents again = SafeTensors.read(SafeTensors.toBytes(c.tensors(), c.metadata()));
            assertEquals(c.tensors().keySet(), again.tensors().keySet(), name);
            c.tensors().forEach((n, t) -> SafeTensorsTest.assertSameTensor(t, again.tensor(n), name + ":" + n));
            assertEquals(c.metadata(), again.metadata(), name);
        }
        assertTrue(dtypes.getOrDefault(DType.FLOAT32, 0) > 100, dtypes.toString());
        assertTrue(dtypes.getOrDefault(DType.INT64, 0) > 0, "some reference tensors are I64: " + dtypes);
        assertTrue(dtypes.getOrDefault(DType.UINT8, 0) > 0, "some reference tensors are U8: " + dtypes);
        System.out.println("reference tensors by dtype: " + dtypes + "; 0-d tensors stored as [1]: "
                + scalarsStoredAs1d.size());
    }

    /**
     * Interoperability with the Python {@code safetensors} package, when python3 has it: Python
     * reads what Java wrote, and its own serialization of the same tensors is byte-identical.
     * Skipped when python3, numpy or safetensors is missing.
     */
    @Test
    void interoperatesWithPythonSafetensors() throws IOException, InterruptedException {
        assumeTrue(python("import safetensors, numpy") == 0, "python3 with safetensors and numpy is not available");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.of(new float[] {1.5f, -2, 3, 0.25f, 5, 6}, 2, 3));
        tensors.put("idx", Tensor.ofLongs(new long[] {3, -1}, 2));
        tensors.put("mask", Tensor.ofBools(new boolean[] {true, false}, 2));
        tensors.put("px", Tensor.ofBytes(new byte[] {(byte) 255}, 1));
        tensors.put("s", Tensor.of(new float[] {7}));
        Path javaFile = dir.resolve("java.safetensors");
        Path pythonFile = dir.resolve("python.safetensors");
        SafeTensors.write(javaFile, tensors, Map.of("format", "np"));
        String script = String.join("\n",
                "import sys, numpy as np",
                "from safetensors.numpy import load_file, save_file",
                "t = load_file(sys.argv[1])",
                "assert t['w'].dtype == np.float32 and t['w'].shape == (2, 3), t['w']",
                "assert t['w'][0, 1] == -2 and t['idx'].tolist() == [3, -1], t",
                "assert t['mask'].dtype == np.bool_ and t['mask'].tolist() == [True, False]",
                "assert t['px'].dtype == np.uint8 and t['px'][0] == 255",
                "assert t['s'].shape == () and t['s'] == 7",
                "save_file(t, sys.argv[2], metadata={'format': 'np'})");
        assertEquals(0, python(script, javaFile.toString(), pythonFile.toString()), "the python check failed");
        assertArrayEquals(Files.readAllBytes(pythonFile), Files.readAllBytes(javaFile),
                "byte-identical to the reference serializer");
    }

    private static int python(String script, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("python3", "-c", script));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException noPython) {
            return -1;
        }
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        if (p.exitValue() != 0 && !script.startsWith("import safetensors")) {
            System.out.println(new String(output, StandardCharsets.UTF_8));
        }
        return p.exitValue();
    }
}
