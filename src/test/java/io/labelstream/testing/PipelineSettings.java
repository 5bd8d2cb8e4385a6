package io.labelstream.testing;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The settings every end-to-end test's instance starts from: its broker, an application id that names its topics
 * ({@code APP-in}, {@code APP-labels}, {@code APP-failures}), a model and a state directory of its own. Tests add
 * what they are about to the map it returns.
 */
public final class PipelineSettings {

    private PipelineSettings() {
    }

    /** A mutable map of the common settings. */
    public static Map<String, String> of(String bootstrapServers, String app, Path model, Path stateDir) {
        Map<String, String> s = new HashMap<>();
        s.put("bootstrap.servers", bootstrapServers);
        s.put("application.id", app);
        s.put("input.topics", app + "-in");
        s.put("labels.topic", app + "-labels");
        s.put("failures.topic", app + "-failures");
        s.put("model.path", model.toString());
        s.put("state.dir", stateDir.toString());
        return s;
    }
}
