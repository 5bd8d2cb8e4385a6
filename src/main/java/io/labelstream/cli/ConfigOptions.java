package io.labelstream.cli;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options every pipeline command shares. Precedence, lowest first: defaults, the --config file, LABELSTREAM_*
 * environment variables, --set, the named flags.
 */
final class ConfigOptions {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file of settings.")
    Path configFile;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "Any setting, repeatable, e.g. -s max.batch.size=16 -s kafka.commit.interval.ms=200.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers (setting bootstrap.servers).")
    String bootstrapServers;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "ONNX image classifier.")
    Path model;

    @Option(names = {"-l", "--labels"}, paramLabel = "FILE", description = "Class names, one per line, by index.")
    Path labels;

    LabelstreamConfig load(Map<String, String> commandDefaults) {
        Map<String, String> overrides = new LinkedHashMap<>(commandDefaults);
        overrides.putAll(settings);
        if (bootstrapServers != null) {
            overrides.put(Settings.BOOTSTRAP_SERVERS.key(), bootstrapServers);
        }
        if (model != null) {
            overrides.put(Settings.MODEL_PATH.key(), model.toString());
        }
        if (labels != null) {
            overrides.put(Settings.MODEL_LABELS_PATH.key(), labels.toString());
        }
        return LabelstreamConfig.load(configFile, System.getenv(), overrides);
    }

    /** False, after saying so, when {@code command} was given no cluster: tools never start the embedded broker. */
    static boolean requireCluster(LabelstreamConfig config, String command) {
        if (!config.hasBootstrapServers()) {
            System.err.println("labelstream: " + command + " needs --bootstrap-servers (or bootstrap.servers in the"
                    + " configuration): it works on an existing cluster");
            return false;
        }
        return true;
    }
}
