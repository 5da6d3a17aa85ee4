package dev.backprop.train;

import java.util.ArrayList;
import java.util.List;

/** What {@link Trainer#fit} did: the epochs, the steps taken and why it stopped. */
public final class History {
    private final List<EpochReport> epochs = new ArrayList<>();
    private long steps;
    private String stopReason = "";

    void add(EpochReport e) {
        epochs.add(e);
    }

    void steps(long s) {
        steps = s;
    }

    void stopReason(String reason) {
        stopReason = reason;
    }

    public List<EpochReport> epochs() {
        return List.copyOf(epochs);
    }

    public long steps() {
        return steps;
    }

    /** Why training ended: "epochs", "max steps", or a listener's reason such as early stopping. */
    public String stopReason() {
        return stopReason;
    }

    /** The last epoch, or null before any finished. */
    public EpochReport last() {
        return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
    }
}
