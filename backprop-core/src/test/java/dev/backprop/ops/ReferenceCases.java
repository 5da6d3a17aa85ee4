package dev.backprop.ops;

import dev.backprop.io.Json;
import dev.backprop.io.SafeTensors;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch reference cases copied from ../shared/reference into the test resources: one
 * safetensors file per case, described by INDEX.json (inputs {@code in.*}, parameters
 * {@code param.*}, output {@code out}, upstream gradient {@code grad_out}, expected gradients
 * {@code grad.in.*} / {@code grad.param.*}).
 */
public final class ReferenceCases {
    private ReferenceCases() {}

    /** One case of INDEX.json with its tensors. */
    public record Case(String name, String op, Map<String, Object> args, Map<String, Tensor> tensors) {
        public Tensor get(String key) {
            Tensor t = tensors.get(key);
            if (t == null) {
                throw new IllegalArgumentException("case " + name + " has no tensor '" + key + "'; it has "
                        + tensors.keySet());
            }
            return t;
        }

        public double number(String arg) {
            return ((Number) args.get(arg)).doubleValue();
        }

        public boolean has(String arg) {
            return args.containsKey(arg) && args.get(arg) != null;
        }
    }

    /** Every case listed in /reference/INDEX.json (the shared PyTorch cases), with its tensors loaded. */
    public static List<Case> all() {
        return fromIndex("/reference");
    }

    /**
     * Every case listed in {@code folder}/INDEX.json (a test resource folder such as
     * {@code /reference-extra}), each read from {@code folder}/CASE.safetensors.
     */
    @SuppressWarnings("unchecked")
    public static List<Case> fromIndex(String folder) {
        try (InputStream in = ReferenceCases.class.getResourceAsStream(folder + "/INDEX.json")) {
            if (in == null) {
                throw new IllegalStateException("test resource " + folder + "/INDEX.json is missing");
            }
            Map<String, Object> index = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            List<Case> cases = new ArrayList<>();
            for (Object o : (List<Object>) index.get("cases")) {
                Map<String, Object> c = (Map<String, Object>) o;
                String name = (String) c.get("case");
                Path file = Path.of(ReferenceCases.class.getResource(folder + "/" + name + ".safetensors").toURI());
                // the files store 0-d tensors as shape [1]; INDEX.json has the true shapes
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                Map<String, Object> shapes = (Map<String, Object>) c.get("tensors");
                SafeTensors.read(file).tensors().forEach((k, t) -> {
                    List<Object> shape = shapes == null ? null : (List<Object>) shapes.get(k);
                    tensors.put(k, shape == null ? t
                            : t.reshape(shape.stream().mapToInt(v -> ((Number) v).intValue()).toArray()));
                });
                cases.add(new Case(name, (String) c.get("op"), (Map<String, Object>) c.get("args"), tensors));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** PyTorch's reference tolerance: |a - b| <= 1e-5 + 1e-4 |b| for every element. */
    public static void assertClose(String what, Tensor actual, Tensor expected) {
        org.junit.jupiter.api.Assertions.assertNotNull(actual, what + ": missing (no gradient reached it?)");
        org.junit.jupiter.api.Assertions.assertEquals(dev.backprop.tensor.Shape.str(expected.shape()),
                dev.backprop.tensor.Shape.str(actual.shape()), what + ": shape");
        assertClose(what, actual.toFloatArray(), expected.toFloatArray());
    }

    /** {@link #assertClose(String, Tensor, Tensor)} on flat values. */
    public static void assertClose(String what, float[] a, float[] b) {
        org.junit.jupiter.api.Assertions.assertEquals(b.length, a.length, what + ": length");
        for (int i = 0; i < a.length; i++) {
            double err = Math.abs((double) a[i] - b[i]);
            if (!(err <= 1e-5 + 1e-4 * Math.abs(b[i]))) {
                org.junit.jupiter.api.Assertions.fail(what + " differs at flat index " + i + ": got " + a[i]
                        + ", PyTorch " + b[i] + " (|err| " + err + ")\n  got:      " + java.util.Arrays.toString(a)
                        + "\n  expected: " + java.util.Arrays.toString(b));
            }
        }
    }
}
