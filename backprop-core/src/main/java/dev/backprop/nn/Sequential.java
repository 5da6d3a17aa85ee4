package dev.backprop.nn;

import dev.backprop.tensor.Tensor;
import java.util.List;

/** Modules applied in order, registered as "0", "1", ... like {@code torch.nn.Sequential}. */
public class Sequential extends Module {
    private final ModuleList layers;

    public Sequential(Module... modules) {
        this(List.of(modules));
    }

    public Sequential(List<? extends Module> modules) {
        this.layers = new ModuleList();
        for (int i = 0; i < modules.size(); i++) {
            registerModule(Integer.toString(i), modules.get(i));
            layers.addUnregistered(modules.get(i));
        }
    }

    @Override
    protected Tensor compute(Tensor x) {
        Tensor h = x;
        for (Module m : layers) {
            h = m.forward(h);
        }
        return h;
    }

    /** The i-th module. */
    public Module get(int index) {
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(typeName()).append("(\n");
        for (int i = 0; i < layers.size(); i++) {
            sb.append("  (").append(i).append("): ").append(layers.get(i).toString().replace("\n", "\n  ")).append('\n');
        }
        return sb.append(')').toString();
    }
}
