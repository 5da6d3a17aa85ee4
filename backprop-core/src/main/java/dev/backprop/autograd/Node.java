package dev.backprop.autograd;

import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One recorded op in the graph (PyTorch's {@code grad_fn}): it knows its inputs and how to turn
 * the gradient of its output into gradients of those inputs. Each op class in
 * {@code dev.backprop.ops} extends it, keeping the forward computation and {@link #backward} side
 * by side.
 *
 * <p>To write a custom differentiable op: compute the output, then
 * {@code return Node.record("myop", out, Node.needsGrad(x) ? new MyOp(x) : null);}.
 */
public abstract class Node {
    private final String name;
    private final Tensor[] inputs;
    private final StackTraceElement callSite;
    private final String layer;
    private List<UnaryOperator<Tensor>> outputHooks;
    private boolean released;

    /**
     * @param name the op's name as users know it ({@code "matmul"}, {@code "log_softmax"})
     * @param inputs the op's tensor inputs, in the order {@link #backward} returns gradients
     */
    protected Node(String name, Tensor... inputs) {
        this.name = name;
        this.inputs = inputs;
        boolean anomaly = Anomaly.isEnabled();
        this.callSite = anomaly ? Anomaly.userCallSite() : null;
        this.layer = anomaly ? Anomaly.currentLayer() : null;
    }

    /**
     * Computes the gradients of the inputs from {@code gradOutput}, the gradient of this op's
     * output. Returns one entry per input, in order; null where an input needs no gradient.
     * Runs with grad mode off. The returned tensors may alias {@code gradOutput}: the engine
     * never modifies them in place.
     */
    protected abstract Tensor[] backward(Tensor gradOutput);

    /**
     * Whether every tensor {@link #backward} returns is a new array that nothing else refers to: the
     * engine then keeps it as a leaf's gradient instead of copying it. Ops whose gradients may alias
     * {@code gradOutput} or saved values (views, additions, identities) must leave this false.
     */
    protected boolean gradientsAreNew() {
        return false;
    }

    /** Drops values saved for backward; called once backward has run without {@code retainGraph}. */
    protected void release() {}

    /** Whether any of {@code tensors} needs a gradient and grad mode is on: then the op records a node. */
    public static boolean needsGrad(Tensor... tensors) {
        if (!GradMode.isEnabled()) {
            return false;
        }
        for (Tensor t : tensors) {
            if (t != null && t.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Finishes an op: attaches {@code node} (if not null) as the output's gradFn and, in anomaly
     * mode, checks the output for NaN and infinity. Returns {@code out}.
     */
    public static Tensor record(String op, Tensor out, Node node) {
        if (node != null) {
            out.setGradFn(node);
        }
        if (Anomaly.isEnabled()) {
            Anomaly.checkForward(op, out, node != null ? node.callSite : Anomaly.userCallSite());
        }
        return out;
    }

    /** The op's name. */
    public String name() {
        return name;
    }

    /** Input {@code i} as recorded in forward. */
    public Tensor input(int i) {
        return inputs[i];
    }

    public int numInputs() {
        return inputs.length;
    }

    /** Whether input {@code i} wants a gradient (so backward can skip work for the others). */
    protected boolean needsInputGrad(int i) {
        return inputs[i] != null && inputs[i].requiresGrad();
    }

    /** Where user code called this op, captured in anomaly mode (null otherwise). */
    public StackTraceElement callSite() {
        return callSite;
    }

    /** The layer whose forward recorded this op, captured in anomaly mode (null otherwise). */
    public String layer() {
        return layer;
    }

    /** Adds a hook on the gradient of this node's output (see {@link Tensor#registerHook}). */
    public HookHandle addOutputHook(UnaryOperator<Tensor> hook) {
        if (outputHooks == null) {
            outputHooks = new ArrayList<>(2);
        }
        outputHooks.add(hook);
        return () -> outputHooks.remove(hook);
    }

    List<UnaryOperator<Tensor>> outputHooks() {
        return outputHooks == null ? List.of() : outputHooks;
    }

    boolean isReleased() {
        return released;
    }

    void markReleased() {
        released = true;
        release();
    }

    @Override
    public String toString() {
        return "<" + name + ">";
    }
}
