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
        Path dir = RunRef.find(run, runsDir);
        DashboardServer server = new DashboardServer(dir, port);
        System.out.println("dashboard of run " + dir.toAbsolutePath().normalize().getFileName() + " (" + dir + "): "
                + server.url() + " (Ctrl-C to stop)");
        return server;
    }
}
