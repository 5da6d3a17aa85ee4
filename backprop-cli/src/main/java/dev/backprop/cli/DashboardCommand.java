package dev.backprop.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code backprop dashboard [RUN]}: serves the live dashboard of a run — finished, or one still
 * training in another process — on the loopback interface until Ctrl-C. The same page as
 * {@code train --dashboard} ({@link DashboardServer}).
 */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
        description = "Serves the dashboard of a run (finished or still training) on http://127.0.0.1:PORT/ until "
                + "Ctrl-C: loss, accuracy, learning rate, gradient flow, diagnoses, confusion matrix; it follows the "
                + "run as it writes. Loopback only; nothing is fetched from the internet.")
final class DashboardCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "RUN",
            description = "run id, a unique prefix of one, or a run folder (default: the latest run under --runs-dir)")
    String run;

    @Option(names = {"--runs-dir", "--runs"}, paramLabel = "DIR", defaultValue = "runs",
            description = "runs folder (default: ${DEFAULT-VALUE})")
    Path runsDir;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8765",
            description = "port on 127.0.0.1 (default: ${DEFAULT-VALUE}; 0 for any free one)")
    int port;

    @Override
    public Integer call() throws IOException, InterruptedException {
        DashboardServer server = start();
        try {
            new CountDownLatch(1).await(); // until Ctrl-C ends the JVM
        } finally {
            server.close();
        }
        return 0;
    }

    /** Finds the run, starts serving it and says where; the caller closes the server. */
    DashboardServer start() throws IOException {
        Path dir = resolve(run, runsDir);
        DashboardServer server = new DashboardServer(dir, port);
        System.out.println("dashboard of run " + dir.toAbsolutePath().normalize().getFileName() + " (" + dir + "): "
                + server.url() + " (Ctrl-C to stop)");
        return server;
    }

    /**
     * The run folder {@code ref} names: a folder, a run id under {@code root} or a unique prefix
     * of one; with {@code ref} null, the latest run under {@code root}.
     *
     * @throws IllegalArgumentException saying where it looked and which runs exist, if none matches
     *     or a prefix matches several
     */
    static Path resolve(String ref, Path root) throws IOException {
        List<RunsCommand.Run> runs = RunsCommand.list(root).stream().filter(r -> isRun(r.folder())).toList();
        if (ref == null) {
            if (runs.isEmpty()) {
                throw new IllegalArgumentException("no runs under " + root.toAbsolutePath() + " (./backprop train "
                        + "writes them; --runs-dir DIR looks elsewhere, or name a run folder)");
            }
            return runs.getLast().folder();
        }
        Path asPath = Path.of(ref);
        if (Files.isDirectory(asPath)) {
            if (!isRun(asPath)) {
                throw new IllegalArgumentException(asPath.toAbsolutePath() + " is not a run folder (it has neither "
                        + "manifest.json nor metrics.jsonl)");
            }
            return asPath;
        }
        Path exact = root.resolve(ref);
        if (Files.isDirectory(exact) && isRun(exact)) {
            return exact;
        }
        List<RunsCommand.Run> matches = runs.stream().filter(r -> r.id().startsWith(ref)).toList();
        if (matches.size() == 1) {
            return matches.getFirst().folder();
        }
        if (matches.size() > 1) {
            throw new IllegalArgumentException("run '" + ref + "' is ambiguous under " + root.toAbsolutePath()
                    + ": it starts " + ids(matches) + "; give more of the id");
        }
        throw new IllegalArgumentException("no run '" + ref + "': not a folder, nor a run id (or the start of one) "
                + "under " + root.toAbsolutePath() + (runs.isEmpty() ? ", which holds no runs"
                : "; the runs there, newest last: " + ids(runs)) + " (--runs-dir DIR looks elsewhere)");
    }

    private static boolean isRun(Path folder) {
        return Files.isRegularFile(folder.resolve("manifest.json")) || Files.isRegularFile(folder.resolve("metrics.jsonl"));
    }

    private static String ids(List<RunsCommand.Run> runs) {
        int shown = 10;
        List<String> ids = runs.stream().map(RunsCommand.Run::id).toList();
        return ids.size() <= shown ? String.join(", ", ids)
                : "\u2026, " + String.join(", ", ids.subList(ids.size() - shown, ids.size())) + " (" + ids.size()
                + " in all)";
    }
}
