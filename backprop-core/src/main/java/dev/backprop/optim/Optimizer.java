package dev.backprop.optim;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Base of the optimizers, after {@code torch.optim.Optimizer}: parameter groups with their own
 * options, per-parameter state (moment buffers, step counts) and a state dict that saves that
 * state by parameter position, so that a checkpoint restores it exactly.
 *
 * <p>Updates are applied in place on the parameters' float storage, outside autograd, to every
 * parameter whose {@code grad()} is set (parameters without a gradient are skipped, as in PyTorch).
 */
public abstract class Optimizer {
    private final List<ParamGroup> groups;
    private final Map<Tensor, Map<String, float[]>> buffers = new IdentityHashMap<>();
    private final Map<Tensor, long[]> steps = new IdentityHashMap<>();

    /** @param defaults the optimizer's options, used for every group that does not set them */
    protected Optimizer(List<ParamGroup> groups, Map<String, Double> defaults) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " got an empty parameter list");
        }
        this.groups = List.copyOf(groups);
        Map<Tensor, Integer> seen = new IdentityHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            group.fillDefaults(defaults);
            for (Tensor p : group.params()) {
                p.requireType(DType.FLOAT32, getClass().getSimpleName());
                if (!p.isLeaf() || !p.isContiguous()) {
                    throw new IllegalArgumentException(getClass().getSimpleName() + ": parameters must be contiguous "
                            + "leaf tensors, got one of shape " + Shape.str(p.shape()));
                }
                Integer previous = seen.put(p, g);
                if (previous != null) {
                    throw new IllegalArgumentException(getClass().getSimpleName() + ": a parameter of shape "
                            + Shape.str(p.shape()) + " appears twice (groups " + previous + " and " + g + ")");
                }
            }
        }
        validate();
    }

    /** One group holding every parameter. */
    protected static List<ParamGroup> single(List<Tensor> params) {
        return List.of(new ParamGroup(params, Map.of()));
    }

    /** Checks the options of every group (range errors name the option and the group). */
    protected void validate() {
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            for (Map.Entry<String, Double> e : group.options().entrySet()) {
                if (Double.isNaN(e.getValue()) || e.getValue() < 0) {
                    throw new IllegalArgumentException(getClass().getSimpleName() + ": invalid " + e.getKey() + " "
                            + e.getValue() + " in parameter group " + g + " (expected a non-negative number)");
                }
            }
        }
    }

    /** Applies one update to every parameter that has a gradient. */
    public final void step() {
        for (ParamGroup group : groups) {
            for (Tensor p : group.params()) {
                Tensor grad = p.grad();
                if (grad == null) {
                    continue;
                }
                long step = ++steps.computeIfAbsent(p, k -> new long[1])[0];
                float[] g = grad.isContiguous() && grad.offset() == 0 && grad.floatStorage().length == p.numel()
                        ? grad.floatStorage()
                        : grad.toFloatArray();
                update(group, p.floatStorage(), p.offset(), p.numel(), g, step,
                        buffers.computeIfAbsent(p, k -> new HashMap<>()));
            }
        }
    }

    /**
     * Updates {@code n} parameter values at {@code param[offset..]} from the gradient {@code grad[0..n)}.
     * {@code state} holds this parameter's buffers by name (create them with {@link #buffer});
     * {@code step} counts this parameter's updates from 1.
     */
    protected abstract void update(ParamGroup group, float[] param, int offset, int n, float[] grad, long step,
            Map<String, float[]> state);

    /** The buffer {@code name} of a parameter's state, created zero-filled on first use. */
    protected static float[] buffer(Map<String, float[]> state, String name, int n) {
        return state.computeIfAbsent(name, k -> new float[n]);
    }

    /** Clears the gradient of every parameter. */
    public final void zeroGrad() {
        for (ParamGroup group : groups) {
            group.params().forEach(Tensor::zeroGrad);
        }
    }

    public final List<ParamGroup> paramGroups() {
        return groups;
    }

    /** The learning rate of the first group. */
    public final double lr() {
        return groups.get(0).lr();
    }

    /** Sets the learning rate of every group. */
    public final void setLr(double lr) {
        groups.forEach(g -> g.setLr(lr));
    }

    // ------------------------------------------------------------------ state

    /**
     * The optimizer's state, by parameter position across groups (as PyTorch saves it): tensors
     * {@code state.<i>.<buffer>} and values {@code state.<i>.step} and
     * {@code param_groups.<g>.<option>} (exact decimal strings, so a restored run is bit-identical).
     */
    public final State state() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> values = new LinkedHashMap<>();
        int index = 0;
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            for (Map.Entry<String, Double> e : group.options().entrySet()) {
                values.put("param_groups." + g + "." + e.getKey(), Double.toString(e.getValue()));
            }
            for (Tensor p : group.params()) {
                long[] step = steps.get(p);
                if (step != null) {
                    values.put("state." + index + ".step", Long.toString(step[0]));
                }
                Map<String, float[]> b = buffers.get(p);
                if (b != null) {
                    for (Map.Entry<String, float[]> e : b.entrySet()) {
                        tensors.put("state." + index + "." + e.getKey(), Tensor.of(e.getValue().clone(), p.shape()));
                    }
                }
                index++;
            }
        }
        return new State(tensors, values);
    }

    /** Restores a state saved by {@link #state()} from an optimizer of the same kind and parameters. */
    public final void loadState(State state) {
        List<Tensor> params = new ArrayList<>();
        groups.forEach(g -> params.addAll(g.params()));
        Map<Tensor, Map<String, float[]>> newBuffers = new IdentityHashMap<>();
        Map<Tensor, long[]> newSteps = new IdentityHashMap<>();
        for (Map.Entry<String, String> e : state.values().entrySet()) {
            String[] key = e.getKey().split("\\.", 3);
            if (key.length == 3 && key[0].equals("state") && key[2].equals("step")) {
                long stepCount;
                try {
                    stepCount = Long.parseLong(e.getValue());
                } catch (NumberFormatException bad) {
                    throw new IllegalArgumentException("optimizer state entry '" + e.getKey() + "' is not a step count: '"
                            + e.getValue() + "'");
                }
                newSteps.put(param(params, key[1], e.getKey()), new long[] {stepCount});
            } else if (key.length == 3 && key[0].equals("param_groups")) {
                int g = parseInt(key[1], e.getKey());
                if (g < 0 || g >= groups.size()) {
                    throw new IllegalArgumentException("optimizer state names parameter group " + g + " but there are "
                            + groups.size());
                }
                try {
                    Double.parseDouble(e.getValue());
                } catch (NumberFormatException bad) {
                    throw new IllegalArgumentException("optimizer state entry '" + e.getKey() + "' is not a number: '"
                            + e.getValue() + "'");
                }
            } else {
                throw new IllegalArgumentException("unexpected optimizer state entry '" + e.getKey() + "'");
            }
        }
        for (Map.Entry<String, Tensor> e : state.tensors().entrySet()) {
            String[] key = e.getKey().split("\\.", 3);
            if (key.length != 3 || !key[0].equals("state")) {
                throw new IllegalArgumentException("unexpected optimizer state tensor '" + e.getKey() + "'");
            }
            Tensor p = param(params, key[1], e.getKey());
            if (!Arrays.equals(p.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("optimizer state '" + e.getKey() + "' has shape "
                        + Shape.str(e.getValue().shape()) + " but its parameter has shape " + Shape.str(p.shape()));
            }
            newBuffers.computeIfAbsent(p, k -> new HashMap<>()).put(key[2], e.getValue().toFloatArray());
        }
        // everything parsed and checked: apply
        buffers.clear();
        buffers.putAll(newBuffers);
        steps.clear();
        steps.putAll(newSteps);
        for (Map.Entry<String, String> e : state.values().entrySet()) {
            String[] key = e.getKey().split("\\.", 3);
            if (key[0].equals("param_groups")) {
                groups.get(Integer.parseInt(key[1])).set(key[2], Double.parseDouble(e.getValue()));
            }
        }
    }

    private static int parseInt(String index, String key) {
        try {
            return Integer.parseInt(index);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("optimizer state entry '" + key + "' has no parameter group index");
        }
    }

    private static Tensor param(List<Tensor> params, String index, String key) {
        int i;
        try {
            i = Integer.parseInt(index);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("optimizer state entry '" + key + "' has no parameter index");
        }
        if (i < 0 || i >= params.size()) {
            throw new IllegalArgumentException("optimizer state entry '" + key + "' names parameter " + i
                    + " but the optimizer has " + params.size() + " parameters; was it saved for another model?");
        }
        return params.get(i);
    }

    /** Tensors and exact scalar values of an optimizer or schedule state, ready for a checkpoint. */
    public record State(Map<String, Tensor> tensors, Map<String, String> values) {}
}
