package dev.backprop.cli;

import dev.backprop.autograd.GradCheck;
import dev.backprop.check.GradCheckCase;
import dev.backprop.check.GradCheckSuite;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backprop gradcheck}: numerical gradient check of every differentiable op, as a table. */
@Command(name = "gradcheck", mixinStandardHelpOptions = true,
        description = "Checks the backward pass of every differentiable op and layer against numerical gradients "
                + "(central differences with Richardson extrapolation, accumulated in double) and prints a table. "
                + "Exit code 1 if any op fails.")
final class GradCheckCommand implements Callable<Integer> {

    @Option(names = "--filter", paramLabel = "TEXT", description = "Only ops whose name contains TEXT.")
    String filter;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        String format = "%-64s %9s %12s %12s  %s%n";
        out.printf(Locale.ROOT, format, "op or layer", "elements", "max abs err", "max rel err", "result");
        int failed = 0;
        int count = 0;
        long elements = 0;
        long start = System.nanoTime();
        for (Map.Entry<String, List<GradCheckCase>> group : GradCheckSuite.all().entrySet()) {
            List<GradCheckCase> cases = group.getValue().stream()
                    .filter(c -> filter == null || c.name().contains(filter))
                    .toList();
            if (cases.isEmpty()) {
                continue;
            }
            out.println("-- " + group.getKey() + " " + "-".repeat(Math.max(0, 104 - group.getKey().length())));
            for (GradCheckCase c : cases) {
                GradCheck.Report r = c.run();
                count++;
                elements += r.elementsChecked();
                if (!r.passed()) {
                    failed++;
                }
                out.printf(Locale.ROOT, format, c.name(), r.elementsChecked(), sci(r.maxAbsError()),
                        sci(r.maxRelError()), r.passed() ? "PASS" : "FAIL  " + r.failures().get(0));
            }
        }
        out.println("-".repeat(108));
        out.printf(Locale.ROOT, "%d checked: %d passed, %d failed (%d gradient elements, %.1f s)%n", count,
                count - failed, failed, elements, (System.nanoTime() - start) / 1e9);
        return failed == 0 ? 0 : 1;
    }

    private static String sci(double v) {
        return String.format(Locale.ROOT, "%.2e", v);
    }
}
