package dev.backprop.tensor;

import java.util.Locale;

/**
 * PyTorch-style printing: nested brackets, 4 decimals (scientific when the magnitudes call for
 * it), at most 3 leading and 3 trailing entries per dimension once the tensor has more than
 * 1000 elements, then the shape and the autograd status.
 */
final class TensorFormat {
    private static final int THRESHOLD = 1000;
    private static final int EDGE = 3;

    private TensorFormat() {}

    static String format(Tensor t) {
        int[] shape = t.shape();
        boolean summarize = t.numel() > THRESHOLD;
        Tensor c = t.copy();
        String[] cells = cells(c);
        int width = 0;
        for (String s : cells) {
            width = Math.max(width, s.length());
        }
        StringBuilder sb = new StringBuilder("tensor(");
        if (shape.length == 0) {
            sb.append(cells[0]);
        } else {
            append(sb, cells, shape, 0, 0, width, summarize, 7);
        }
        sb.append(", shape=").append(Shape.str(shape));
        if (t.dtype() != DType.FLOAT32) {
            sb.append(", dtype=").append(t.dtype().torchName());
        }
        if (t.gradFn() != null) {
            sb.append(", grad_fn=<").append(t.gradFn().name()).append(">");
        } else if (t.requiresGrad()) {
            sb.append(", requires_grad=true");
        }
        return sb.append(')').toString();
    }

    private static void append(StringBuilder sb, String[] cells, int[] shape, int dim, int base, int width,
            boolean summarize, int indent) {
        int n = shape[dim];
        int stride = 1;
        for (int i = dim + 1; i < shape.length; i++) {
            stride *= shape[i];
        }
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (summarize && n > 2 * EDGE && i == EDGE) {
                sb.append(dim == shape.length - 1 ? "..., " : "...,\n" + " ".repeat(indent + dim + 1));
                i = n - EDGE - 1;
                continue;
            }
            if (dim == shape.length - 1) {
                String s = cells[base + i];
                sb.append(" ".repeat(width - s.length())).append(s);
            } else {
                append(sb, cells, shape, dim + 1, base + i * stride, width, summarize, indent);
            }
            if (i < n - 1) {
                sb.append(',');
                if (dim == shape.length - 1) {
                    sb.append(' ');
                } else {
                    sb.append("\n".repeat(shape.length - 1 - dim)).append(" ".repeat(indent + dim + 1));
                }
            }
        }
        sb.append(']');
    }

    private static String[] cells(Tensor c) {
        int n = c.numel();
        String[] out = new String[n];
        switch (c.dtype()) {
            case FLOAT32 -> {
                float[] v = c.floatStorage();
                double maxAbs = 0;
                double minAbs = Double.MAX_VALUE;
                boolean allInt = true;
                for (float f : v) {
                    if (Float.isFinite(f)) {
                        maxAbs = Math.max(maxAbs, Math.abs(f));
                        if (f != 0) {
                            minAbs = Math.min(minAbs, Math.abs(f));
                        }
                        allInt &= f == Math.rint(f);
                    }
                }
                boolean sci = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs != Double.MAX_VALUE)
                        || (minAbs != Double.MAX_VALUE && maxAbs / minAbs > 1000 && !allInt);
                for (int i = 0; i < n; i++) {
                    float f = v[i];
                    if (Float.isNaN(f)) {
                        out[i] = "nan";
                    } else if (Float.isInfinite(f)) {
                        out[i] = f > 0 ? "inf" : "-inf";
                    } else if (sci) {
                        out[i] = String.format(Locale.ROOT, "%.4e", f);
                    } else if (allInt) {
                        out[i] = String.format(Locale.ROOT, "%.0f.", f);
                    } else {
                        out[i] = String.format(Locale.ROOT, "%.4f", f);
                    }
                }
            }
            case INT64 -> {
                long[] v = c.longStorage();
                for (int i = 0; i < n; i++) out[i] = Long.toString(v[i]);
            }
            case BOOL -> {
                boolean[] v = c.boolStorage();
                for (int i = 0; i < n; i++) out[i] = v[i] ? "True" : "False";
            }
            case UINT8 -> {
                byte[] v = c.byteStorage();
                for (int i = 0; i < n; i++) out[i] = Integer.toString(v[i] & 0xFF);
            }
        }
        return out;
    }
}
