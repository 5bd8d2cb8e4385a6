package io.labelstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.ActivationMap;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Label;
import io.labelstream.schema.SourceBox;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "tail", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Follows the labels topic and each side model's labels topic (models.extra; and optionally the "
                + "flagged and failures topics) and prints each record as a table row or a JSON line. Reads committed "
                + "data only (read_committed), so nothing that could still be rolled back is shown.", "",
                "Examples:",
                "  labelstream tail --bootstrap-servers kafka:9092",
                "  labelstream tail --bootstrap-servers kafka:9092 --failures --from-beginning --json | jq .",
                "  labelstream tail --bootstrap-servers kafka:9092 --from-beginning --max 500 --idle-timeout PT10S"})
final class TailCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = "--flagged", description = "Also the flagged topic (moderation).")
    boolean flagged;

    @Option(names = "--failures", description = "Also the failures topic.")
    boolean failures;

    @Option(names = "--from-beginning", description = "Start at the oldest records instead of new ones only.")
    boolean fromBeginning;

    @Option(names = "--json", description = "JSON lines instead of a table.")
    boolean json;

    @Option(names = "--max", paramLabel = "N", defaultValue = "0", description = "Stop after N records (0: never).")
    long max;

    @Option(names = "--idle-timeout", paramLabel = "DURATION",
            description = "Stop after this long without a record, e.g. PT30S (default: never).")
    Duration idleTimeout;

    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        LabelstreamConfig config = options.load(Map.of());
        if (!ConfigOptions.requireCluster(config, "tail")) {
            return 2;
        }
        try (Topics topics = Topics.forConfig(config)) {
            return tail(config, topics);
        }
    }

    /** The command, on the configuration's topics (closed by the caller). */
    private Integer tail(LabelstreamConfig config, Topics topics) throws Exception {
        List<Topic<?>> followed = new ArrayList<>(List.of(topics.labels()));
        if (flagged) {
            followed.add(topics.flagged());
        }
        if (failures) {
            followed.add(topics.failures());
        }
        // Side models (models.extra) write their own labels topics: shown under the model's name.
        Map<String, String> kindOf = new java.util.HashMap<>(Map.of(topics.labels().name(), "labels",
                topics.flagged().name(), "flagged"));
        topics.sideLabels().forEach((model, topic) -> {
            followed.add(topic);
            kindOf.put(topic.name(), model);
        });
        long seen = 0;
        long lastRecord = System.nanoTime();
        try (var consumer = KafkaClients.of(config).readCommittedConsumer(
                Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false))) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (Topic<?> topic : followed) {
                var infos = consumer.partitionsFor(topic.name(), Duration.ofSeconds(30));
                if (infos == null || infos.isEmpty()) {
                    System.err.println("labelstream: topic '" + topic.name() + "' does not exist");
                    return 2;
                }
                infos.forEach(i -> partitions.add(new TopicPartition(topic.name(), i.partition())));
            }
            consumer.assign(partitions);
            if (fromBeginning) {
                consumer.seekToBeginning(partitions);
            } else {
                consumer.seekToEnd(partitions);
            }
            if (!json) {
                System.out.printf("%-8s %-30s %s%n", "TOPIC", "ID", "RESULT");
            }
            while (max <= 0 || seen < max) {
                var records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    String line = r.topic().equals(topics.failures().name()) ? failure(topics.failures().value(r))
                            : labels(kindOf.get(r.topic()), topics.labels().value(r));
                    System.out.println(line);
                    lastRecord = System.nanoTime();
                    if (max > 0 && ++seen >= max) {
                        break;
                    }
                }
                if (idleTimeout != null && System.nanoTime() - lastRecord > idleTimeout.toNanos()) {
                    break;
                }
            }
        }
        return 0;
    }

    private String labels(String kind, ImageLabels l) throws Exception {
        if (json) {
            ObjectNode node = mapper.createObjectNode().put("topic", kind).put("id", l.getId());
            var array = node.putArray("labels");
            for (Label x : l.getLabels()) {
                putMap(array.addObject().put("index", x.getClassIndex()).put("label", x.getLabel())
                        .put("score", x.getScore()), x.getActivation());
            }
            var flags = node.putArray("flags");
            l.getFlags().forEach(f -> putMap(flags.addObject().put("rule", f.getRule()).put("label", f.getLabel())
                    .put("score", f.getScore()), f.getActivation()));
            node.put("model", l.getModel().getName()).put("batchSize", l.getBatchSize())
                    .put("fromCache", l.getFromCache()).put("labeledAt", l.getLabeledAt().toString());
            return mapper.writeValueAsString(node);
        }
        StringBuilder top = new StringBuilder();
        for (Label x : l.getLabels().subList(0, Math.min(3, l.getLabels().size()))) {
            top.append(top.length() == 0 ? "" : ", ").append(String.format("%s %.3f", x.getLabel(), x.getScore()))
                    .append(compact(x.getActivation()));
        }
        l.getFlags().forEach(f -> top.append("  FLAG ").append(f.getRule()).append(compact(f.getActivation())));
        return String.format("%-8s %-30s %s", kind, shorten(l.getId()), top);
    }

    private static void putMap(ObjectNode node, ActivationMap map) {
        if (map != null) {
            SourceBox box = map.getBox();
            ActivationView.putJson(node, map.getRows(), map.getCols(), cells(map), box.getX(), box.getY(),
                    box.getWidth(), box.getHeight());
        }
    }

    /** " [grid]" for a label or flag that carries a map, else "". */
    private static String compact(ActivationMap map) {
        return map == null ? "" : " " + ActivationView.compact(map.getRows(), map.getCols(), cells(map));
    }

    private static byte[] cells(ActivationMap map) {
        byte[] cells = new byte[map.getCells().remaining()];
        map.getCells().duplicate().get(cells);
        return cells;
    }

    private String failure(ImageFailure f) throws Exception {
        if (json) {
            return mapper.writeValueAsString(mapper.createObjectNode().put("topic", "failures").put("id", f.getId())
                    .put("reason", f.getReason().name()).put("message", f.getMessage())
                    .put("source", f.getSource().getTopic() + "/" + f.getSource().getPartition() + "/"
                            + f.getSource().getOffset())
                    .put("model", f.getModel() == null ? null : f.getModel().getName()));
        }
        return String.format("%-8s %-30s %s: %s", "failures", shorten(String.valueOf(f.getId())), f.getReason(),
                f.getMessage());
    }

    private static String shorten(String id) {
        return id.length() <= 30 ? id : "…" + id.substring(id.length() - 29);
    }
}
