package dev.nps.coordinator;

/** Told after every generation, on the coordinator's thread: keep it quick. */
@FunctionalInterface
public interface SearchListener {
    SearchListener NONE = stats -> {
    };

    void onGeneration(GenerationStats stats);
}
