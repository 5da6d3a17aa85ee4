package dev.backprop.autograd;

import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The backward pass: order the graph's nodes so that each comes after every node that uses its
 * output, then walk that order once, turning each node's output gradient into its inputs'
 * gradients. Gradients always accumulate, so a tensor used twice gets the sum (micrograd's rule).
 */
public final class Engine {
    private Engine() {}

    /** Runs backward from {@code root}; see {@link Tensor#backward(Tensor, boolean)}. */
    public static void backward(Tensor root, Tensor gradient, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward(): this tensor does not require grad and has no grad_fn: no "
                    + "input of the computation had requiresGrad(true), or it was computed inside GradMode.noGrad()");
        }
        Tensor seed;
        if (gradient == null) {
            if (root.numel() != 1) {
                throw new IllegalArgumentException("backward(): the gradient can be implied only for a scalar output, "
                        + "this one has shape " + Shape.str(root.shape()) + "; reduce it first (sum(), mean()) or call "
                        + "backward(gradient) with a tensor of that shape");
            }
            seed = Tensor.onesLike(root);
        } else {
            if (!Arrays.equals(gradient.shape(), root.shape())) {
                throw new IllegalArgumentException("backward(gradient): the gradient has shape "
                        + Shape.str(gradient.shape()) + " but the output has shape " + Shape.str(root.shape()));
            }
            seed = gradient;
        }
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            if (root.isLeaf()) {
                accumulateLeaf(root, seed, false);
                return;
            }
            run(root.gradFn(), seed, retainGraph);
        }
    }

    private static void run(Node rootNode, Tensor seed, boolean retainGraph) {
        List<Node> order = topologicalOrder(rootNode);
        Map<Node, Tensor> pending = new IdentityHashMap<>();
        pending.put(rootNode, seed);
        for (Node node : order) {
            Tensor grad = pending.remove(node);
            if (grad == null) {
                continue; // no gradient reached this node (all its consumers returned null)
            }
            if (node.isReleased()) {
                throw new IllegalStateException("backward(): trying to backward through the graph a second time; the "
                        + "values saved by '" + node.name() + "' were freed after the first backward. Pass "
                        + "retainGraph=true to the first backward(gradient, retainGraph) if you need to run it twice.");
            }
            for (UnaryOperator<Tensor> hook : node.outputHooks()) {
                Tensor replaced = hook.apply(grad);
                if (replaced != null) {
                    grad = replaced;
                }
            }
            Tensor[] inputGrads = node.backward(grad);
            if (inputGrads.length != node.numInputs()) {
                throw new IllegalStateException("backward of '" + node.name() + "' returned " + inputGrads.length
                        + " gradients for " + node.numInputs() + " inputs");
            }
            for (int i = 0; i < inputGrads.length; i++) {
                Tensor input = node.input(i);
                Tensor g = inputGrads[i];
                if (g == null || input == null || !input.requiresGrad()) {
                    continue;
                }
                if (!Arrays.equals(g.shape(), input.shape())) {
                    throw new IllegalStateException("backward of '" + node.name() + "' returned a gradient of shape "
                            + Shape.str(g.shape()) + " for input " + i + " of shape " + Shape.str(input.shape()));
                }
                if (Anomaly.isEnabled()) {
                    Anomaly.checkBackward(node, i, g);
                }
                Node producer = input.gradFn();
                if (producer == null) {
                    accumulateLeaf(input, g, node.gradientsAreNew());
                } else {
                    pending.merge(producer, g, Tensor::add);
                }
            }
            if (!retainGraph) {
                node.markReleased();
            }
        }
    }

    /** Adds g to the leaf's gradient; {@code owned} says g is a new array that may be kept as it is. */
    private static void accumulateLeaf(Tensor leaf, Tensor g, boolean owned) {
        for (UnaryOperator<Tensor> hook : List.copyOf(leaf.leafHooks())) {
            owned = false; // a hook may keep a reference to the gradient it sees
            Tensor replaced = hook.apply(g);
            if (replaced != null) {
                g = replaced;
            }
        }
        if (leaf.grad() == null) {
            // keep g itself only when nothing else can see it; else an own copy (g may alias another gradient)
            leaf.setGrad(owned && g.isContiguous() && g.offset() == 0 && g.floatStorage().length == g.numel()
                    ? g : g.copy());
        } else {
            leaf.grad().addInPlace(g);
        }
    }

    /** Nodes reachable from {@code root}, each before the nodes that produced its inputs (reverse post-order). */
    static List<Node> topologicalOrder(Node root) {
        List<Node> postOrder = new ArrayList<>();
        Set<Node> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> nodes = new ArrayDeque<>();
        ArrayDeque<int[]> nextInput = new ArrayDeque<>(); // iterative DFS: long RNN graphs would overflow the stack
        visited.add(root);
        nodes.push(root);
        nextInput.push(new int[] {0});
        while (!nodes.isEmpty()) {
            Node node = nodes.peek();
            int[] next = nextInput.peek();
            if (next[0] < node.numInputs()) {
                Tensor input = node.input(next[0]++);
                Node child = input == null ? null : input.gradFn();
                if (child != null && visited.add(child)) {
                    nodes.push(child);
                    nextInput.push(new int[] {0});
                }
            } else {
                nodes.pop();
                nextInput.pop();
                postOrder.add(node);
            }
        }
        Collections.reverse(postOrder);
        return postOrder;
    }
}
