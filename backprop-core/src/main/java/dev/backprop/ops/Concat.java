package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** y = cat(x_1, ..., x_k, dim);  dx_i = the slice of dy that x_i filled */
public final class Concat extends Node {
    private final int dim;
    private final int[] starts;

    private Concat(Tensor[] inputs, int dim, int[] starts) {
        super("cat", inputs);
        this.dim = dim;
        this.starts = starts;
    }

    public static Tensor cat(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("cat: expected a non-empty list of tensors");
        }
        Tensor first = tensors.get(0);
        int rank = first.dim();
        if (rank == 0) {
            throw new IllegalArgumentException("cat: zero-dimensional tensors cannot be concatenated; use stack");
        }
        int d = Shape.normalizeDim(dim, rank, "cat");
        int[] shape = first.shape();
        int total = 0;
        int[] starts = new int[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            int[] s = t.shape();
            if (t.dtype() != first.dtype()) {
                throw new IllegalArgumentException("cat: tensor " + i + " is " + t.dtype().torchName()
                        + " but tensor 0 is " + first.dtype().torchName());
            }
            if (s.length != rank) {
                throw new IllegalArgumentException("cat: tensor " + i + " has shape " + Shape.str(s)
                        + " but tensor 0 has shape " + Shape.str(shape) + "; all need the same number of dimensions");
            }
            for (int k = 0; k < rank; k++) {
                if (k != d && s[k] != shape[k]) {
                    throw new IllegalArgumentException("cat: sizes must match except in dimension " + d
                            + ", but tensor " + i + " has shape " + Shape.str(s) + " and tensor 0 has shape "
                            + Shape.str(shape) + " (they differ at dimension " + k + ")");
                }
            }
            starts[i] = total;
            total += s[d];
        }
        int[] outShape = shape.clone();
        outShape[d] = total;
        Tensor out = Tensor.empty(first.dtype(), outShape);
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            // the output has no history yet: copy into a plain view of it
            out.detach().slice(d, starts[i], starts[i] + t.size(d)).copyFrom(t.detach());
        }
        Tensor[] inputs = tensors.toArray(new Tensor[0]);
        boolean grad = first.dtype() == DType.FLOAT32 && needsGrad(inputs);
        return record("cat", out, grad ? new Concat(inputs, d, starts) : null);
    }

    public static Tensor stack(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("stack: expected a non-empty list of tensors");
        }
        int[] shape = tensors.get(0).shape();
        int d = Shape.normalizeDim(dim, shape.length + 1, "stack");
        List<Tensor> expanded = new ArrayList<>(tensors.size());
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (!java.util.Arrays.equals(t.shape(), shape)) {
                throw new IllegalArgumentException("stack: every tensor must have the same shape, but tensor " + i
                        + " has " + Shape.str(t.shape()) + " and tensor 0 has " + Shape.str(shape));
            }
            expanded.add(t.unsqueeze(d));
        }
        return cat(expanded, d);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor[] grads = new Tensor[numInputs()];
        for (int i = 0; i < grads.length; i++) {
            if (needsInputGrad(i)) {
                grads[i] = dy.slice(dim, starts[i], starts[i] + input(i).size(dim));
            }
        }
        return grads;
    }
}
