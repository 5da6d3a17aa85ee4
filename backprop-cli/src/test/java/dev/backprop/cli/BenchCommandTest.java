package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code backprop bench} on short protocols: the table, the JSON file and the PyTorch side by side. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @SuppressWarnings("unchecked")
    @Test
    void workloadTableAndJson() throws Exception {
        Path json = dir.resolve("bench.json");
        CliRun r = run("bench", "W1", "W4", "--threads", "1,2", "--warmup", "1", "--warmup-seconds", "0", "--steps", "2",
                "--blocks", "2", "--json", json.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("| W1 | 1 |") && r.out().contains("| W1 | 2 |") && r.out().contains("| W4 | 2 |"),
                r.out());
        Map<String, Object> root = Json.parseObject(Files.readString(json));
        List<Object> workloads = (List<Object>) root.get("workloads");
        assertEquals(4, workloads.size());
        Map<String, Object> w1 = (Map<String, Object>) workloads.get(0);
        assertEquals("W1", w1.get("id"));
        assertEquals(535_818L, w1.get("parameters")); // PyTorch's count for the W1 model
        Map<String, Object> step = (Map<String, Object>) w1.get("step_ms");
        assertEquals(4L, step.get("n"));
        assertTrue(((Number) step.get("median")).doubleValue() > 0);
        assertTrue(((Number) w1.get("allocated_bytes_per_step")).longValue() > 0);
        Map<String, Object> w4 = (Map<String, Object>) workloads.get(3);
        assertEquals(946_625L, w4.get("parameters"));
    }

    @SuppressWarnings("unchecked")
    @Test
    void diagnosticsOverhead() throws Exception {
        Path json = dir.resolve("monitor.json");
        CliRun r = run("bench", "W1", "--threads", "1", "--monitor", "--warmup", "12", "--warmup-seconds", "0",
                "--steps", "10", "--blocks", "1", "--json", json.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("| workload | threads | bare step ms (mean) | with diagnostics ms (mean) | overhead (paired) | overhead (self-timed CPU) |"), r.out());
        Map<String, Object> w1 = (Map<String, Object>) ((List<Object>) Json.parseObject(Files.readString(json))
                .get("workloads")).get(0);
        assertTrue(((Number) w1.get("monitored_step_mean_ms")).doubleValue() > 0, w1.toString());
        assertTrue(w1.containsKey("monitor_overhead"), w1.toString());
    }

    @SuppressWarnings("unchecked")
    @Test
    void gemmShapes() throws Exception {
        Path json = dir.resolve("gemm.json");
        CliRun r = run("bench", "W5", "--threads", "1", "--max-gemm", "256", "--gemm-seconds", "0", "--json",
                json.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("W5 n=256") && r.out().contains("W4 recurrent"), r.out());
        List<Object> gemm = (List<Object>) Json.parseObject(Files.readString(json)).get("gemm");
        assertEquals(1 + dev.backprop.bench.GemmShape.narrow().size(), gemm.size());
        for (Object g : gemm) {
            assertTrue(((Number) ((Map<String, Object>) g).get("gflops")).doubleValue() > 0, g.toString());
        }
    }

    @Test
    void unknownWorkloadIsAClearError() {
        CliRun r = run("bench", "W9");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown workload 'W9'") && r.err().contains("W5"), r.err());
    }

    @Test
    void parsesTheAnchorScriptsResults() {
        String json = """
                {"env": {"openblas_config": "OpenBLAS 0.3.21"}, "results": [
                 {"info": {"threads": 2}, "workloads": {"W1": {"step": {"median_ms": 5.0}, "forward": {"median_ms": 1.5}}},
                  "gemm": [{"n": 512, "lib": "torch", "gflops": 90.0}, {"n": 512, "lib": "numpy", "gflops": 100.0}],
                  "narrow": [{"spec": "128x10x256:NT", "lib": "numpy", "gflops": 50.0}]}]}""";
        Map<Integer, TorchAnchor.Figures> f = TorchAnchor.parse(json);
        assertEquals(5.0, f.get(2).workloads().get("W1")[0]);
        assertEquals(1.5, f.get(2).workloads().get("W1")[1]);
        assertEquals(100.0, f.get(2).gemm().get("512x512x512:NN")); // numpy.matmul: the BLAS figure
        assertEquals(50.0, f.get(2).gemm().get("128x10x256:NT"));
        assertEquals("OpenBLAS 0.3.21", f.get(2).blas());
    }

    @Test
    void pytorchSideBySide() {
        TorchAnchor anchor = new TorchAnchor(TorchAnchor.defaultPython());
        String why = anchor.unavailableReason();
        Assumptions.assumeTrue(why == null, "PyTorch is not installed here (" + why + "); .ci/run installs it");
        CliRun r = run("bench", "W1", "--torch", "--threads", "1", "--warmup", "1", "--warmup-seconds", "0", "--steps",
                "3", "--blocks", "1");
        assertEquals(0, r.exit(), r.err());
        String row = r.out().lines().filter(l -> l.startsWith("| W1 | 1 |")).findFirst().orElseThrow();
        String[] cells = row.split("\\|");
        // | W1 | 1 | step | samples/s | forward | PyTorch step | step ratio | PyTorch fwd | fwd ratio | ...
        assertTrue(Double.parseDouble(cells[6].trim()) > 0, row);
        assertTrue(Double.parseDouble(cells[7].trim()) > 0, row);
    }
}
