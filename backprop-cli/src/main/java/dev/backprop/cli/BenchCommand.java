package dev.backprop.cli;

import dev.backprop.bench.GemmBenchmark;
import dev.backprop.bench.GemmShape;
import dev.backprop.bench.Memory;
import dev.backprop.bench.ReferenceWorkloads;
import dev.backprop.bench.WorkloadResult;
import dev.backprop.bench.WorkloadRunner;
import dev.backprop.diagnostics.Monitor;
import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.kernels.Kernels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code backprop bench}: times the reference workloads of WORKLOADS.md (W1–W4 training steps and
 * forward passes, W5 GEMM plus the narrow products of W1–W4) at each thread count and prints a
 * table; optionally beside PyTorch's figures measured in the same run and beside the scalar
 * (no-SIMD) kernels.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times the reference workloads W1-W5 (median step time over blocks of steps after warm-up, "
                + "samples/s, forward-only time, allocation per step, peak memory, time to first step) and prints "
                + "a table. With --torch, PyTorch runs the same workloads in the same run and the ratios "
                + "backprop/PyTorch are printed (below 1 = backprop faster).")
final class BenchCommand implements Callable<Integer> {

    @Parameters(paramLabel = "WORKLOAD", arity = "0..*",
            description = "Workloads to run: W1 (mlp), W2 (cnn), W3 (gpt), W4 (lstm), W5 (gemm). Default: all.")
    List<String> workloads = new ArrayList<>();

    @Option(names = "--threads", split = ",", paramLabel = "N[,N...]",
            description = "Thread counts to measure at (default: 1,2).")
    List<Integer> threads = new ArrayList<>(List.of(1, 2));

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every figure to FILE as JSON.")
    Path json;

    @Option(names = "--torch", description = "Run PyTorch (Debian's python3-torch) on the same workloads in the "
            + "same run and print the ratios.")
    boolean torch;

    @Option(names = "--python", paramLabel = "PATH", description = "The Python with torch (default /usr/bin/python3).")
    String python = TorchAnchor.defaultPython();

    @Option(names = "--scalar", description = "Also time the scalar (no-SIMD) kernels, in a second JVM with "
            + "-Dbackprop.kernels=scalar, fewer steps and W5 up to n=512: what SIMD buys.")
    boolean scalar;

    @Option(names = "--fresh-batches", description = "Cycle through 16 batches drawn up front instead of one fixed "
            + "batch (avoids the subnormal slow-down of a memorised batch); PyTorch does the same with --torch.")
    boolean freshBatches;

    @Option(names = "--monitor", description = "Also time W1-W4 with the diagnostics on (the gradient-flow monitor "
            + "at its default cadence, every 10 steps, and the doctor's rules, plus the loss read-out and gradient "
            + "norm the trainer does on every step) and print the overhead over the bare loop.")
    boolean monitor;

    @Option(names = "--warmup", description = "Fewest untimed steps before timing (default: ${DEFAULT-VALUE}).")
    int warmup = 5;

    @Option(names = "--warmup-seconds", description = "Least time spent warming up before timing, so the JIT "
            + "compiler is done (default: ${DEFAULT-VALUE}); time to first step is reported apart.")
    double warmupSeconds = 2.0;

    @Option(names = "--steps", description = "Timed steps per block (default: ${DEFAULT-VALUE}).")
    int steps = 30;

    @Option(names = "--blocks", description = "Blocks of timed steps (default: ${DEFAULT-VALUE}).")
    int blocks = 3;

    @Option(names = "--gemm-seconds", description = "Least time per GEMM shape (default: ${DEFAULT-VALUE}); at least "
            + "10 calls are timed either way.")
    double gemmSeconds = 1.0;

    @Option(names = "--max-gemm", hidden = true, description = "Largest W5 size (the scalar run uses 512).")
    int maxGemm = 2048;

    private record Row(WorkloadResult ours, double[] torch, double scalarStepMs, WorkloadRunner.Paired monitored) {}

    private record GemmRow(GemmBenchmark.Result ours, Double openBlas, Double scalar) {}

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        List<String> ids = selected();
        for (int t : threads) {
            if (t < 1) {
                throw new IllegalArgumentException("--threads: expected counts of at least 1, got " + t);
            }
        }
        out.printf(Locale.ROOT, "backprop bench: kernels %s, Java %s, %d cores, %s, warm-up >= %d steps and "
                        + ">= %.1f s, then %d x %d timed steps%n", Kernels.get().name(), Runtime.version(),
                Runtime.getRuntime().availableProcessors(), freshBatches ? "16 fresh batches" : "one fixed batch", warmup,
                warmupSeconds, blocks, steps);

