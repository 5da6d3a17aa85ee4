package dev.backprop.nn;

import dev.backprop.autograd.Anomaly;
import dev.backprop.autograd.GradMode;
import dev.backprop.autograd.HookHandle;
import dev.backprop.io.SafeTensors;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Base class of every layer and model, after PyTorch's {@code nn.Module}: parameters, buffers and
 * sub-modules registered by name, so that {@link #namedParameters()} and {@link #stateDict()} use
 * PyTorch's dotted keys ({@code features.0.weight}).
 *
 * <p>A layer with one input overrides {@link #compute(Tensor)}; callers use {@link #forward(Tensor)},
 * which runs the forward hooks and tags anomalies and errors with the layer's path. Layers with
 * several inputs (attention, recurrent state) offer their own {@code forward(...)} methods and
 * wrap the body in {@link #traced(Tensor, Supplier)}.
 */
public abstract class Module {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Set<String> nonPersistent = new java.util.HashSet<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final List<ForwardHook> forwardHooks = new ArrayList<>(0);
    private Module parent;
    private String nameInParent;
    private boolean training = true;

    /** Called after a module's forward with its input and output. */
    @FunctionalInterface
    public interface ForwardHook {
        void afterForward(Module module, Tensor input, Tensor output);
    }

    // ------------------------------------------------------------------ registration

    /** Registers a trainable parameter (a leaf; requiresGrad is turned on) and returns it. */
    protected final Tensor registerParameter(String name, Tensor value) {
        checkName(name);
        if (value != null) {
            value.requireType(DType.FLOAT32, "registerParameter(" + name + ")");
            if (!value.isLeaf()) {
                throw new IllegalArgumentException("parameter " + name + " must be a leaf tensor; use detach()");
            }
            value.requiresGrad(true);
        }
        parameters.put(name, value);
        return value;
    }

    /** Registers a buffer: state saved in the state dict but not trained (running statistics). */
    protected final Tensor registerBuffer(String name, Tensor value) {
        return registerBuffer(name, value, true);
    }

    /** Registers a buffer; a non-persistent one is left out of the state dict. */
    protected final Tensor registerBuffer(String name, Tensor value, boolean persistent) {
        checkName(name);
        buffers.put(name, value);
        if (!persistent) {
            nonPersistent.add(name);
        }
        return value;
    }

    /** Registers a sub-module under {@code name} and returns it. */
    protected final <M extends Module> M registerModule(String name, M module) {
        checkName(name);
        if (module != null) {
            Module m = module;
            m.parent = this;
            m.nameInParent = name;
        }
        children.put(name, module);
        return module;
    }

    /** Replaces a registered buffer's tensor (for buffers recomputed as a whole). */
    protected final void setBuffer(String name, Tensor value) {
        if (!buffers.containsKey(name)) {
            throw new IllegalArgumentException("no buffer named " + name + " in " + describe());
        }
        buffers.put(name, value);
    }

    protected final Tensor buffer(String name) {
        return buffers.get(name);
    }

    private void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("invalid name '" + name + "': names must be non-empty and contain no '.'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already registered in " + describe());
        }
    }

    // ------------------------------------------------------------------ forward

    /** Runs this module on {@code input}. */
    public final Tensor forward(Tensor input) {
        return traced(input, () -> compute(input));
    }

    /** The computation of a one-input layer; called through {@link #forward(Tensor)}. */
    protected Tensor compute(Tensor input) {
        throw new UnsupportedOperationException(describe() + " has no one-input forward; see its forward(...) methods");
    }

    /**
     * Runs {@code body} as this module's forward: anomalies name this layer, and the forward
     * hooks see {@code input} and the result.
     */
    protected final Tensor traced(Tensor input, Supplier<Tensor> body) {
        Tensor out;
        try (GradMode.Scope ignored = Anomaly.enterLayer(describe())) {
            out = body.get();
        }
        for (ForwardHook hook : List.copyOf(forwardHooks)) {
            hook.afterForward(this, input, out);
        }
        return out;
    }

    /** Adds a hook called after every forward of this module. */
    public final HookHandle registerForwardHook(ForwardHook hook) {
        forwardHooks.add(hook);
        return () -> forwardHooks.remove(hook);
    }

    /**
     * Fails with a message naming this layer, what it expected and what it got, for example
     * {@code features.3 (Conv2d): expected input (N, 32, H, W), got [64, 16, 14, 14]}.
     */
    protected final void checkInput(boolean ok, String expected, Tensor input) {
        if (!ok) {
            throw new IllegalArgumentException(describe() + ": expected input " + expected + ", got "
                    + Shape.str(input.shape()));
        }
    }

    // ------------------------------------------------------------------ structure

    /** The dotted path of this module from the root ({@code features.3}), empty for the root. */
    public final String path() {
        if (parent == null) {
            return "";
        }
        String p = parent.path();
        return p.isEmpty() ? nameInParent : p + "." + nameInParent;
    }

    /** {@code path (Type)}, or just the type for a root module. */
    public final String describe() {
        String p = path();
        return p.isEmpty() ? typeName() : p + " (" + typeName() + ")";
    }

    /** The layer's type name, as PyTorch prints it ({@code Conv2d}). */
    public String typeName() {
        return getClass().getSimpleName();
    }

    /** Direct sub-modules by name, in registration order. */
    public final Map<String, Module> namedChildren() {
        Map<String, Module> out = new LinkedHashMap<>();
        children.forEach((k, v) -> {
            if (v != null) {
                out.put(k, v);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /** This module and every descendant by dotted path ("" for this one), depth first. */
    public final Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out, Set<Module> seen) {
        if (!seen.add(this)) {
            return;
        }
        out.put(prefix, this);
        children.forEach((name, child) -> {
            if (child != null) {
                child.collectModules(prefix.isEmpty() ? name : prefix + "." + name, out, seen);
            }
        });
    }

    /** Every parameter by dotted path (a parameter shared by two modules appears once). */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        namedModules().forEach((prefix, m) -> m.parameters.forEach((name, t) -> {
            if (t != null && seen.add(t)) {
                out.put(prefix.isEmpty() ? name : prefix + "." + name, t);
            }
        }));
        return out;
    }

    /** Every parameter, in the order of {@link #namedParameters()}. */
    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Every buffer by dotted path. */
    public final Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedModules().forEach((prefix, m) -> m.buffers.forEach((name, t) -> {
            if (t != null) {
                out.put(prefix.isEmpty() ? name : prefix + "." + name, t);
            }
        }));
        return out;
    }

    /** Number of parameter elements (trainable or not). */
    public final long parameterCount() {
        return parameters().stream().mapToLong(Tensor::numel).sum();
    }

    /** Applies {@code fn} to every sub-module and then to this one (PyTorch's order). */
    public final Module apply(Consumer<Module> fn) {
        for (Module child : namedChildren().values()) {
            child.apply(fn);
        }
        fn.accept(this);
        return this;
    }

    // ------------------------------------------------------------------ modes and freezing

    /** Training mode (dropout active, batch norm on batch statistics), recursively; returns this. */
    public final Module train() {
        return train(true);
    }

    public Module train(boolean mode) {
        training = mode;
        namedChildren().values().forEach(c -> c.train(mode));
        return this;
    }

    /** Evaluation mode, recursively; returns this. */
    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /** Stops training every parameter of this module (they keep their values); returns this. */
    public final Module freeze() {
        parameters().forEach(p -> p.requiresGrad(false));
        return this;
    }

    /** Trains every parameter of this module again; returns this. */
    public final Module unfreeze() {
        parameters().forEach(p -> p.requiresGrad(true));
        return this;
    }

    /** Clears the gradient of every parameter. */
    public final void zeroGrad() {
        parameters().forEach(Tensor::zeroGrad);
    }

    // ------------------------------------------------------------------ state dict

    /**
     * Parameters and persistent buffers by PyTorch's dotted keys. The tensors share storage with
     * the module (detached), as PyTorch's {@code state_dict()} does.
     */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedModules().forEach((prefix, m) -> {
            m.parameters.forEach((name, t) -> {
                if (t != null) {
                    out.put(prefix.isEmpty() ? name : prefix + "." + name, t.detach());
                }
            });
            m.buffers.forEach((name, t) -> {
                if (t != null && !m.nonPersistent.contains(name)) {
                    out.put(prefix.isEmpty() ? name : prefix + "." + name, t.detach());
                }
            });
        });
        return out;
    }

    /** {@link #loadStateDict(Map, boolean)} with strict checking. */
    public final void loadStateDict(Map<String, Tensor> state) {
        loadStateDict(state, true);
    }

    /**
     * Copies values into this module's parameters and buffers. Everything is checked before
     * anything is copied, so the module is either fully loaded or left untouched: every missing
     * key (strict only), unexpected key (strict only) and wrongly shaped or typed key is listed in
     * one {@link StateDictMismatchException}. Returns the keys that were not loaded (non-strict).
     */
    public final List<String> loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                mismatched.add(e.getKey() + ": expected shape " + Shape.str(e.getValue().shape()) + ", got "
                        + Shape.str(src.shape()));
            }
        }
        for (String k : state.keySet()) {
            if (!own.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            throw new StateDictMismatchException(typeName(), strict ? missing : List.of(),
                    strict ? unexpected : List.of(), mismatched);
        }
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            own.forEach((k, dst) -> {
                Tensor src = state.get(k);
                if (src != null) {
                    dst.copyFrom(src.to(dst.dtype())); // converts the element type as PyTorch's copy_ does
                }
            });
        }
        List<String> notLoaded = new ArrayList<>(missing);
        notLoaded.addAll(unexpected);
        return notLoaded;
    }

    /**
     * Writes the state dict as safetensors (atomically, with the SHA-256 of the data in the
     * metadata, checked by every later read), loadable by PyTorch's {@code load_file}.
     */
    public final void save(Path file) throws IOException {
        SafeTensors.writeWithChecksum(file, stateDict(), Map.of("format", "pt", "backprop.model", typeName()));
    }

    /** Loads a safetensors state dict (written by {@link #save} or by PyTorch), strictly. */
    public final void load(Path file) throws IOException {
        try {
            loadStateDict(SafeTensors.read(file).tensors(), true);
        } catch (StateDictMismatchException e) {
            throw new StateDictMismatchException(file + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ printing

    /** A table like Keras' {@code summary()}: run on an input of {@code inputShape}. */
    public final String summary(int... inputShape) {
        return Summary.of(this, inputShape);
    }

    @Override
    public String toString() {
        return typeName() + "(" + extraRepr() + ")";
    }

    /** The constructor arguments shown in {@link #toString()}, as PyTorch's {@code extra_repr}. */
    protected String extraRepr() {
        return "";
    }
}
