package dev.backprop.check;

import dev.backprop.autograd.GradCheck;
import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/** One named gradient check, run by the test suite and by {@code ./backprop gradcheck}. */
public record GradCheckCase(String name, Supplier<GradCheck.Report> runner) {

    public GradCheck.Report run() {
        return runner.get();
    }

    /** Checks {@code f} with respect to every float input that requires grad (default options). */
    public static GradCheckCase ofFunction(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        List<Tensor> in = List.of(inputs);
        return new GradCheckCase(name, () -> GradCheck.check(f, in, GradCheck.Options.defaults()));
    }

    /** Checks a forward closure with respect to {@code parameters}, such as a module's (default options). */
    public static GradCheckCase ofParameters(String name, Supplier<Tensor> forward, List<Tensor> parameters) {
        return new GradCheckCase(name, () -> GradCheck.check(forward, parameters, GradCheck.Options.defaults()));
    }
}