        WorkloadRunner runner = new WorkloadRunner(warmup, warmupSeconds, steps, blocks);
        List<WorkloadResult> ours = new ArrayList<>();
        Map<String, WorkloadRunner.Paired> monitored = new LinkedHashMap<>();
        for (String id : ids) {
            if (!id.equals("W5")) {
                for (int t : threads) {
                    WorkloadResult r = runner.run(() -> ReferenceWorkloads.create(id, freshBatches), t);
                    ours.add(r);
                    System.err.printf(Locale.ROOT, "  [%dt] %s: step %.3f ms, forward %.3f ms%n", t, id,
                            r.step().medianMs(), r.forward().medianMs());
                    if (monitor) {
                        WorkloadRunner.Paired p = runner.compare(() -> ReferenceWorkloads.create(id, freshBatches),
                                () -> ReferenceWorkloads.create(id, freshBatches, Monitor.Options.DEFAULT), t,
                                Math.max(6, 2 * blocks));
                        monitored.put(id + "/" + t, p);
                        System.err.printf(Locale.ROOT, "  [%dt] %s bare %.3f ms / with diagnostics %.3f ms (means) "
                                + "(paired: %+.1f%%, self-timed: %+.1f%%)%n", t, id, p.a().meanMs(), p.b().meanMs(),
                                100 * (p.ratio() - 1), 100 * p.selfTimed());
                    }
                }
            }
        }
        List<GemmShape> shapes = new ArrayList<>();
        List<GemmBenchmark.Result> gemm = new ArrayList<>();
        if (ids.contains("W5")) {
            GemmShape.squares().stream().filter(s -> s.n() <= maxGemm).forEach(shapes::add);
            shapes.addAll(GemmShape.narrow());
            for (int t : threads) {
                gemm.addAll(new GemmBenchmark(10, gemmSeconds).run(Kernels.get(), shapes, t));
            }
        }

        Map<Integer, TorchAnchor.Figures> torchFigures = Map.of();
        if (torch) {
            TorchAnchor anchor = new TorchAnchor(python);
            String why = anchor.unavailableReason();
            if (why != null) {
                System.err.println("backprop bench --torch: " + why);
                return 2;
            }
            System.err.println("timing PyTorch on the same workloads...");
            torchFigures = anchor.run(ids, threads, warmup, steps, blocks, freshBatches,
                    ids.contains("W5") ? GemmShape.narrow() : List.of());
            TorchAnchor.Figures any = torchFigures.values().stream().findFirst().orElse(null);
            if (any != null && any.blas() == null) {
                System.err.println("warning: PyTorch is not using OpenBLAS (libblas.so.3 is the reference BLAS?); "
                        + "install libopenblas0-pthread for a fair comparison");
            }
        }
        Map<String, Object> scalarFigures = scalar ? runScalar(ids) : Map.of();

