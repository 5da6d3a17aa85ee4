package dev.backprop.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** A list of sub-modules registered as "0", "1", ... (like {@code torch.nn.ModuleList}); it has no forward. */
public class ModuleList extends Module implements Iterable<Module> {
    private final List<Module> modules = new ArrayList<>();

    public ModuleList(Module... initial) {
        for (Module m : initial) {
            add(m);
        }
    }

    /** Appends and registers a module; returns this list. */
    public ModuleList add(Module module) {
        registerModule(Integer.toString(modules.size()), module);
        modules.add(module);
        return this;
    }

    /** Used by Sequential, which registers the modules on itself so that keys stay "0", "1", ... */
    void addUnregistered(Module module) {
        modules.add(module);
    }

    public Module get(int index) {
        if (index < 0 || index >= modules.size()) {
            throw new IndexOutOfBoundsException("index " + index + " is out of range for " + describe() + " with "
                    + modules.size() + " modules");
        }
        return modules.get(index);
    }

    public int size() {
        return modules.size();
    }

    @Override
    public Iterator<Module> iterator() {
        return List.copyOf(modules).iterator();
    }
}
