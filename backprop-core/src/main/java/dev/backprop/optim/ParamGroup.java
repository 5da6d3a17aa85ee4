package dev.backprop.optim;

import dev.backprop.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters that share hyperparameters, as PyTorch's {@code param_groups} entries: the options
 * are named like PyTorch's ({@code lr}, {@code weight_decay}, {@code momentum}, {@code beta1},
 * {@code beta2}, {@code eps}, ...) so that schedules can change them by name.
 */
public final class ParamGroup {
    private final List<Tensor> params;
    private final Map<String, Double> options;

    /** A group with its own options; options not given fall back to the optimizer's defaults. */
    public ParamGroup(List<Tensor> params, Map<String, Double> options) {
        this.params = List.copyOf(params);
        this.options = new LinkedHashMap<>(options);
    }

    /** A group that only overrides the learning rate. */
    public static ParamGroup of(List<Tensor> params, double lr) {
        return new ParamGroup(params, Map.of("lr", lr));
    }

    public List<Tensor> params() {
        return params;
    }

    /** An option's value; fails naming the option when the optimizer has no such option. */
    public double get(String option) {
        Double v = options.get(option);
        if (v == null) {
            throw new IllegalArgumentException("this parameter group has no option '" + option + "'; it has "
                    + options.keySet());
        }
        return v;
    }

    public boolean has(String option) {
        return options.containsKey(option);
    }

    public void set(String option, double value) {
        options.put(option, value);
    }

    public double lr() {
        return get("lr");
    }

    public void setLr(double lr) {
        set("lr", lr);
    }

    /** A copy of the options, in insertion order. */
    public Map<String, Double> options() {
        return new LinkedHashMap<>(options);
    }

    void fillDefaults(Map<String, Double> defaults) {
        defaults.forEach(options::putIfAbsent);
    }
}
