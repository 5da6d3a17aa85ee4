package dev.backprop.autograd;

/** Returned by hook registration; {@link #remove()} unregisters the hook. */
@FunctionalInterface
public interface HookHandle {
    void remove();
}
