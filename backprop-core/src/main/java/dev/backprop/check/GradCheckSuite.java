package dev.backprop.check;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every gradient check of the project, by group: what {@code ./backprop gradcheck} and the tests run. */
public final class GradCheckSuite {
    private GradCheckSuite() {}

    /** Group name to its checks, in a stable order. */
    public static Map<String, List<GradCheckCase>> all() {
        Map<String, List<GradCheckCase>> groups = new LinkedHashMap<>();
        groups.put("ops", OpGradChecks.all());
        groups.put("layers", LayerGradChecks.all());
        groups.put("convolution and pooling", ConvGradChecks.all());
        groups.put("recurrent", RecurrentGradChecks.everything());
        groups.put("attention and transformer", AttentionGradChecks.all());
        return groups;
    }
}
