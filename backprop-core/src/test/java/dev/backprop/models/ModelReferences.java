package dev.backprop.models;

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
 * The PyTorch reference files of test resource folder reference-models, written by
 * src/test/python/models_reference.py from models.py (the benchmark's PyTorch reference).
 */
final class ModelReferences {
    private ModelReferences() {}

    /** One case: the model's constructor arguments and its tensors (param.*, in.*, out.*, grad.param.*). */
    record Case(String name, String model, Map<String, Object> args, List<String> stateDictKeys,
            Map<String, Tensor> tensors) {
        Tensor get(String key) {
            Tensor t = tensors.get(key);
            if (t == null) {
                throw new IllegalArgumentException("case " + name + " has no tensor '" + key + "'");
            }
            return t;
        }

        int arg(String key) {
            return ((Number) args.get(key)).intValue();
        }

        /** The state dict: every param.KEY as KEY. */
        Map<String, Tensor> stateDict() {
            Map<String, Tensor> out = new LinkedHashMap<>();
            tensors.forEach((k, v) -> {
                if (k.startsWith("param.")) {
                    out.put(k.substring("param.".length()), v);
                }
            });
            return out;
        }
    }

    /** What INDEX.json says about a full workload model (w1 ... w4) built by models.py. */
    record Workload(long parameters, List<String> stateDictKeys, List<String> parameterKeys, List<String> buffers) {}

    @SuppressWarnings("unchecked")
    static Map<String, Object> index() {
        try (InputStream in = ModelReferences.class.getResourceAsStream("/reference-models/INDEX.json")) {
            if (in == null) {
                throw new IllegalStateException("test resource /reference-models/INDEX.json is missing");
            }
            return Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (Object o : (List<Object>) index().get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            String name = (String) c.get("case");
            try {
                Path file = Path.of(ModelReferences.class.getResource("/reference-models/" + name + ".safetensors")
                        .toURI());
                out.add(new Case(name, (String) c.get("model"), (Map<String, Object>) c.get("args"),
                        strings(c.get("state_dict_keys")), SafeTensors.read(file).tensors()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Workload workload(String id) {
        Map<String, Object> w = (Map<String, Object>) ((Map<String, Object>) index().get("workloads")).get(id);
        return new Workload(((Number) w.get("parameters")).longValue(), strings(w.get("state_dict_keys")),
                strings(w.get("parameter_keys")), strings(w.get("buffers")));
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object list) {
        return ((List<Object>) list).stream().map(String.class::cast).toList();
    }
}
