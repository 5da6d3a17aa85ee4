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

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "address to listen on (default: ${DEFAULT-VALUE}, this machine only); any other address "
                    + "(0.0.0.0: every interface) makes the run readable by whoever can reach it, with no password "
                    + "and no encryption, and needs --allow-remote")
    String bind;

    @Option(names = "--allow-remote", description = "confirm a --bind address other than the loopback one")
    boolean allowRemote;

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
        java.net.InetAddress address = address(bind, allowRemote);
        Path dir = RunRef.find(run, runsDir);
        DashboardServer server = new DashboardServer(dir, port, "--port 0", address);
        if (!address.isLoopbackAddress()) {
            System.err.println("WARNING: the dashboard listens on " + address.getHostAddress() + ":" + server.port()
                    + ", reachable from other machines: anyone who can reach it can read this run (its manifest, "
                    + "metrics, class names, file paths); it is read-only but has no password and no encryption. "
                    + "Leave out --bind to keep it on this machine.");
        }
        System.out.println("dashboard of run " + dir.toAbsolutePath().normalize().getFileName() + " (" + dir + "): "
                + server.url() + " (Ctrl-C to stop)");
        return server;
    }

    /**
     * The address of {@code --bind}: a loopback address as given, another only with
     * {@code --allow-remote}.
     *
     * @throws IllegalArgumentException if the address is unknown, or not loopback without the flag
     */
    static java.net.InetAddress address(String bind, boolean allowRemote) {
        java.net.InetAddress a;
        try {
            a = java.net.InetAddress.getByName(bind);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("--bind " + bind + ": not an address of this machine (" + e.getMessage()
                    + "); expected an IP address such as 127.0.0.1 or 0.0.0.0", e);
        }
        if (!a.isLoopbackAddress() && !allowRemote) {
            throw new IllegalArgumentException("--bind " + bind + " would let other machines read this run (no password,"
                    + " no encryption); add --allow-remote to confirm, or leave out --bind to stay on 127.0.0.1");
        }
        return a;
    }
}
