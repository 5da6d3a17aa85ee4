package dev.backprop.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One training example as a Spark RDD holds it: the input features (row-major, any shape given
 * separately to {@link SparkData#fromExamples}) and a class index or a numeric target.
 *
 * @param features the input values
 * @param label the class index (classification), or -1
 * @param value the numeric target (regression), or NaN
 */
public record Example(float[] features, long label, float value) implements Serializable {

    /** A classification example. */
    public static Example of(float[] features, long label) {
        if (label < 0) {
            throw new IllegalArgumentException("class label must be >= 0, got " + label);
        }
        return new Example(features, label, Float.NaN);
    }

    /** A regression example. */
    public static Example regression(float[] features, float value) {
        return new Example(features, -1, value);
    }

    /** Whether this is a classification example. */
    public boolean classification() {
        return label >= 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && label == e.label && Float.compare(value, e.value) == 0
                && Arrays.equals(features, e.features);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(features) + Long.hashCode(label);
    }

    @Override
    public String toString() {
        return "Example[" + features.length + " features, " + (classification() ? "label " + label : "value " + value)
                + "]";
    }
}
