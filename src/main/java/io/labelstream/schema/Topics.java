package io.labelstream.schema;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * labelstream's topics, named once by the configuration and typed once here, so that every tool and the
 * pipeline read and write them with the same serdes.
 *
 * @param inputs       input.topics: ImageEvent records
 * @param inputPattern input.topic.pattern; when set the pipeline reads every topic it matches instead of
 *                     {@code inputs} (null: not set)
 * @param labels       labels.topic
 * @param failures     failures.topic
 * @param flagged      flagged.topic: the labels on which a moderation rule fired
 * @param sideLabels   models.NAME.topic: each side model's labels
 */
public record Topics(List<Topic<ImageEvent>> inputs, Pattern inputPattern, Topic<ImageLabels> labels,
                     Topic<ImageFailure> failures, Topic<ImageLabels> flagged,
                     Map<String, Topic<ImageLabels>> sideLabels) {

    public Topics {
        inputs = List.copyOf(inputs);
        sideLabels = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(sideLabels));
    }

    public Topics(List<Topic<ImageEvent>> inputs, Pattern inputPattern, Topic<ImageLabels> labels,
                  Topic<ImageFailure> failures, Topic<ImageLabels> flagged) {
        this(inputs, inputPattern, labels, failures, flagged, Map.of());
    }

    public static Topics from(LabelstreamConfig config) {
        String pattern = config.get(Settings.INPUT_TOPIC_PATTERN);
        Topics topics = named(config.get(Settings.INPUT_TOPICS), pattern.isEmpty() ? null : Pattern.compile(pattern),
                config.get(Settings.LABELS_TOPIC), config.get(Settings.FAILURES_TOPIC),
                config.get(Settings.FLAGGED_TOPIC));
        Map<String, String> side = new java.util.LinkedHashMap<>();
        for (String name : config.get(Settings.MODELS_EXTRA)) {
            String topic = config.sideModel(name, Settings.SIDE_MODEL_TOPIC);
            side.put(name, topic.isEmpty() ? config.get(Settings.LABELS_TOPIC) + "-" + name : topic);
        }
        return topics.withSideLabels(side);
    }

    /** These topics with a labels topic for each side model: name to topic name. */
    public Topics withSideLabels(Map<String, String> topicBySideModel) {
        Map<String, Topic<ImageLabels>> side = new java.util.LinkedHashMap<>();
        topicBySideModel.forEach((model, topic) -> side.put(model, new Topic<>(topic, labels.valueSerde())));
        return new Topics(inputs, inputPattern, labels, failures, flagged, side);
    }

    /** The topics of these names, each with its serde. */
    public static Topics named(List<String> inputs, Pattern inputPattern, String labels, String failures,
                               String flagged) {
        AvroSerde<ImageEvent> events = AvroSerdes.imageEvent();
        AvroSerde<ImageLabels> labelsSerde = AvroSerdes.imageLabels();
        return new Topics(inputs.stream().map(name -> new Topic<>(name, events)).toList(), inputPattern,
                new Topic<>(labels, labelsSerde), new Topic<>(failures, AvroSerdes.imageFailure()),
                new Topic<>(flagged, labelsSerde));
    }

    /** The first input topic: where produce, demo and replay publish unless told otherwise. */
    public Topic<ImageEvent> input() {
        return inputs.get(0);
    }

    public List<String> inputNames() {
        return inputs.stream().map(Topic::name).toList();
    }
}
