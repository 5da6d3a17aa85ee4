package dev.backprop.autograd;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.net.URL;
import java.security.CodeSource;

/**
 * Anomaly mode: every op checks its output, and the backward pass checks every gradient it
 * computes, for NaN and infinity; the first one raises {@link NonFiniteValueException} naming the
 * op and the line of user code that called it (captured in forward). It costs a scan of every
 * tensor and a stack walk per op, so it is for debugging, like {@code torch.autograd.detect_anomaly}.
 *
 * <pre>{@code
 * try (var ignored = Anomaly.enable()) {
 *     loss = model.forward(x); loss.backward();
 * }
 * }</pre>
 */
public final class Anomaly {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {false});
    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    /** Where the library's own classes come from: frames of classes from elsewhere are the user's. */
    private static final URL LIBRARY = locationOf(Anomaly.class);

    /** Path of the layer whose forward is running on this thread (set by nn.Module), for messages. */
    private static final ThreadLocal<java.util.ArrayDeque<String>> LAYERS =
            ThreadLocal.withInitial(java.util.ArrayDeque::new);

    private Anomaly() {}

    /**
     * Marks that the forward of a layer runs until the scope is closed, so that an anomaly can
     * name the layer as well as the op. {@code nn.Module} calls this around every forward.
     */
    public static GradMode.Scope enterLayer(String label) {
        java.util.ArrayDeque<String> stack = LAYERS.get();
        stack.push(label);
        return stack::pop;
    }

    /** The innermost layer whose forward is running on this thread, or null. */
    public static String currentLayer() {
        return LAYERS.get().peek();
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Enables anomaly mode on this thread until the scope is closed. */
    public static GradMode.Scope enable() {
        boolean[] state = ENABLED.get();
        boolean previous = state[0];
        state[0] = true;
        return () -> state[0] = previous;
    }

    /**
     * The first stack frame outside the library (and the JDK): the user's line that called the op.
     * Library classes are those loaded from the same place as this class.
     */
    public static StackTraceElement userCallSite() {
        return WALKER.walk(frames -> frames
                .filter(f -> !isLibraryOrJdk(f.getDeclaringClass()))
                .findFirst()
                .map(StackWalker.StackFrame::toStackTraceElement)
                .orElse(null));
    }

    private static boolean isLibraryOrJdk(Class<?> c) {
        URL location = locationOf(c);
        return location == null || location.equals(LIBRARY);
    }

    private static URL locationOf(Class<?> c) {
        CodeSource source = c.getProtectionDomain().getCodeSource();
        return source == null ? null : source.getLocation();
    }

    /** Forward check: throws if {@code out} holds a non-finite value. */
    static void checkForward(String op, Tensor out, StackTraceElement site) {
        int bad = firstNonFinite(out);
        if (bad >= 0) {
            float v = out.toFloatArray()[bad];
            String layer = currentLayer();
            throw new NonFiniteValueException("anomaly: op '" + op + "'" + (layer == null ? "" : " in layer " + layer)
                    + " produced " + describe(v) + " in forward at "
                    + position(out.shape(), bad) + " of its output " + Shape.str(out.shape()) + "; called at "
                    + (site == null ? "an unknown location" : site) + ". Check this op's inputs (log or sqrt of a "
                    + "negative or zero value, division by zero, overflow of exp) or lower the learning rate.",
                    op, false, site);
        }
    }

    /** Backward check: throws if a gradient computed by {@code node} holds a non-finite value. */
    static void checkBackward(Node node, int input, Tensor grad) {
        int bad = firstNonFinite(grad);
        if (bad >= 0) {
            float v = grad.toFloatArray()[bad];
            StackTraceElement site = node.callSite();
            throw new NonFiniteValueException("anomaly: the backward of op '" + node.name() + "'"
                    + (node.layer() == null ? "" : " in layer " + node.layer()) + " produced "
                    + describe(v) + " in the gradient of its input " + input + " at "
                    + position(grad.shape(), bad) + " " + Shape.str(grad.shape()) + "; that op was called in forward at "
                    + (site == null ? "an unknown location" : site) + ".", node.name(), true, site);
        }
    }

    private static int firstNonFinite(Tensor t) {
        if (t.dtype() != DType.FLOAT32) {
            return -1;
        }
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                return i;
            }
        }
        return -1;
    }

    private static String describe(float v) {
        return Float.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    }

    private static String position(int[] shape, int flat) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = shape[i] == 0 ? 0 : flat % shape[i];
            flat = shape[i] == 0 ? 0 : flat / shape[i];
        }
        return "index " + Arrays.toString(idx);
    }
}