        List<Row> rows = new ArrayList<>();
        for (WorkloadResult r : ours) {
            TorchAnchor.Figures f = torchFigures.get(r.threads());
            double[] tf = f == null ? null : f.workloads().get(r.id());
            rows.add(new Row(r, tf, scalarStep(scalarFigures, r.id(), r.threads()),
                    monitored.get(r.id() + "/" + r.threads())));
        }
        List<GemmRow> gemmRows = new ArrayList<>();
        for (GemmBenchmark.Result g : gemm) {
            TorchAnchor.Figures f = torchFigures.get(g.threads());
            Double blas = f == null ? null : f.gemm().get(TorchAnchor.spec(g.shape()));
            gemmRows.add(new GemmRow(g, blas, scalarGemm(scalarFigures, g.shape(), g.threads())));
        }
        print(out, rows, gemmRows);
        if (json != null) {
            AtomicFiles.write(json, Json.write(toJson(rows, gemmRows)).getBytes(StandardCharsets.UTF_8));
            out.println("wrote " + json);
        }
        return 0;
    }

    private List<String> selected() {
        List<String> all = new ArrayList<>(ReferenceWorkloads.IDS);
        all.add("W5");
        if (workloads.isEmpty()) {
            return all;
        }
        List<String> ids = new ArrayList<>();
        for (String w : workloads) {
            String id = w.trim().toUpperCase(Locale.ROOT);
            if (!all.contains(id)) {
                throw new IllegalArgumentException("unknown workload '" + w + "': expected some of " + all);
            }
            if (!ids.contains(id)) {
                ids.add(id);
            }
        }
        return ids;
    }

    private void print(PrintStream out, List<Row> rows, List<GemmRow> gemmRows) {
        if (!rows.isEmpty()) {
            out.println();
            out.println("| workload | threads | step ms | samples/s | forward ms | PyTorch step ms | step ratio "
                    + "| PyTorch fwd ms | fwd ratio | scalar step ms | alloc/step | peak RSS | first step ms |");
            out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (Row row : rows) {
                WorkloadResult r = row.ours();
                out.printf(Locale.ROOT, "| %s | %d | %.2f | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %s | %.0f |%n",
                        r.id(), r.threads(), r.step().medianMs(), r.samplesPerSecond(), r.forward().medianMs(),
                        row.torch() == null ? "-" : fmt(row.torch()[0]),
                        row.torch() == null ? "-" : fmt(r.step().medianMs() / row.torch()[0]),
                        row.torch() == null ? "-" : fmt(row.torch()[1]),
                        row.torch() == null ? "-" : fmt(r.forward().medianMs() / row.torch()[1]),
                        Double.isNaN(row.scalarStepMs()) ? "-" : fmt(row.scalarStepMs()),
                        bytes(r.allocatedBytesPerStep()), bytes(r.peakResidentBytes()), r.firstStepMs());
            }
            out.println("(ratio = backprop / PyTorch time: below 1 means backprop is faster)");
            if (rows.stream().anyMatch(r -> r.monitored() != null)) {
                out.println();
                out.println("| workload | threads | bare step ms (mean) | with diagnostics ms (mean) | overhead (paired) "
                        + "| overhead (self-timed CPU) |");
                out.println("|---|---|---|---|---|---|");
                for (Row row : rows) {
                    WorkloadRunner.Paired p = row.monitored();
                    if (p != null) {
                        out.printf(Locale.ROOT, "| %s | %d | %.2f | %.2f | %+.1f%% | %+.1f%% |%n", p.id(),
                                p.threads(), p.a().meanMs(), p.b().meanMs(), 100 * (p.ratio() - 1),
                                100 * p.selfTimed());
                    }
                }
                out.println("(diagnostics: monitor every 10 steps + doctor + per-step loss and gradient norm; "
                        + "paired: both variants in one process, blocks alternated, median over blocks of the ratio of means; "
                        + "self-timed CPU: CPU time of the calling thread inside the diagnostics' code over the rest of its CPU "
                        + "time in those steps (ReLU hooks excepted; on 2+ threads an upper bound))");
            }
        }
        if (!gemmRows.isEmpty()) {
            out.println();
            out.println("| GEMM | shape (m x n x k, A/B transposed) | threads | GFLOP/s | OpenBLAS GFLOP/s | % of OpenBLAS "
                    + "| scalar GFLOP/s |");
            out.println("|---|---|---|---|---|---|---|");
            for (GemmRow g : gemmRows) {
                GemmBenchmark.Result r = g.ours();
                out.printf(Locale.ROOT, "| %s | %s | %d | %.1f | %s | %s | %s |%n", r.shape().label(), r.shape().spec(),
                        r.threads(), r.gflops(), g.openBlas() == null ? "-" : fmt(g.openBlas()),
                        g.openBlas() == null ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.gflops() / g.openBlas()),
                        g.scalar() == null ? "-" : fmt(g.scalar()));
            }
        }
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    }

    private static String bytes(long b) {
        if (b < 0) {
            return "-";
        }
        if (b < 10_000) {
            return b + " B";
        }
        if (b < 10_000_000) {
            return String.format(Locale.ROOT, "%.0f KB", b / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f MB", b / 1e6);
    }

    private Map<String, Object> toJson(List<Row> rows, List<GemmRow> gemmRows) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("kernels", Kernels.get().name());
        root.put("java", Runtime.version().toString());
        root.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("fresh_batches", freshBatches);
        root.put("protocol", Map.of("warmup", warmup, "steps", steps, "blocks", blocks));
        List<Object> wl = new ArrayList<>();
        for (Row row : rows) {
            WorkloadResult r = row.ours();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", r.id());
            m.put("threads", r.threads());
            m.put("batch", r.batch());
            m.put("parameters", r.parameters());
            m.put("step_ms", timing(r.step()));
            m.put("forward_ms", timing(r.forward()));
            m.put("samples_per_s", r.samplesPerSecond());
            m.put("first_step_ms", r.firstStepMs());
            m.put("allocated_bytes_per_step", r.allocatedBytesPerStep());
            m.put("peak_resident_bytes", r.peakResidentBytes());
            if (row.torch() != null) {
                m.put("torch_step_ms", row.torch()[0]);
                m.put("torch_forward_ms", row.torch()[1]);
                m.put("step_ratio", r.step().medianMs() / row.torch()[0]);
                m.put("forward_ratio", r.forward().medianMs() / row.torch()[1]);
            }
            if (!Double.isNaN(row.scalarStepMs())) {
                m.put("scalar_step_ms", row.scalarStepMs());
            }
            if (row.monitored() != null) {
                m.put("paired_bare_step_mean_ms", row.monitored().a().meanMs());
                m.put("monitored_step_mean_ms", row.monitored().b().meanMs());
                m.put("monitor_overhead", row.monitored().ratio() - 1);
                m.put("monitor_overhead_self_timed", row.monitored().selfTimed());
            }
            wl.add(m);
        }
        root.put("workloads", wl);
        List<Object> gl = new ArrayList<>();
        for (GemmRow g : gemmRows) {
            GemmBenchmark.Result r = g.ours();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", r.shape().label());
            m.put("spec", TorchAnchor.spec(r.shape()));
            m.put("threads", r.threads());
            m.put("gflops", r.gflops());
            m.put("best_gflops", r.bestGflops());
            m.put("median_ms", r.medianMs());
            if (g.openBlas() != null) {
                m.put("openblas_gflops", g.openBlas());
            }
            if (g.scalar() != null) {
                m.put("scalar_gflops", g.scalar());
            }
            gl.add(m);
        }
        root.put("gemm", gl);
        root.put("peak_resident_bytes_process", Memory.peakResidentBytes());
        return root;
    }

    private static Map<String, Object> timing(dev.backprop.bench.Timing t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("median", t.medianMs());
        m.put("min", t.minMs());
        m.put("mean", t.meanMs());
        List<Object> blocks = new ArrayList<>();
        for (double b : t.blockMediansMs()) {
            blocks.add(b);
        }
        m.put("block_medians", blocks);
        m.put("n", t.n());
        return m;
    }

    /** Runs this command again in a JVM with the scalar kernels and returns its JSON. */
    private Map<String, Object> runScalar(List<String> ids) throws IOException {
        Path tmp = Files.createTempFile("backprop-bench-scalar", ".json");
        try {
            String javaBin = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of(javaBin, "-Dbackprop.kernels=scalar", "-cp",
                    System.getProperty("java.class.path"), Main.class.getName(), "bench"));
            cmd.addAll(ids);
            cmd.addAll(List.of("--threads", String.join(",", threads.stream().map(String::valueOf).toList()),
                    "--warmup", "2", "--warmup-seconds", "0", "--steps", "10", "--blocks", "1", "--max-gemm", "512",
                    "--gemm-seconds", "0.2", "--json", tmp.toString()));
            if (freshBatches) {
                cmd.add("--fresh-batches");
            }
            System.err.println("timing the scalar kernels in a second JVM...");
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            int rc = p.waitFor();
            if (rc != 0) {
                throw new IllegalStateException("the scalar-kernel run failed (exit " + rc + ")");
            }
            return Json.parseObject(Files.readString(tmp));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @SuppressWarnings("unchecked")
    private static double scalarStep(Map<String, Object> figures, String id, int threads) {
        for (Object o : (List<Object>) figures.getOrDefault("workloads", List.of())) {
            Map<String, Object> m = (Map<String, Object>) o;
            if (id.equals(m.get("id")) && ((Number) m.get("threads")).intValue() == threads) {
                return ((Number) ((Map<String, Object>) m.get("step_ms")).get("median")).doubleValue();
            }
        }
        return Double.NaN;
    }

    @SuppressWarnings("unchecked")
    private static Double scalarGemm(Map<String, Object> figures, GemmShape s, int threads) {
        for (Object o : (List<Object>) figures.getOrDefault("gemm", List.of())) {
            Map<String, Object> m = (Map<String, Object>) o;
            if (TorchAnchor.spec(s).equals(m.get("spec")) && ((Number) m.get("threads")).intValue() == threads) {
                return ((Number) m.get("gflops")).doubleValue();
            }
        }
        return null;
    }
}
