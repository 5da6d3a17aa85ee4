package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.data.Csv;
import dev.backprop.data.DataException;

/** The CSV table reader (classification and regression) on arbitrary bytes. */
class CsvFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void read(byte[] data) {
        var file = Fuzz.file("table.csv", data);
        Fuzz.expect(() -> Csv.classification(file, -1), DataException.class);
        Fuzz.expect(() -> Csv.regression(file, "y"), DataException.class);
    }
}
