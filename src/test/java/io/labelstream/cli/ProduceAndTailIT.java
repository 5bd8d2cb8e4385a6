package io.labelstream.cli;

import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.stream.Pipeline;
import io.labelstream.testing.TestModels;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** 'produce' a folder into a running pipeline and read every label back with 'tail', on a real broker. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProduceAndTailIT {

    @TempDir
    Path dir;

    @Test
    void aFolderGoesInAndEveryImageComesOutLabeled() throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos/2026/november"));
        Path byReference = Files.createDirectories(dir.resolve("archive"));
        for (int i = 0; i < 160; i++) {
            Files.write((i % 2 == 0 ? photos : photos.getParent()).resolve("p" + i + ".jpg"),
                    SyntheticImages.jpeg(320, 240, i));
        }
        for (int i = 0; i < 60; i++) {
            Files.write(byReference.resolve("a" + i + ".png"), SyntheticImages.png(SyntheticImages.image(160, 120, i)));
        }
        Files.writeString(photos.resolve("notes.txt"), "not an image, not sent");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Map<String, String> s = new HashMap<>();
            s.put("bootstrap.servers", kafka.bootstrapServers());
            s.put("application.id", "produce-tail");
            s.put("model.path", TestModels.resnet18().toString());
            s.put("state.dir", dir.resolve("state").toString());
            s.put("fetch.file.roots", byReference.toString());
            s.put("fetch.timeout.ms", "2000");
            LabelstreamConfig config = LabelstreamConfig.of(s);
            try (LabelingEngine engine = EngineFactory.create(config)) {
                Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
                try {
                    assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).isTrue();
                    Captured inline = capture(() -> Main.execute("produce", "--bootstrap-servers",
                            kafka.bootstrapServers(), dir.resolve("photos").toString()));
                    assertThat(inline.exitCode()).as(inline.err()).isZero();
                    assertThat(inline.err()).contains("Published 160 image(s)");
                    Captured refs = capture(() -> Main.execute("produce", "--bootstrap-servers",
                            kafka.bootstrapServers(), "--reference", "--rate", "100", byReference.toString()));
                    assertThat(refs.exitCode()).as(refs.err()).isZero();
                    assertThat(refs.err()).contains("Published 60 image(s)").containsPattern("\\d+/60");

                    Captured tail = capture(() -> Main.execute("tail", "--bootstrap-servers",
                            kafka.bootstrapServers(), "--failures", "--from-beginning", "--json", "--max", "220",
                            "--idle-timeout", "PT90S"));
                    assertThat(tail.exitCode()).as(tail.err()).isZero();
                    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
                    List<com.fasterxml.jackson.databind.JsonNode> lines = tail.out().lines().map(l -> {
                        try {
                            return mapper.readTree(l);
                        } catch (Exception e) {
                            throw new AssertionError(l, e);
                        }
                    }).toList();
                    assertThat(lines).hasSize(220).allSatisfy(n -> assertThat(n.get("topic").asText()).isEqualTo("labels"));
                    Set<String> ids = lines.stream().map(n -> n.get("id").asText()).collect(Collectors.toSet());
                    assertThat(ids).hasSize(220).allSatisfy(id -> assertThat(id).startsWith(dir.toString()));
                } finally {
                    pipeline.close();
                }
            }
        }
    }

    @Test
    void aFileLargerThanTheTopicAcceptsIsRefusedWithAHintToUseReferences() throws Exception {
        Path big = dir.resolve("big.jpg");
        Files.write(big, SyntheticImages.jpeg(1200, 900, 3));
        assertThat(Files.size(big)).isGreaterThan(20_000);
        Files.write(dir.resolve("small.jpg"), SyntheticImages.jpeg(64, 48, 3));
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Properties p = new Properties();
            p.put("bootstrap.servers", kafka.bootstrapServers());
            try (Admin admin = Admin.create(p)) {
                admin.createTopics(List.of(new NewTopic("tiny", 1, (short) 1)
                        .configs(Map.of("max.message.bytes", "20000")))).all().get();
            }
            Captured run = capture(() -> Main.execute("produce", "--bootstrap-servers", kafka.bootstrapServers(),
                    "--topic", "tiny", dir.toString()));
            assertThat(run.exitCode()).isEqualTo(1);
            assertThat(run.err()).contains("Published 1 image(s)").contains("larger than topic 'tiny' accepts")
                    .contains("--reference").contains("big.jpg");
        }
    }

    private static Captured capture(java.util.function.IntSupplier body) {
        return ConsoleCapture.run(body);
    }
}
