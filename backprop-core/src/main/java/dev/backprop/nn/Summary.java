package dev.backprop.nn;

import dev.backprop.autograd.GradMode;
import dev.backprop.autograd.HookHandle;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The table printed by {@link Module#summary}: one row per module, then the totals. */
final class Summary {
    private Summary() {}

    static String of(Module root, int[] inputShape) {
        Map<String, Module> modules = root.namedModules();
        Map<Module, String> outputShapes = new IdentityHashMap<>();
        List<HookHandle> handles = new ArrayList<>();
        for (Module m : modules.values()) {
            handles.add(m.registerForwardHook((mod, in, out) -> outputShapes.put(mod, Shape.str(out.shape()))));
        }
        boolean wasTraining = root.isTraining();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            root.eval();
            root.forward(Tensor.zeros(inputShape));
        } finally {
            handles.forEach(HookHandle::remove);
            root.train(wasTraining);
        }
        String format = "%-32s %-20s %-22s %12s  %s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, format, "layer", "type", "output shape", "params", "trainable"));
        sb.append("-".repeat(100)).append('\n');
        long total = 0;
        long trainable = 0;
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            Module m = e.getValue();
            long own = 0;
            long ownTrainable = 0;
            for (Map.Entry<String, Tensor> p : m.namedParameters().entrySet()) {
                if (!p.getKey().contains(".")) { // this module's own parameters only
                    own += p.getValue().numel();
                    ownTrainable += p.getValue().requiresGrad() ? p.getValue().numel() : 0;
                }
            }
            total += own;
            trainable += ownTrainable;
            String status = own == 0 ? "" : ownTrainable == own ? "yes" : ownTrainable == 0 ? "frozen" : "partly";
            sb.append(String.format(Locale.ROOT, format, e.getKey().isEmpty() ? "(root)" : e.getKey(), m.typeName(),
                    outputShapes.getOrDefault(m, "-"), own == 0 ? "" : String.format(Locale.ROOT, "%,d", own), status));
        }
        sb.append("-".repeat(100)).append('\n');
        sb.append(String.format(Locale.ROOT, "input %s; parameters: %,d total, %,d trainable, %,d frozen%n",
                Shape.str(inputShape), total, trainable, total - trainable));
        return sb.toString();
    }
}
