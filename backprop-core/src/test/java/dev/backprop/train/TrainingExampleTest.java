package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataLoader;
import dev.backprop.data.Synthetic;
import dev.backprop.data.TrainTest;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.F;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's "From Java" training example, run as written (and kept in sync with the README). */
class TrainingExampleTest {

    @Test
    void readmeTrainingExampleLearnsTheGeneratedShapes() {
        TrainTest data = Synthetic.trainTest(42);                    // or FashionMnist.load()
        Module model = new Sequential(new Conv2d(1, 16, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(16 * 14 * 14, 10));
        Trainer trainer = Trainer.builder(model, new Adam(model.parameters(), 1e-3), F::crossEntropy)
                .epochs(2).numClasses(10).listener(new ProgressBar()).build();
        trainer.fit(new DataLoader(data.train(), 64, true, 42), null);
        Evaluation test = trainer.evaluate(new DataLoader(data.test(), 1000, false, 0));
        System.out.println(test.accuracy() + "\n" + test.confusion().report());
        assertTrue(test.accuracy() > 0.6, "accuracy " + test.accuracy());
    }

    @Test
    void readmeShowsThisExample() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("```java", readme.indexOf("From Java:"));
        int end = readme.indexOf("```", start + 7);
        String source = Files.readString(Path.of("src", "test", "java", "dev", "backprop", "train",
                "TrainingExampleTest.java"));
        for (String line : readme.substring(start + 7, end).split("\n")) {
            if (!line.isBlank()) {
                assertTrue(source.contains(line.strip().replace("\\\\n", "\\n")), "README line not in the test: " + line);
            }
        }
    }
}
