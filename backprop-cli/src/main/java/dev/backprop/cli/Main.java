package dev.backprop.cli;

import dev.backprop.Backprop;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./backprop}. */
@Command(
        name = "backprop",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Deep-learning training framework for Java: tensors, autograd, training.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, GradCheckCommand.class, BenchCommand.class, RunsCommand.class, LrFindCommand.class,
                DashboardCommand.class, TranslateCommand.class, GenerateCommand.class, ExportCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Main::reportError).execute(args);
    }

    /**
     * Bad input and failed runs (illegal arguments, unreadable or malformed files, a missing
     * dependency) end with one line saying what went wrong and exit code 2, not a stack trace;
     * anything else is a bug and keeps its stack trace.
     */
    private static int reportError(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) throws Exception {
        if (e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException
                || e instanceof dev.backprop.data.DataException) {
            cmd.getErr().println("backprop " + cmd.getCommandName() + ": " + e.getMessage());
            return 2;
        }
        throw e;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code backprop --version}: the library version and the JVM it runs on. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "backprop " + Backprop.version(),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ", "
                        + System.getProperty("java.home") + ")"
            };
        }
    }
}
