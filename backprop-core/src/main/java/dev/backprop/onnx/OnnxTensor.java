package dev.backprop.onnx;

import dev.backprop.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A tensor of an ONNX file ({@code TensorProto}: an initializer or a {@code Constant}'s value),
 * kept as a view of the file's bytes until {@link #toTensor()} converts it: reading a 90 MB model
 * from a memory-mapped file copies each weight once, into the backprop tensor that holds it.
 *
 * <p>Element types converted: FLOAT, DOUBLE, FLOAT16, BFLOAT16 (to float32), INT64, INT32, INT16,
 * INT8, UINT8, BOOL (to int64). Data held in {@code raw_data} (little-endian, as the format says) or
 * in the typed repeated fields ({@code float_data}, {@code int64_data}, ...) are both read. Data
 * stored outside the file ({@code data_location = EXTERNAL}) is refused with a clear error.
 *
 * @param name the tensor's name in the graph
 * @param dataType the ONNX element type ({@code TensorProto.DataType}: 1 = FLOAT, 7 = INT64, ...)
 * @param dims the dimensions
 * @param data the values: {@code raw_data} or a typed field's packed bytes, little-endian
 * @param packedVarints whether {@code data} holds varints (the typed int fields) rather than
 *     fixed-width little-endian values
 * @param source the file, for error messages
 */
public record OnnxTensor(String name, int dataType, long[] dims, ByteBuffer data, boolean packedVarints,
        String source) {
    /** ONNX element type FLOAT. */
    public static final int FLOAT = 1;
    /** ONNX element type UINT8. */
    public static final int UINT8 = 2;
    /** ONNX element type INT8. */
    public static final int INT8 = 3;
    /** ONNX element type INT16. */
    public static final int INT16 = 5;
    /** ONNX element type INT32. */
    public static final int INT32 = 6;
    /** ONNX element type INT64. */
    public static final int INT64 = 7;
    /** ONNX element type BOOL. */
    public static final int BOOL = 9;
    /** ONNX element type FLOAT16. */
    public static final int FLOAT16 = 10;
    /** ONNX element type DOUBLE. */
    public static final int DOUBLE = 11;
    /** ONNX element type BFLOAT16. */
    public static final int BFLOAT16 = 16;

    /** The shape as ints (checked to fit). */
    public int[] shape() {
        int[] s = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE - 8) {
                throw new OnnxFormatException(source + ": tensor \"" + name + "\": dimension " + i + " is " + dims[i]
                        + "; expected a size in [0, " + (Integer.MAX_VALUE - 8) + "]");
            }
            s[i] = (int) dims[i];
        }
        return s;
    }

    /** The number of elements (checked to fit an int). */
    public int numel() {
        long n = 1;
        for (long d : shape()) {
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new OnnxFormatException(source + ": tensor \"" + name + "\" of shape " + Arrays.toString(dims)
                        + " has more elements than a backprop tensor holds (" + (Integer.MAX_VALUE - 8) + ")");
            }
        }
        return (int) n;
    }

    /** The ONNX name of an element type ("FLOAT", "INT64", ...). */
    public static String typeName(int dataType) {
        return switch (dataType) {
            case FLOAT -> "FLOAT";
            case UINT8 -> "UINT8";
            case INT8 -> "INT8";
            case 4 -> "UINT16";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case 8 -> "STRING";
            case BOOL -> "BOOL";
            case FLOAT16 -> "FLOAT16";
            case DOUBLE -> "DOUBLE";
            case 12 -> "UINT32";
            case 13 -> "UINT64";
            case 14 -> "COMPLEX64";
            case 15 -> "COMPLEX128";
            case BFLOAT16 -> "BFLOAT16";
            default -> "type " + dataType;
        };
    }

    /** Whether the elements are floating point (converted to float32 by {@link #toTensor()}). */
    public boolean isFloatingPoint() {
        return dataType == FLOAT || dataType == DOUBLE || dataType == FLOAT16 || dataType == BFLOAT16;
    }

    /**
     * The values as a backprop tensor: float32 for floating-point types, int64 for integer and
     * boolean types.
     *
     * @throws OnnxFormatException if the element type is not supported or the byte count does not
     *     match the shape (naming the tensor)
     */
    public Tensor toTensor() {
        int n = numel();
        int[] shape = shape();
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (packedVarints) {
            long[] v = readVarints(b, n);
            if (dataType == FLOAT16 || dataType == BFLOAT16) {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = dataType == FLOAT16 ? Float.float16ToFloat((short) v[i])
                            : Float.intBitsToFloat((int) v[i] << 16);
                }
                return Tensor.of(f, shape);
            }
            if (dataType == FLOAT || dataType == DOUBLE) {
                throw new OnnxFormatException(source + ": tensor \"" + name + "\": floating-point values stored as "
                        + "varints; the file is corrupted");
            }
            return Tensor.ofLongs(v, shape);
        }
        switch (dataType) {
            case FLOAT -> {
                check(b, n, 4);
                float[] f = new float[n];
                b.asFloatBuffer().get(f);
                return Tensor.of(f, shape);
            }
            case DOUBLE -> {
                check(b, n, 8);
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = (float) b.getDouble(i * 8);
                }
                return Tensor.of(f, shape);
            }
            case FLOAT16, BFLOAT16 -> {
                check(b, n, 2);
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    short s = b.getShort(i * 2);
                    f[i] = dataType == FLOAT16 ? Float.float16ToFloat(s) : Float.intBitsToFloat((s & 0xffff) << 16);
                }
                return Tensor.of(f, shape);
            }
            case INT64 -> {
                check(b, n, 8);
                long[] l = new long[n];
                b.asLongBuffer().get(l);
                return Tensor.ofLongs(l, shape);
            }
            case INT32 -> {
                check(b, n, 4);
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = b.getInt(i * 4);
                }
                return Tensor.ofLongs(l, shape);
            }
            case INT16 -> {
                check(b, n, 2);
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = b.getShort(i * 2);
                }
                return Tensor.ofLongs(l, shape);
            }
            case INT8, UINT8, BOOL -> {
                check(b, n, 1);
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = dataType == INT8 ? b.get(i) : b.get(i) & 0xff;
                }
                return Tensor.ofLongs(l, shape);
            }
            default -> throw new OnnxFormatException(source + ": tensor \"" + name + "\" has element type "
                    + typeName(dataType) + ", which backprop does not import (supported: FLOAT, DOUBLE, FLOAT16, "
                    + "BFLOAT16, INT64, INT32, INT16, INT8, UINT8, BOOL)");
        }
    }

    /** The values as doubles (a scalar constant's value, an attribute tensor). */
    public double[] toDoubles() {
        Tensor t = toTensor();
        double[] d = new double[t.numel()];
        if (t.dtype() == dev.backprop.tensor.DType.INT64) {
            long[] l = t.toLongArray();
            for (int i = 0; i < d.length; i++) {
                d[i] = l[i];
            }
        } else {
            float[] f = t.toFloatArray();
            for (int i = 0; i < d.length; i++) {
                d[i] = f[i];
            }
        }
        return d;
    }

    private void check(ByteBuffer b, int n, int width) {
        if ((long) n * width != b.remaining()) {
            throw new OnnxFormatException(source + ": tensor \"" + name + "\" of shape " + Arrays.toString(dims) + " and "
                    + "type " + typeName(dataType) + " needs " + (long) n * width + " bytes of data, found "
                    + b.remaining() + " (the file is truncated or corrupted)");
        }
    }

    private long[] readVarints(ByteBuffer b, int n) {
        ProtoReader r = new ProtoReader(b, 0, source + ": tensor \"" + name + "\"");
        long[] v = new long[n];
        int i = 0;
        while (r.hasMore()) {
            if (i == n) {
                throw new OnnxFormatException(source + ": tensor \"" + name + "\" of shape " + Arrays.toString(dims)
                        + " holds more than its " + n + " values (the file is corrupted)");
            }
            v[i++] = r.readVarint();
        }
        if (i != n) {
            throw new OnnxFormatException(source + ": tensor \"" + name + "\" of shape " + Arrays.toString(dims)
                    + " holds " + i + " values, expected " + n + " (the file is truncated or corrupted)");
        }
        return v;
    }

    @Override
    public String toString() {
        return name + " " + typeName(dataType) + Arrays.toString(dims);
    }
}
