package io.labelstream.schema;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecordBase;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * labelstream's topics, named once by the configuration and typed once here, so that every tool and the
 * pipeline read and write them with the same serdes: Avro single-object encoding, or, with a schema registry
 * ({@link #withRegistry}), the Confluent framing.
 *
 * @param inputs       input.topics: ImageEvent records
 * @param inputPattern input.topic.pattern; when set the pipeline reads every topic it matches instead of
 *                     {@code inputs} (null: not set)
 * @param labels       labels.topic
 * @param failures     failures.topic
 * @param flagged      flagged.topic: the labels on which a moderation rule fired
 * @param sideLabels   models.NAME.topic: each side model's labels
 * @param rows         labels.flat.topic: the primary model's labels as one flat row per image; null when not set
 * @param ranks        labels.ranks.topic: the primary model's top-k as one flat row per rank; null when not set
 * @param reviews      reviews.topic: the review console's decisions on flagged images
 * @param registry     the schema registry the serdes use; null without one
 */
public record Topics(List<Topic<ImageEvent>> inputs, Pattern inputPattern, Topic<ImageLabels> labels,
                     Topic<ImageFailure> failures, Topic<ImageLabels> flagged,
                     Map<String, Topic<ImageLabels>> sideLabels, Topic<ImageLabelRow> rows,
                     Topic<ImageLabelRank> ranks, Topic<ImageReview> reviews, SchemaRegistry registry)
        implements AutoCloseable {

    /** reviews.topic's default, for topics named without one. */
    private static final String DEFAULT_REVIEWS = "image-reviews";

    public Topics {
        inputs = List.copyOf(inputs);
        sideLabels = Collections.unmodifiableMap(new LinkedHashMap<>(sideLabels));
    }

    public Topics(List<Topic<ImageEvent>> inputs, Pattern inputPattern, Topic<ImageLabels> labels,
                  Topic<ImageFailure> failures, Topic<ImageLabels> flagged) {
        this(inputs, inputPattern, labels, failures, flagged, Map.of(), null, null,
                new Topic<>(DEFAULT_REVIEWS, AvroSerdes.imageReview()), null);
    }

    /** The configuration's topics, in single-object encoding; see {@link #withRegistry} for the registry's. */
    public static Topics from(LabelstreamConfig config) {
        String pattern = config.get(Settings.INPUT_TOPIC_PATTERN);
        Topics topics = named(config.get(Settings.INPUT_TOPICS), pattern.isEmpty() ? null : Pattern.compile(pattern),
                config.get(Settings.LABELS_TOPIC), config.get(Settings.FAILURES_TOPIC),
                config.get(Settings.FLAGGED_TOPIC)).withReviews(config.get(Settings.REVIEWS_TOPIC));
        Map<String, String> side = new LinkedHashMap<>();
        for (String name : config.get(Settings.MODELS_EXTRA)) {
            String topic = config.sideModel(name, Settings.SIDE_MODEL_TOPIC);
            side.put(name, topic.isEmpty() ? config.get(Settings.LABELS_TOPIC) + "-" + name : topic);
        }
        return topics.withSideLabels(side).withRows(config.get(Settings.LABELS_FLAT_TOPIC),
                config.get(Settings.LABELS_RANKS_TOPIC));
    }

    /**
     * The configuration's topics in the encoding it asks for: with {@code schema.registry.url} set, under that
     * registry (nothing is asked of it yet: see {@link #registerOutputs()}).
     */
    public static Topics forConfig(LabelstreamConfig config) {
        Topics topics = from(config);
        SchemaRegistry registry = SchemaRegistry.from(config);
        return registry == null ? topics : topics.withRegistry(registry);
    }

    /** These topics with a labels topic for each side model: name to topic name. */
    public Topics withSideLabels(Map<String, String> topicBySideModel) {
        Map<String, Topic<ImageLabels>> side = new LinkedHashMap<>();
        topicBySideModel.forEach((model, topic) -> side.put(model, typed(topic, ImageLabels.class,
                ImageLabels.getClassSchema(), AvroSerdes.imageLabels())));
        return new Topics(inputs, inputPattern, labels, failures, flagged, side, rows, ranks, reviews, registry);
    }

    /**
     * These topics with the flat outputs for table sinks: {@code rowsTopic} gets an ImageLabelRow per labeled image,
     * {@code ranksTopic} an ImageLabelRank per rank of its top-k; an empty name leaves that output off.
     */
    public Topics withRows(String rowsTopic, String ranksTopic) {
        return new Topics(inputs, inputPattern, labels, failures, flagged, sideLabels,
                rowsTopic.isEmpty() ? null : typed(rowsTopic, ImageLabelRow.class, ImageLabelRow.getClassSchema(),
                        AvroSerdes.imageLabelRow()),
                ranksTopic.isEmpty() ? null : typed(ranksTopic, ImageLabelRank.class,
                        ImageLabelRank.getClassSchema(), AvroSerdes.imageLabelRank()),
                reviews, registry);
    }

    /** These topics with the review console's decisions on topic {@code name}. */
    public Topics withReviews(String name) {
        return new Topics(inputs, inputPattern, labels, failures, flagged, sideLabels, rows, ranks,
                typed(name, ImageReview.class, ImageReview.getClassSchema(), AvroSerdes.imageReview()), registry);
    }

    /** A topic of {@code type} in these topics' encoding: under the registry when there is one. */
    private <V extends SpecificRecordBase> Topic<V> typed(String topic, Class<V> type, Schema schema,
                                                          AvroSerde<V> singleObject) {
        return registry == null ? new Topic<>(topic, singleObject) : registered(registry, topic, type, schema,
                singleObject);
    }

    /**
     * These topics under {@code registry}: every value written is Confluent-framed under its schema's id in subject
     * {@code <topic>-value}, and values read may be framed either way.
     */
    public Topics withRegistry(SchemaRegistry registry) {
        List<Topic<ImageEvent>> in = new ArrayList<>();
        for (Topic<ImageEvent> t : inputs) {
            in.add(registered(registry, t.name(), ImageEvent.class, ImageEvent.getClassSchema(),
                    AvroSerdes.imageEvent()));
        }
        Map<String, Topic<ImageLabels>> side = new LinkedHashMap<>();
        sideLabels.forEach((model, t) -> side.put(model, registered(registry, t.name(), ImageLabels.class,
                ImageLabels.getClassSchema(), AvroSerdes.imageLabels())));
        return new Topics(in, inputPattern,
                registered(registry, labels.name(), ImageLabels.class, ImageLabels.getClassSchema(),
                        AvroSerdes.imageLabels()),
                registered(registry, failures.name(), ImageFailure.class, ImageFailure.getClassSchema(),
                        AvroSerdes.imageFailure()),
                registered(registry, flagged.name(), ImageLabels.class, ImageLabels.getClassSchema(),
                        AvroSerdes.imageLabels()),
                side,
                rows == null ? null : registered(registry, rows.name(), ImageLabelRow.class,
                        ImageLabelRow.getClassSchema(), AvroSerdes.imageLabelRow()),
                ranks == null ? null : registered(registry, ranks.name(), ImageLabelRank.class,
                        ImageLabelRank.getClassSchema(), AvroSerdes.imageLabelRank()),
                registered(registry, reviews.name(), ImageReview.class, ImageReview.getClassSchema(),
                        AvroSerdes.imageReview()), registry);
    }

    private static <V extends SpecificRecordBase> Topic<V> registered(SchemaRegistry registry, String topic,
                                                                      Class<V> type, Schema schema,
                                                                      AvroSerde<V> singleObject) {
        return new Topic<>(topic, new RegistrySerde<>(registry, topic, type, schema, singleObject));
    }

    /**
     * Registers (or, with auto-register off, looks up) the schema of every topic labelstream writes, waiting while
     * the registry does not answer; a refusal stops start-up. Nothing to do without a registry.
     */
    public void registerOutputs() {
        List<Topic<?>> outputs = new ArrayList<>(List.of(labels, failures, flagged));
        outputs.addAll(sideLabels.values());
        if (rows != null) {
            outputs.add(rows);
        }
        if (ranks != null) {
            outputs.add(ranks);
        }
        outputs.forEach(Topics::register);
    }

    /**
     * Registers (or looks up) ImageReview's schema under the reviews topic's subject, as {@link #registerOutputs()}
     * does for {@code run}: a registry that refuses it stops the review console's start-up, not its first decision.
     */
    public void registerReviews() {
        register(reviews);
    }

    private static void register(Topic<?> topic) {
        if (topic.valueSerde() instanceof RegistrySerde<?> serde) {
            serde.id();
        }
    }

    /** A topic of ImageEvents named {@code name}, with the input topics' serde (for {@code produce --topic}). */
    public Topic<ImageEvent> inputNamed(String name) {
        return typed(name, ImageEvent.class, ImageEvent.getClassSchema(), AvroSerdes.imageEvent());
    }

    /** The topics of these names, each with its single-object serde. */
    public static Topics named(List<String> inputs, Pattern inputPattern, String labels, String failures,
                               String flagged) {
        AvroSerde<ImageEvent> events = AvroSerdes.imageEvent();
        AvroSerde<ImageLabels> labelsSerde = AvroSerdes.imageLabels();
        return new Topics(inputs.stream().map(name -> new Topic<>(name, events)).toList(), inputPattern,
                new Topic<>(labels, labelsSerde), new Topic<>(failures, AvroSerdes.imageFailure()),
                new Topic<>(flagged, labelsSerde));
    }

    /** Lets go of the registry's retry thread, if it has one; the tools close their topics when they are done. */
    @Override
    public void close() {
        if (registry != null) {
            registry.close();
        }
    }

    /** The first input topic: where produce, demo and replay publish unless told otherwise. */
    public Topic<ImageEvent> input() {
        return inputs.get(0);
    }

    public List<String> inputNames() {
        return inputs.stream().map(Topic::name).toList();
    }
}
