package io.labelstream.stream;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.model.LabelingEngine;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.Topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The configuration's settings for the topology, parsed once into {@link LabelingTopology.Options}. */
final class TopologySettings {

    private TopologySettings() {
    }

    /** Every setting the topology needs, parsed once; stops start-up naming a setting that cannot work. */
    static LabelingTopology.Options options(LabelstreamConfig config, LabelingEngine engine,
                                            PipelineMetrics metrics) {
        long delay = config.get(Settings.MAX_BATCH_DELAY_MS);
        TransactionBudget budget = TransactionBudget.of(config);
        boolean dedup = Boolean.parseBoolean(config.get(Settings.DEDUP_ENABLED));
        if (dedup && !config.get(Settings.MODELS_EXTRA).isEmpty()) {
            throw io.labelstream.config.ConfigException.invalid(Settings.DEDUP_ENABLED.key(), "true", "the dedup cache"
                    + " holds the primary model's labels only, so it cannot be used with side models ("
                    + Settings.MODELS_EXTRA.key() + "=" + String.join(",", config.get(Settings.MODELS_EXTRA)) + ") yet");
        }
        return new LabelingTopology.Options(Topics.forConfig(config), moderation(config, engine),
                io.labelstream.image.FetchSettings.fetcher(config),
                dedup ? new LabelingTopology.DedupOptions(config.get(Settings.DEDUP_MAX_ENTRIES),
                        config.get(Settings.DEDUP_MAX_AGE_MS)) : null,
                metrics, config.get(Settings.MAX_BATCH_SIZE), delay, config.get(Settings.MAX_BATCHES_IN_FLIGHT),
                config.streamsGroupProtocol() ? tick(delay) : WOKEN_TICK, budget, shadows(config),
                "records".equals(config.get(Settings.BUFFER_CHANGELOG)));
    }

    /** The side models that are shadows (models.NAME.shadow=true). */
    static java.util.Set<String> shadows(LabelstreamConfig config) {
        java.util.Set<String> shadows = new java.util.HashSet<>();
        for (String name : config.get(Settings.MODELS_EXTRA)) {
            if (Boolean.parseBoolean(config.sideModel(name, Settings.SIDE_MODEL_SHADOW))) {
                shadows.add(name);
            }
        }
        return shadows;
    }

    /**
     * The stage's punctuation period when its polls can be woken ({@link StreamThreadWakeups}): the thread sleeps
     * in its poll until it is woken, and the punctuation then runs in the same round, so it is due at every round.
     */
    static final Duration WOKEN_TICK = Duration.ofMillis(1);

    static ModerationRules moderation(LabelstreamConfig config, LabelingEngine engine) {
        try {
            var sideLabels = engine.models().sideLabels();
            return ModerationRules.parse(config.get(Settings.MODERATION_RULES), engine.primaryModel().labels(), sideLabels,
                    shadows(config));
        } catch (IllegalArgumentException e) {
            throw io.labelstream.config.ConfigException.invalid(Settings.MODERATION_RULES.key(),
                    config.get(Settings.MODERATION_RULES), e.getMessage());
        }
    }

    /**
     * The punctuator's period when polls cannot be woken and {@code poll.ms} is set to it: fine enough to honour the
     * delay within a few milliseconds, never above 10 ms.
     */
    static Duration tick(long maxBatchDelayMs) {
        return Duration.ofMillis(Math.max(1, Math.min(10, maxBatchDelayMs / 2)));
    }
}
