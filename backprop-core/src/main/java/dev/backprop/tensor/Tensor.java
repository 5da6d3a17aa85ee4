package dev.backprop.tensor;

import dev.backprop.autograd.Engine;
import dev.backprop.autograd.GradMode;
import dev.backprop.autograd.HookHandle;
import dev.backprop.autograd.Node;
import dev.backprop.ops.Binary;
import dev.backprop.ops.Compare;
import dev.backprop.ops.Concat;
import dev.backprop.ops.Gather;
import dev.backprop.ops.IndexSelect;
import dev.backprop.ops.MaskedFill;
import dev.backprop.ops.MatMul;
import dev.backprop.ops.Max;
import dev.backprop.ops.Movement;
import dev.backprop.ops.Reductions;
import dev.backprop.ops.Softmax;
import dev.backprop.ops.Sum;
import dev.backprop.ops.Unary;
import dev.backprop.ops.Where;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * An n-dimensional array on the Java heap that records the operations applied to it, so that
 * {@link #backward()} can compute gradients by reverse-mode automatic differentiation.
 *
 * <p>Layout: a flat Java array (the storage) read through {@code shape}, {@code strides} and an
 * {@code offset}, as in PyTorch. Views ({@link #reshape}, {@link #transpose}, {@link #permute},
 * {@link #slice}, {@link #expand}, ...) share the storage; {@link #contiguous()} copies only when the
 * layout is not already row-major. Kernels take the fast path on contiguous float storage through
 * {@link #floatStorage()} and {@link #offset()}. There is nothing to close: the garbage collector
 * owns the memory.
 *
 * <p>Names and semantics follow PyTorch ({@code torch.Tensor}), in Java's camelCase:
 * {@code logSoftmax}, {@code indexSelect}, {@code maskedFill}.
 *
 * <pre>{@code
 * Tensor w = Tensor.randn(new Generator(42), 3, 2).requiresGrad(true);
 * Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
 * Tensor loss = x.matmul(w).relu().sum();
 * loss.backward();
 * System.out.println(w.grad());
 * }</pre>
 */
public final class Tensor {
    private final DType dtype;
    private final Object storage; // float[] | long[] | boolean[] | byte[]
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    // autograd state
    private boolean requiresGrad; // leaves only; a tensor with a gradFn requires grad by construction
    private Tensor grad;
    private Node gradFn;
    private List<UnaryOperator<Tensor>> hooks; // leaves only; non-leaf hooks live on the gradFn
    private String name; // optional label used in error messages and diagnostics

    private Tensor(DType dtype, Object storage, int[] shape, int[] strides, int offset) {
        this.dtype = dtype;
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ------------------------------------------------------------------ creation

    /** A contiguous tensor wrapping {@code data} (not copied) with the given shape. */
    public static Tensor of(float[] data, int... shape) {
        return wrap(DType.FLOAT32, data, data.length, shape);
    }

    /** A 1-D float tensor holding the values. */
    public static Tensor vector(float... values) {
        return of(values.clone(), values.length);
    }

    /** A 2-D float tensor copied from a rectangular Java array. */
    public static Tensor of(float[][] rows) {
        int r = rows.length;
        int c = r == 0 ? 0 : rows[0].length;
        float[] data = new float[r * c];
        for (int i = 0; i < r; i++) {
            if (rows[i].length != c) {
                throw new IllegalArgumentException("ragged array: row 0 has " + c + " values, row " + i + " has "
                        + rows[i].length);
            }
            System.arraycopy(rows[i], 0, data, i * c, c);
        }
        return of(data, r, c);
    }

    /** A 0-dimensional float tensor. */
    public static Tensor scalar(float value) {
        return of(new float[] {value});
    }

    /** A contiguous int64 tensor wrapping {@code data} (not copied). */
    public static Tensor ofLongs(long[] data, int... shape) {
        return wrap(DType.INT64, data, data.length, shape);
    }

    /** A contiguous bool tensor wrapping {@code data} (not copied). */
    public static Tensor ofBools(boolean[] data, int... shape) {
        return wrap(DType.BOOL, data, data.length, shape);
    }

    /** A contiguous uint8 tensor wrapping {@code data} (not copied). */
    public static Tensor ofBytes(byte[] data, int... shape) {
        return wrap(DType.UINT8, data, data.length, shape);
    }

    private static Tensor wrap(DType dtype, Object data, int length, int[] shape) {
        int[] s = Shape.checked(shape);
        if (Shape.numel(s) != length) {
            throw new IllegalArgumentException("shape " + Shape.str(s) + " needs " + Shape.numel(s)
                    + " values, the array has " + length);
        }
        return new Tensor(dtype, data, s, Shape.contiguousStrides(s), 0);
    }

    /** A new contiguous tensor of the given type filled with zeros (false). */
    public static Tensor empty(DType dtype, int... shape) {
        int[] s = Shape.checked(shape);
        MemoryBudget.checkTensor(dtype, Shape.numel(s), s);
        return new Tensor(dtype, Strided.allocate(dtype, Shape.numel(s)), s, Shape.contiguousStrides(s), 0);
    }

    /** Float zeros. */
    public static Tensor zeros(int... shape) {
        return empty(DType.FLOAT32, shape);
    }

    /** Float ones. */
    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    /** A float tensor filled with {@code value}. */
    public static Tensor full(float value, int... shape) {
        Tensor t = zeros(shape);
        Arrays.fill(t.floatStorage(), value);
        return t;
    }

    /** Zeros with the shape of {@code like}. */
    public static Tensor zerosLike(Tensor like) {
        return zeros(like.shape);
    }

    /** Ones with the shape of {@code like}. */
    public static Tensor onesLike(Tensor like) {
        return ones(like.shape);
    }

    /** Float values {@code start, start+step, ...} below {@code end}, like {@code torch.arange} with floats. */
    public static Tensor arange(float start, float end, float step) {
        if (step == 0 || Float.isNaN(step)) {
            throw new IllegalArgumentException("arange: step must be nonzero, got " + step);
        }
        int n = (int) Math.max(0, Math.ceil((end - (double) start) / step));
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = (float) (start + (double) i * step);
        }
        return of(data, n);
    }

    /** Int64 values {@code 0 .. end-1}, like {@code torch.arange(end)}. */
    public static Tensor arange(int end) {
        return arange(0, end);
    }

    /** Int64 values {@code start .. end-1}. */
    public static Tensor arange(int start, int end) {
        int n = Math.max(0, end - start);
        long[] data = new long[n];
        for (int i = 0; i < n; i++) {
            data[i] = start + i;
        }
        return ofLongs(data, n);
    }

    /** Uniform in [0, 1) from {@code gen}. */
    public static Tensor rand(Generator gen, int... shape) {
        Tensor t = zeros(shape);
        float[] d = t.floatStorage();
        for (int i = 0; i < d.length; i++) {
            d[i] = gen.nextFloat();
        }
        return t;
    }

    /** Uniform in [0, 1) from the default generator. */
    public static Tensor rand(int... shape) {
        return rand(Generator.defaultGenerator(), shape);
    }

    /** Standard normal from {@code gen}. */
    public static Tensor randn(Generator gen, int... shape) {
        Tensor t = zeros(shape);
        float[] d = t.floatStorage();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) gen.nextGaussian();
        }
        return t;
    }

    /** Standard normal from the default generator. */
    public static Tensor randn(int... shape) {
        return randn(Generator.defaultGenerator(), shape);
    }

    /** Int64 uniform in [low, high) from {@code gen}. */
    public static Tensor randint(Generator gen, long low, long high, int... shape) {
        if (high <= low) {
            throw new IllegalArgumentException("randint: need low < high, got [" + low + ", " + high + ")");
        }
        Tensor t = empty(DType.INT64, shape);
        long[] d = t.longStorage();
        for (int i = 0; i < d.length; i++) {
            d[i] = low + gen.nextLong(high - low);
        }
        return t;
    }

    /**
     * A view of this tensor's storage with another shape, strides and offset (like
     * {@code torch.as_strided}). Not recorded by autograd: the differentiable views are
     * {@link #reshape}, {@link #permute}, {@link #slice}, {@link #expand} and friends.
     */
    public Tensor asStrided(int[] newShape, int[] newStrides, int newOffset) {
        if (newShape.length != newStrides.length) {
            throw new IllegalArgumentException("asStrided: shape " + Shape.str(newShape) + " and strides "
                    + Shape.str(newStrides) + " differ in rank");
        }
        long lo = newOffset;
        long hi = newOffset;
        for (int i = 0; i < newShape.length; i++) {
            if (newShape[i] < 0) {
                throw new IllegalArgumentException("asStrided: negative size in " + Shape.str(newShape));
            }
            if (newShape[i] == 0) {
                lo = hi = newOffset;
                break;
            }
            long span = (long) (newShape[i] - 1) * newStrides[i];
            if (span < 0) {
                lo += span;
            } else {
                hi += span;
            }
        }
        if (Shape.numel(newShape) > 0 && (lo < 0 || hi >= storageLength())) {
            throw new IndexOutOfBoundsException("asStrided: view " + Shape.str(newShape) + " with strides "
                    + Shape.str(newStrides) + " at offset " + newOffset + " reaches outside the storage of "
                    + storageLength() + " elements");
        }
        return new Tensor(dtype, storage, newShape.clone(), newStrides.clone(), newOffset);
    }

    // ------------------------------------------------------------------ layout

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of one dimension (negative counts from the end). */
    public int size(int dim) {
        return shape[Shape.normalizeDim(dim, shape.length, "size")];
    }

    /** A copy of the strides, in elements. */
    public int[] strides() {
        return strides.clone();
    }

    /** Offset of element [0, ..., 0] in the storage. */
    public int offset() {
        return offset;
    }

    /** Number of dimensions. */
    public int dim() {
        return shape.length;
    }

    /** Number of elements. */
    public int numel() {
        return Shape.numel(shape);
    }

    /** Whether the elements lie in row-major order without gaps (from {@link #offset()}). */
    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** Whether this tensor and {@code other} read the same storage array. */
    public boolean sharesStorageWith(Tensor other) {
        return storage == other.storage;
    }

    private int storageLength() {
        return switch (storage) {
            case float[] a -> a.length;
            case long[] a -> a.length;
            case boolean[] a -> a.length;
            case byte[] a -> a.length;
            default -> throw new IllegalStateException();
        };
    }

    /**
     * The raw float storage. Elements are read through {@link #offset()} and {@link #strides()};
     * when {@link #isContiguous()} they are {@code numel()} consecutive values from the offset.
     * Writing into it bypasses autograd: use it in kernels and optimizers only.
     */
    public float[] floatStorage() {
        requireType(DType.FLOAT32, "floatStorage");
        return (float[]) storage;
    }

    /** The raw int64 storage (see {@link #floatStorage()}). */
    public long[] longStorage() {
        requireType(DType.INT64, "longStorage");
        return (long[]) storage;
    }

    /** The raw bool storage (see {@link #floatStorage()}). */
    public boolean[] boolStorage() {
        requireType(DType.BOOL, "boolStorage");
        return (boolean[]) storage;
    }

    /** The raw uint8 storage (see {@link #floatStorage()}). */
    public byte[] byteStorage() {
        requireType(DType.UINT8, "byteStorage");
        return (byte[]) storage;
    }

    /** Fails with a clear message unless this tensor has the given type. */
    public Tensor requireType(DType expected, String op) {
        if (dtype != expected) {
            throw new IllegalArgumentException(op + ": expected a " + expected.torchName() + " tensor, got "
                    + dtype.torchName() + " of shape " + Shape.str(shape));
        }
        return this;
    }

    /** This tensor if contiguous, else a contiguous copy (differentiable). */
    public Tensor contiguous() {
        return isContiguous() ? this : Movement.contiguous(this);
    }

    /** A contiguous copy of the values with no autograd history. */
    public Tensor copy() {
        return new Tensor(dtype, Strided.toContiguous(dtype, storage, offset, strides, shape), shape.clone(),
                Shape.contiguousStrides(shape), 0);
    }

    /** Copies of the elements in row-major order. */
    public float[] toFloatArray() {
        requireType(DType.FLOAT32, "toFloatArray");
        return (float[]) Strided.toContiguous(dtype, storage, offset, strides, shape);
    }

    public long[] toLongArray() {
        requireType(DType.INT64, "toLongArray");
        return (long[]) Strided.toContiguous(dtype, storage, offset, strides, shape);
    }

    public boolean[] toBoolArray() {
        requireType(DType.BOOL, "toBoolArray");
        return (boolean[]) Strided.toContiguous(dtype, storage, offset, strides, shape);
    }

    public byte[] toByteArray() {
        requireType(DType.UINT8, "toByteArray");
        return (byte[]) Strided.toContiguous(dtype, storage, offset, strides, shape);
    }

    /** Storage index of the element at a multi-index, with bounds checks. */
    public int storageIndex(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates, the tensor has " + shape.length + " dimensions " + Shape.str(shape));
        }
        int p = offset;
        for (int i = 0; i < index.length; i++) {
            int k = index[i] < 0 ? index[i] + shape[i] : index[i];
            if (k < 0 || k >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + index[i] + " is out of bounds for dimension " + i
                        + " with size " + shape[i]);
            }
            p += k * strides[i];
        }
        return p;
    }

    /** The float element at a multi-index. */
    public float get(int... index) {
        return floatStorage()[storageIndex(index)];
    }

    /** The int64 element at a multi-index. */
    public long getLong(int... index) {
        return longStorage()[storageIndex(index)];
    }

    /** The value of a one-element tensor, as a float (int64/bool/uint8 converted). */
    public float item() {
        if (numel() != 1) {
            throw new IllegalStateException("item(): a tensor with " + numel() + " elements " + Shape.str(shape)
                    + " cannot be converted to a scalar; only one-element tensors can");
        }
        return switch (storage) {
            case float[] a -> a[offset];
            case long[] a -> a[offset];
            case boolean[] a -> a[offset] ? 1f : 0f;
            case byte[] a -> a[offset] & 0xFF;
            default -> throw new IllegalStateException();
        };
    }

    /** Element type conversion to float32 (a copy; not differentiable through integer types). */
    public Tensor toFloat() {
        if (dtype == DType.FLOAT32) {
            return this;
        }
        Tensor c = copy();
        float[] out = new float[c.numel()];
        switch (c.storage) {
            case long[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i]; }
            case boolean[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i] ? 1f : 0f; }
            case byte[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i] & 0xFF; }
            default -> throw new IllegalStateException();
        }
        return of(out, shape);
    }

    /** Element type conversion to int64 (floats truncate toward zero, as in PyTorch). */
    public Tensor toLong() {
        if (dtype == DType.INT64) {
            return this;
        }
        Tensor c = copy();
        long[] out = new long[c.numel()];
        switch (c.storage) {
            case float[] a -> { for (int i = 0; i < out.length; i++) out[i] = (long) a[i]; }
            case boolean[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i] ? 1 : 0; }
            case byte[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i] & 0xFF; }
            default -> throw new IllegalStateException();
        }
        return ofLongs(out, shape);
    }

    /** Element type conversion to uint8 (integers wrap modulo 256, floats truncate first, as in PyTorch). */
    public Tensor toUint8() {
        if (dtype == DType.UINT8) {
            return this;
        }
        Tensor c = copy();
        byte[] out = new byte[c.numel()];
        switch (c.storage) {
            case float[] a -> { for (int i = 0; i < out.length; i++) out[i] = (byte) (long) a[i]; }
            case long[] a -> { for (int i = 0; i < out.length; i++) out[i] = (byte) a[i]; }
            case boolean[] a -> { for (int i = 0; i < out.length; i++) out[i] = (byte) (a[i] ? 1 : 0); }
            default -> throw new IllegalStateException();
        }
        return ofBytes(out, shape);
    }

    /** This tensor converted to {@code target} (itself when it already has that type). */
    public Tensor to(DType target) {
        return switch (target) {
            case FLOAT32 -> toFloat();
            case INT64 -> toLong();
            case BOOL -> toBool();
            case UINT8 -> toUint8();
        };
    }

    /** Element type conversion to bool (nonzero is true). */
    public Tensor toBool() {
        if (dtype == DType.BOOL) {
            return this;
        }
        Tensor c = copy();
        boolean[] out = new boolean[c.numel()];
        switch (c.storage) {
            case float[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i] != 0; }
            case long[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i] != 0; }
            case byte[] a -> { for (int i = 0; i < out.length; i++) out[i] = a[i] != 0; }
            default -> throw new IllegalStateException();
        }
        return ofBools(out, shape);
    }

    // ------------------------------------------------------------------ autograd

    /** Whether gradients are computed for this tensor: a leaf that asked for it, or any op result depending on one. */
    public boolean requiresGrad() {
        return requiresGrad || gradFn != null;
    }

    /** Marks a leaf tensor as needing a gradient (like {@code requires_grad_()}); returns this. */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null) {
            throw new IllegalStateException("requiresGrad can only be changed on leaf tensors; this tensor is the "
                    + "result of '" + gradFn.name() + "'. Use detach() to get a leaf.");
        }
        if (value && dtype != DType.FLOAT32) {
            throw new IllegalArgumentException("only float32 tensors can require gradients, this one is "
                    + dtype.torchName());
        }
        this.requiresGrad = value;
        return this;
    }

    /** True for tensors created by the user (not by a recorded op). */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** The recorded op that produced this tensor, or null for leaves and results computed without grad. */
    public Node gradFn() {
        return gradFn;
    }

    /**
     * Attaches the node that produced this tensor. Called by ops when they record; a tensor gets
     * its gradFn once, right after it is created.
     */
    public void setGradFn(Node node) {
        if (this.gradFn != null) {
            throw new IllegalStateException("tensor already has a gradFn");
        }
        this.gradFn = Objects.requireNonNull(node);
    }

    /** The accumulated gradient of a leaf, or null before any backward pass reached it. */
    public Tensor grad() {
        return grad;
    }

    /** Replaces the accumulated gradient (null clears it). */
    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape, shape)) {
            throw new IllegalArgumentException("gradient shape " + Shape.str(g.shape) + " does not match tensor shape "
                    + Shape.str(shape));
        }
        this.grad = g;
    }

    /** Clears the gradient, as {@code optimizer.zero_grad(set_to_none=True)} does. */
    public void zeroGrad() {
        this.grad = null;
    }

    /** A new leaf sharing this tensor's values, cut from the graph (like {@code detach()}). */
    public Tensor detach() {
        return new Tensor(dtype, storage, shape, strides, offset);
    }

    /** Backpropagates from this scalar: fills {@code grad()} of every leaf that requires grad. */
    public void backward() {
        Engine.backward(this, null, false);
    }

    /** Backpropagates with an explicit upstream gradient of this tensor's shape. */
    public void backward(Tensor gradient) {
        Engine.backward(this, gradient, false);
    }

    /**
     * Backpropagates; with {@code retainGraph} the graph's saved values are kept so that backward
     * can run through it again.
     */
    public void backward(Tensor gradient, boolean retainGraph) {
        Engine.backward(this, gradient, retainGraph);
    }

    /**
     * Registers a hook called with this tensor's gradient during backward; it may return a
     * replacement gradient or null to keep it. Removing the returned handle unregisters it.
     */
    public HookHandle registerHook(UnaryOperator<Tensor> hook) {
        if (!requiresGrad()) {
            throw new IllegalStateException("cannot register a hook on a tensor that does not require grad");
        }
        if (gradFn != null) {
            return gradFn.addOutputHook(hook);
        }
        if (hooks == null) {
            hooks = new ArrayList<>(2);
        }
        hooks.add(hook);
        return () -> hooks.remove(hook);
    }

    /** Hooks registered on this leaf (engine use). */
    public List<UnaryOperator<Tensor>> leafHooks() {
        return hooks == null ? List.of() : hooks;
    }

    /** Keeps the gradient of this non-leaf tensor in {@link #grad()} after backward (like {@code retain_grad()}). */
    public Tensor retainGrad() {
        if (gradFn == null) {
            return this;
        }
        gradFn.addOutputHook(g -> {
            grad = grad == null ? g.copy() : grad.addInPlace(g);
            return null;
        });
        return this;
    }

    /** An optional label for messages and diagnostics. */
    public String name() {
        return name;
    }

    public Tensor name(String label) {
        this.name = label;
        return this;
    }

    // ------------------------------------------------------------------ in-place (not recorded)

    /**
     * {@code this += other} in place, without recording; used for gradient accumulation and
     * optimizer updates. Refused on a tensor that takes part in autograd while grad mode is on.
     */
    public Tensor addInPlace(Tensor other) {
        checkInPlace("addInPlace");
        Tensor src = other.dtype == DType.FLOAT32 ? other : other.toFloat();
        if (!Shape.broadcastsTo(src.shape, shape)) {
            throw new IllegalArgumentException("addInPlace: shape " + Shape.str(src.shape) + " cannot be broadcast to "
                    + Shape.str(shape));
        }
        float[] a = floatStorage();
        if (isContiguous() && src.isContiguous() && Arrays.equals(src.shape, shape)) {
            float[] b = src.floatStorage();
            int n = numel();
            for (int i = 0; i < n; i++) {
                a[offset + i] += b[src.offset + i];
            }
            return this;
        }
        float[] b = src.expandTo(shape).toFloatArray();
        int[] idx = new int[shape.length];
        for (int i = 0; i < b.length; i++) {
            a[storageIndexUnchecked(idx)] += b[i];
            increment(idx);
        }
        return this;
    }

    /** Copies values from {@code src} (broadcast to this shape) in place, without recording. */
    public Tensor copyFrom(Tensor src) {
        checkInPlace("copyFrom");
        if (src.dtype != dtype) {
            throw new IllegalArgumentException("copyFrom: expected a " + dtype.torchName() + " source, got "
                    + src.dtype.torchName());
        }
        if (!Shape.broadcastsTo(src.shape, shape)) {
            throw new IllegalArgumentException("copyFrom: shape " + Shape.str(src.shape) + " cannot be broadcast to "
                    + Shape.str(shape));
        }
        int[] bs = Shape.broadcastStrides(src.shape, src.strides, shape);
        Object tmp = Strided.toContiguous(dtype, src.storage, src.offset, bs, shape);
        Strided.copy(tmp, 0, Shape.contiguousStrides(shape), storage, offset, strides, shape);
        return this;
    }

    /** Fills with a value in place, without recording. */
    public Tensor fill(float value) {
        checkInPlace("fill");
        return copyFrom(full(value, new int[0]));
    }

    /** Multiplies by a scalar in place, without recording. */
    public Tensor mulInPlace(float value) {
        checkInPlace("mulInPlace");
        float[] a = floatStorage();
        int[] idx = new int[shape.length];
        int n = numel();
        for (int i = 0; i < n; i++) {
            a[storageIndexUnchecked(idx)] *= value;
            increment(idx);
        }
        return this;
    }

    private void checkInPlace(String op) {
        if (GradMode.isEnabled() && requiresGrad()) {
            throw new IllegalStateException(op + ": a tensor that requires grad cannot be modified in place while "
                    + "gradients are recorded; wrap the update in GradMode.noGrad() or work on detach()");
        }
    }

    private int storageIndexUnchecked(int[] idx) {
        int p = offset;
        for (int i = 0; i < idx.length; i++) {
            p += idx[i] * strides[i];
        }
        return p;
    }

    private void increment(int[] idx) {
        for (int k = idx.length - 1; k >= 0; k--) {
            if (++idx[k] < shape[k]) {
                return;
            }
            idx[k] = 0;
        }
    }

    private Tensor expandTo(int[] target) {
        if (Arrays.equals(shape, target)) {
            return this;
        }
        return new Tensor(dtype, storage, target.clone(), Shape.broadcastStrides(shape, strides, target), offset);
    }

    // ------------------------------------------------------------------ elementwise arithmetic

    /** {@code this + other} with broadcasting. */
    public Tensor add(Tensor other) {
        return Binary.apply(Binary.Kind.ADD, this, other);
    }

    /** {@code this + value}. */
    public Tensor add(float value) {
        return Unary.affine(this, 1f, value);
    }

    /** {@code this - other} with broadcasting. */
    public Tensor sub(Tensor other) {
        return Binary.apply(Binary.Kind.SUB, this, other);
    }

    /** {@code this - value}. */
    public Tensor sub(float value) {
        return Unary.affine(this, 1f, -value);
    }

    /** {@code value - this}. */
    public Tensor rsub(float value) {
        return Unary.affine(this, -1f, value);
    }

    /** {@code this * other} with broadcasting. */
    public Tensor mul(Tensor other) {
        return Binary.apply(Binary.Kind.MUL, this, other);
    }

    /** {@code this * value}. */
    public Tensor mul(float value) {
        return Unary.affine(this, value, 0f);
    }

    /** {@code this / other} with broadcasting. */
    public Tensor div(Tensor other) {
        return Binary.apply(Binary.Kind.DIV, this, other);
    }

    /** {@code this / value}. */
    public Tensor div(float value) {
        return Unary.apply(Unary.Fn.DIV_SCALAR, this, value, 0f);
    }

    /** {@code this ** other} with broadcasting. */
    public Tensor pow(Tensor exponent) {
        return Binary.apply(Binary.Kind.POW, this, exponent);
    }

    /** {@code this ** exponent}. */
    public Tensor pow(float exponent) {
        return Unary.apply(Unary.Fn.POW, this, exponent, 0f);
    }

    /** Elementwise maximum with broadcasting (gradient split evenly on ties, as in PyTorch). */
    public Tensor maximum(Tensor other) {
        return Binary.apply(Binary.Kind.MAXIMUM, this, other);
    }

    /** Elementwise minimum with broadcasting. */
    public Tensor minimum(Tensor other) {
        return Binary.apply(Binary.Kind.MINIMUM, this, other);
    }

    public Tensor neg() {
        return Unary.apply(Unary.Fn.NEG, this, 0f, 0f);
    }

    public Tensor exp() {
        return Unary.apply(Unary.Fn.EXP, this, 0f, 0f);
    }

    public Tensor log() {
        return Unary.apply(Unary.Fn.LOG, this, 0f, 0f);
    }

    public Tensor sqrt() {
        return Unary.apply(Unary.Fn.SQRT, this, 0f, 0f);
    }

    public Tensor abs() {
        return Unary.apply(Unary.Fn.ABS, this, 0f, 0f);
    }

    public Tensor sin() {
        return Unary.apply(Unary.Fn.SIN, this, 0f, 0f);
    }

    public Tensor cos() {
        return Unary.apply(Unary.Fn.COS, this, 0f, 0f);
    }

    public Tensor tanh() {
        return Unary.apply(Unary.Fn.TANH, this, 0f, 0f);
    }

    public Tensor sigmoid() {
        return Unary.apply(Unary.Fn.SIGMOID, this, 0f, 0f);
    }

    public Tensor relu() {
        return Unary.apply(Unary.Fn.RELU, this, 0f, 0f);
    }

    /** Leaky ReLU: {@code x} for x > 0, {@code negativeSlope * x} otherwise (PyTorch default slope 0.01). */
    public Tensor leakyRelu(float negativeSlope) {
        return Unary.apply(Unary.Fn.LEAKY_RELU, this, negativeSlope, 0f);
    }

    /** ELU with the given alpha (PyTorch default 1.0). */
    public Tensor elu(float alpha) {
        return Unary.apply(Unary.Fn.ELU, this, alpha, 0f);
    }

    /** Exact GELU: {@code x * Phi(x)}. */
    public Tensor gelu() {
        return Unary.apply(Unary.Fn.GELU, this, 0f, 0f);
    }

    /** GELU with the tanh approximation ({@code approximate='tanh'}). */
    public Tensor geluTanh() {
        return Unary.apply(Unary.Fn.GELU_TANH, this, 0f, 0f);
    }

    /** SiLU (swish): {@code x * sigmoid(x)}. */
    public Tensor silu() {
        return Unary.apply(Unary.Fn.SILU, this, 0f, 0f);
    }

    /** Softplus with PyTorch's defaults (beta 1, threshold 20). */
    public Tensor softplus() {
        return softplus(1f, 20f);
    }

    /** {@code log(1 + exp(beta x)) / beta}, linear above {@code threshold}. */
    public Tensor softplus(float beta, float threshold) {
        return Unary.apply(Unary.Fn.SOFTPLUS, this, beta, threshold);
    }

    /** Clamps into [min, max]; gradient 1 inside, 0 outside. */
    public Tensor clamp(float min, float max) {
        return Unary.apply(Unary.Fn.CLAMP, this, min, max);
    }

    public Tensor clampMin(float min) {
        return clamp(min, Float.POSITIVE_INFINITY);
    }

    public Tensor clampMax(float max) {
        return clamp(Float.NEGATIVE_INFINITY, max);
    }

    // ------------------------------------------------------------------ comparisons (not differentiable)

    public Tensor eq(Tensor other) {
        return Compare.apply(Compare.Kind.EQ, this, other);
    }

    public Tensor gt(Tensor other) {
        return Compare.apply(Compare.Kind.GT, this, other);
    }

    public Tensor lt(Tensor other) {
        return Compare.apply(Compare.Kind.LT, this, other);
    }

    public Tensor gt(float value) {
        return Compare.apply(Compare.Kind.GT, this, scalar(value));
    }

    public Tensor lt(float value) {
        return Compare.apply(Compare.Kind.LT, this, scalar(value));
    }

    /** Bool mask of the NaN elements. */
    public Tensor isNan() {
        return floatPredicate(f -> Float.isNaN(f));
    }

    /** Bool mask of the infinite elements. */
    public Tensor isInfinite() {
        return floatPredicate(f -> Float.isInfinite(f));
    }

    /** Bool mask of the finite elements. */
    public Tensor isFinite() {
        return floatPredicate(f -> Float.isFinite(f));
    }

    private Tensor floatPredicate(FloatPredicate test) {
        float[] v = toFloatArray();
        boolean[] out = new boolean[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = test.test(v[i]);
        }
        return ofBools(out, shape);
    }

    @FunctionalInterface
    private interface FloatPredicate {
        boolean test(float value);
    }

    public Tensor ge(Tensor other) {
        return Compare.apply(Compare.Kind.GE, this, other);
    }

    public Tensor le(Tensor other) {
        return Compare.apply(Compare.Kind.LE, this, other);
    }

    public Tensor ne(Tensor other) {
        return Compare.apply(Compare.Kind.NE, this, other);
    }

    /** Whether every element is finite (no NaN, no infinity). */
    public boolean isAllFinite() {
        float[] v = toFloatArray();
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ reductions

    /** Sum of all elements (a 0-d tensor). */
    public Tensor sum() {
        return Sum.apply(this, allDims(), false);
    }

    public Tensor sum(int dim, boolean keepdim) {
        return Sum.apply(this, new int[] {dim}, keepdim);
    }

    public Tensor sum(int[] dims, boolean keepdim) {
        return Sum.apply(this, dims, keepdim);
    }

    /** Mean of all elements. */
    public Tensor mean() {
        return Reductions.mean(this, allDims(), false);
    }

    public Tensor mean(int dim, boolean keepdim) {
        return Reductions.mean(this, new int[] {dim}, keepdim);
    }

    public Tensor mean(int[] dims, boolean keepdim) {
        return Reductions.mean(this, dims, keepdim);
    }

    /** Variance over dimensions; {@code unbiased} divides by n - 1 (PyTorch's default) instead of n. */
    public Tensor var(int dim, boolean unbiased, boolean keepdim) {
        return Reductions.var(this, new int[] {dim}, unbiased, keepdim);
    }

    public Tensor var(int[] dims, boolean unbiased, boolean keepdim) {
        return Reductions.var(this, dims, unbiased, keepdim);
    }

    /** {@code log(sum(exp(x)))} over a dimension, computed without overflow. */
    public Tensor logsumexp(int dim, boolean keepdim) {
        return Reductions.logsumexp(this, new int[] {dim}, keepdim);
    }

    /** Maximum of all elements (gradient split evenly among ties, as PyTorch does). */
    public Tensor max() {
        return Max.all(this);
    }

    /** Maximum over a dimension: the values (see {@link #maxWithIndices} for the indices too). */
    public Tensor max(int dim, boolean keepdim) {
        return Max.apply(this, dim, keepdim).values();
    }

    /** Maximum over a dimension with the int64 index of each maximum (the first one on ties). */
    public Max.Result maxWithIndices(int dim, boolean keepdim) {
        return Max.apply(this, dim, keepdim);
    }

    /** Index of the maximum along a dimension (int64). */
    public Tensor argmax(int dim, boolean keepdim) {
        return Max.apply(this, dim, keepdim).indices();
    }

    public Tensor softmax(int dim) {
        return Softmax.softmax(this, dim);
    }

    public Tensor logSoftmax(int dim) {
        return Softmax.logSoftmax(this, dim);
    }

    private int[] allDims() {
        int[] d = new int[shape.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = i;
        }
        return d;
    }

    // ------------------------------------------------------------------ linear algebra

    /** Matrix product with {@code torch.matmul}'s rules: 1-D, 2-D, batched with broadcast batch dims. */
    public Tensor matmul(Tensor other) {
        return MatMul.apply(this, other);
    }

    // ------------------------------------------------------------------ views and indexing

    /** Same data, new shape (one dimension may be -1); a view when possible, else a copy. */
    public Tensor reshape(int... newShape) {
        return Movement.reshape(this, newShape);
    }

    /** Same as {@link #reshape} but fails instead of copying when the layout does not allow a view. */
    public Tensor view(int... newShape) {
        return Movement.view(this, newShape);
    }

    /** Flattens dimensions {@code startDim..endDim} into one. */
    public Tensor flatten(int startDim, int endDim) {
        return Movement.flatten(this, startDim, endDim);
    }

    /** Flattens to 1-D. */
    public Tensor flatten() {
        return reshape(-1);
    }

    public Tensor transpose(int dim0, int dim1) {
        return Movement.transpose(this, dim0, dim1);
    }

    /** Transpose of a 2-D tensor. */
    public Tensor t() {
        if (shape.length != 2) {
            throw new IllegalArgumentException("t(): expected a 2-D tensor, got shape " + Shape.str(shape)
                    + "; use transpose(dim0, dim1) or permute");
        }
        return transpose(0, 1);
    }

    public Tensor permute(int... dims) {
        return Movement.permute(this, dims);
    }

    /** Elements {@code start, start+step, ...} below {@code end} along {@code dim} (a view). */
    public Tensor slice(int dim, int start, int end, int step) {
        return Movement.slice(this, dim, start, end, step);
    }

    public Tensor slice(int dim, int start, int end) {
        return slice(dim, start, end, 1);
    }

    /** The sub-tensor at {@code index} along {@code dim}, with that dimension removed. */
    public Tensor select(int dim, int index) {
        int d = Shape.normalizeDim(dim, shape.length, "select");
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) {
            throw new IndexOutOfBoundsException("select: index " + index + " is out of range for dimension " + d
                    + " with size " + shape[d]);
        }
        return slice(d, i, i + 1, 1).squeeze(d);
    }

    /** Broadcasts to a larger shape without copying (-1 keeps a size). */
    public Tensor expand(int... newShape) {
        return Movement.expand(this, newShape);
    }

    /** Removes every dimension of size 1. */
    public Tensor squeeze() {
        int[] s = Arrays.stream(shape).filter(d -> d != 1).toArray();
        return reshape(s);
    }

    /** Removes {@code dim} if its size is 1 (otherwise returns this unchanged, as in PyTorch). */
    public Tensor squeeze(int dim) {
        int d = Shape.normalizeDim(dim, shape.length, "squeeze");
        if (shape[d] != 1) {
            return this;
        }
        int[] s = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) {
                s[j++] = shape[i];
            }
        }
        return reshape(s);
    }

    /** Inserts a dimension of size 1 at {@code dim}. */
    public Tensor unsqueeze(int dim) {
        int d = Shape.normalizeDim(dim, shape.length + 1, "unsqueeze");
        int[] s = new int[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            s[i] = i == d ? 1 : shape[j++];
        }
        return reshape(s);
    }

    /** Concatenates along an existing dimension. */
    public static Tensor cat(List<Tensor> tensors, int dim) {
        return Concat.cat(tensors, dim);
    }

    /** Stacks along a new dimension. */
    public static Tensor stack(List<Tensor> tensors, int dim) {
        return Concat.stack(tensors, dim);
    }

    /** {@code out[i][j] = this[i][index[i][j]]} for dim 1, and likewise for other dims. */
    public Tensor gather(int dim, Tensor index) {
        return Gather.apply(this, dim, index);
    }

    /** The entries at the int64 {@code index} positions along {@code dim}. */
    public Tensor indexSelect(int dim, Tensor index) {
        return IndexSelect.apply(this, dim, index);
    }

    /** {@code condition ? a : b} elementwise, with broadcasting; condition is bool or uint8. */
    public static Tensor where(Tensor condition, Tensor a, Tensor b) {
        return Where.apply(condition, a, b);
    }

    /** A copy with {@code value} where {@code mask} is true (mask broadcast to this shape). */
    public Tensor maskedFill(Tensor mask, float value) {
        return MaskedFill.apply(this, mask, value);
    }

    // ------------------------------------------------------------------ comparison and printing

    /**
     * Whether shapes are equal and every element satisfies {@code |a - b| <= atol + rtol * |b|}
     * (NaN equal to NaN), like {@code torch.allclose(equal_nan=True)}.
     */
    public boolean allClose(Tensor other, double rtol, double atol) {
        if (!Arrays.equals(shape, other.shape)) {
            return false;
        }
        float[] a = toFloat().toFloatArray();
        float[] b = other.toFloat().toFloatArray();
        for (int i = 0; i < a.length; i++) {
            if (Float.isNaN(a[i]) || Float.isNaN(b[i])) {
                if (Float.isNaN(a[i]) != Float.isNaN(b[i])) {
                    return false;
                }
                continue;
            }
            if (a[i] == b[i]) {
                continue; // covers equal infinities
            }
            if (!(Math.abs((double) a[i] - b[i]) <= atol + rtol * Math.abs((double) b[i]))) {
                return false;
            }
        }
        return true;
    }

    /** Prints like PyTorch: {@code tensor([[1.0000, 2.0000], ...], shape=[2, 2], grad_fn=<Mul>)}. */
    @Override
    public String toString() {
        return TensorFormat.format(this);
    }
}
