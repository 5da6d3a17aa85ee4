package dev.backprop.cli;

import dev.backprop.autograd.GradCheck;
import dev.backprop.check.OpGradChecks;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backprop gradcheck}: numerical gradient check of every differentiable op, as a table. */
@Command(name = "gradcheck", mixinStandardHelpOptions = true,
        description = "Checks the backward pass of every differentiable op against numerical gradients "
                + "(central differences with Richardson extrapolation, accumulated in double) and prints a table. "
                + "Exit code 1 if any op fails.")
final class GradCheckCommand implements Callable<Integer> {

    @Option(names = "--filter", paramLabel = "TEXT", description = "Only ops whose name contains TEXT.")
    String filter;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        List<OpGradChecks.Case> cases = OpGradChecks.all().stream()
                .filter(c -> filter == null || c.name().contains(filter))
                .toList();
        String format = "%-56s %9s %12s %12s  %s%n";
        out.printf(Locale.ROOT, format, "op", "elements", "max abs err", "max rel err", "result");
        out.println("-".repeat(100));
        int failed = 0;
        long elements = 0;
        long start = System.nanoTime();
        for (OpGradChecks.Case c : cases) {
            GradCheck.Report r = c.run();
            elements += r.elementsChecked();
            if (!r.passed()) {
                failed++;
            }
            out.printf(Locale.ROOT, format, c.name(), r.elementsChecked(), sci(r.maxAbsError()), sci(r.maxRelError()),
                    r.passed() ? "PASS" : "FAIL  " + r.failures().get(0));
        }
        out.println("-".repeat(100));
        out.printf(Locale.ROOT, "%d ops checked: %d passed, %d failed (%d gradient elements, %.1f s)%n", cases.size(),
                cases.size() - failed, failed, elements, (System.nanoTime() - start) / 1e9);
        return failed == 0 ? 0 : 1;
    }

    private static String sci(double v) {
        return String.format(Locale.ROOT, "%.2e", v);
    }
}
