package dev.backprop.cli;

import dev.backprop.bench.GemmShape;
import dev.backprop.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * PyTorch's figures on the same workloads, measured in the same run: the jar carries a copy of the
 * anchor script ({@code bench.py} and {@code models.py} of {@code ../shared/bench/torch}), which is
 * extracted to a temporary folder and run with a Python that has Debian's {@code python3-torch}.
 * One worker process per thread count; "2 threads" means OpenMP and OpenBLAS limited to 2 with
 * {@code OMP_WAIT_POLICY=PASSIVE}, as WORKLOADS.md defines.
 */
final class TorchAnchor {
    /** One thread count's results: workload id to (step ms, forward ms); GEMM spec to GFLOP/s. */
    record Figures(Map<String, double[]> workloads, Map<String, Double> gemm, String blas) {}

    private final String python;

    TorchAnchor(String python) {
        this.python = python;
    }

    /** The Python to use when none is given: Debian's /usr/bin/python3 (pyenv shims often lack torch). */
    static String defaultPython() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /** Why PyTorch cannot be run with this Python, or null when it can. */
    String unavailableReason() {
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch, numpy").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            return p.waitFor() == 0 ? null : python + " cannot import torch and numpy (" + out.strip().lines()
                    .reduce((a, b) -> b).orElse("") + "): install Debian's python3-torch (apt-get install "
                    + "python3-torch libopenblas0-pthread) or pass --python";
        } catch (IOException e) {
            return "cannot run " + python + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Runs the anchor script on {@code workloads} (W1..W5) for each thread count; returns thread
     * count to figures. Progress lines of the script go to this process's standard error.
     */
    Map<Integer, Figures> run(List<String> workloads, List<Integer> threads, int warmup, int steps, int blocks,
                              boolean freshBatches, List<GemmShape> narrow) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("backprop-torch-bench");
            for (String f : List.of("bench.py", "models.py")) {
                try (InputStream in = TorchAnchor.class.getResourceAsStream("torch/" + f)) {
                    if (in == null) {
                        throw new IllegalStateException("the jar lacks the resource torch/" + f + "; rebuild it");
                    }
                    Files.copy(in, dir.resolve(f));
                }
            }
            Path out = dir.resolve("result.json");
            List<String> cmd = new ArrayList<>(List.of(python, dir.resolve("bench.py").toString(), "--configs"));
            for (int t : threads) {
                cmd.add(t == 1 ? "1" : t + "p");
            }
            cmd.add("--workloads");
            cmd.addAll(workloads);
            cmd.addAll(List.of("--warmup", "" + warmup, "--steps", "" + steps, "--blocks", "" + blocks,
                    "--out", out.toString()));
            if (freshBatches) {
                cmd.add("--fresh-batches");
            }
            if (!narrow.isEmpty()) {
                cmd.add("--narrow");
                cmd.add(String.join(",", narrow.stream().map(TorchAnchor::spec).toList()));
            }
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            int rc = p.waitFor();
            if (rc != 0) {
                throw new IllegalStateException("the PyTorch anchor script failed (exit " + rc + "): " + cmd);
            }
            return parse(Files.readString(out));
        } catch (IOException e) {
            throw new UncheckedIOException("running the PyTorch anchor script: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while PyTorch was timed", e);
        } finally {
            deleteQuietly(dir);
        }
    }

    /** The script's form of a shape: MxNxK:TT. */
    static String spec(GemmShape s) {
        return s.m() + "x" + s.n() + "x" + s.k() + ":" + (s.transA() ? 'T' : 'N') + (s.transB() ? 'T' : 'N');
    }

    @SuppressWarnings("unchecked")
    static Map<Integer, Figures> parse(String json) {
        Map<String, Object> root = Json.parseObject(json);
        Map<String, Object> env = (Map<String, Object>) root.get("env");
        String blas = env == null ? null : (String) env.get("openblas_config");
        Map<Integer, Figures> byThreads = new HashMap<>();
        for (Object o : (List<Object>) root.get("results")) {
            Map<String, Object> r = (Map<String, Object>) o;
            int threads = ((Number) ((Map<String, Object>) r.get("info")).get("threads")).intValue();
            Map<String, double[]> wl = new HashMap<>();
            for (var e : ((Map<String, Object>) r.get("workloads")).entrySet()) {
                Map<String, Object> w = (Map<String, Object>) e.getValue();
                wl.put(e.getKey(), new double[] {median(w.get("step")), median(w.get("forward"))});
            }
            Map<String, Double> gemm = new HashMap<>();
            for (Object g : (List<Object>) r.get("gemm")) {
                Map<String, Object> m = (Map<String, Object>) g;
                if ("numpy".equals(m.get("lib"))) { // numpy.matmul calls OpenBLAS directly: the BLAS figure
                    int n = ((Number) m.get("n")).intValue();
                    gemm.put(n + "x" + n + "x" + n + ":NN", ((Number) m.get("gflops")).doubleValue());
                }
            }
            Object narrow = r.get("narrow");
            if (narrow != null) {
                for (Object g : (List<Object>) narrow) {
                    Map<String, Object> m = (Map<String, Object>) g;
                    gemm.put((String) m.get("spec"), ((Number) m.get("gflops")).doubleValue());
                }
            }
            byThreads.put(threads, new Figures(wl, gemm, blas));
        }
        return byThreads;
    }

    @SuppressWarnings("unchecked")
    private static double median(Object timing) {
        return ((Number) ((Map<String, Object>) timing).get("median_ms")).doubleValue();
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind is harmless
        }
    }
}
