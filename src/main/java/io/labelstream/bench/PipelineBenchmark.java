package io.labelstream.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.labelstream.broker.EmbeddedKafkaCluster;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.DefaultModel;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.ResNetGenerator;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.InlineImage;
import io.labelstream.schema.Serdes;
import io.labelstream.stream.Pipeline;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * How much of ONNX Runtime's capacity reaches the output topic: for each model and image size, a bare ORT loop
 * on pre-made tensors (the ceiling) is timed, then the images are pre-loaded into the input topic of the
 * embedded broker and the pipeline is timed from start until every label is committed and visible to a
 * read_committed consumer. Both run in the same process, back to back.
 */
public final class PipelineBenchmark {

    public record Options(List<ResNetGenerator.Architecture> models, List<int[]> sizes, int images, int batchSize,
                          int threads) {
    }

    private final Options options;
    private final PrintStream out;

    public PipelineBenchmark(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public void run() throws Exception {
        out.printf("labelstream pipeline benchmark: %d cores, %d images per run, max.batch.size %d, ORT threads %d,"
                        + " exactly_once_v2, embedded broker%n%n", Runtime.getRuntime().availableProcessors(),
                options.images(), options.batchSize(), options.threads());
        out.printf("  %-9s %-9s %-14s %-16s %-6s %-10s%n", "model", "images", "ceiling img/s", "pipeline img/s",
                "ratio", "mean batch");
        try (EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.startSingleNode()) {
            int run = 0;
            for (ResNetGenerator.Architecture arch : options.models()) {
                Path model = DefaultModel.ensure(arch);
                for (int[] size : options.sizes()) {
                    double ceiling = ceiling(model, options.batchSize());
                    double[] pipeline = pipeline(kafka, model, size, "run" + (run++));
                    out.printf("  %-9s %-9s %-14.1f %-16.1f %-6.3f %-10.1f%n", arch.modelName(),
                            size[0] + "×" + size[1], ceiling, pipeline[0], pipeline[0] / ceiling, pipeline[1]);
                }
            }
        }
    }

    /** Bare ORT on one pre-made batch, same options as the engine's sessions. */
    private double ceiling(Path model, int batch) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] values = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
        new ImagePreprocessor(PreprocessRecipe.IMAGENET, new ImageDecoder(ImageLimits.defaults()))
                .preprocess(SyntheticImages.jpeg(640, 480, 1), values);
        FloatBuffer input = ByteBuffer.allocateDirect(batch * values.length * 4).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        for (int i = 0; i < batch; i++) {
            input.put(i * values.length, values);
        }
        try (OrtSession.SessionOptions o = io.labelstream.model.OnnxClassifier.baseOptions(
                OrtSession.SessionOptions.OptLevel.ALL_OPT, options.threads(), 1)) {
            try (OrtSession session = env.createSession(model.toString(), o);
                 OnnxTensor tensor = OnnxTensor.createTensor(env, input, new long[] {batch, 3, 224, 224})) {
                session.run(Map.of("input", tensor)).close();
                int runs = Math.max(3, options.images() / batch / 4);
                long t0 = System.nanoTime();
                for (int i = 0; i < runs; i++) {
                    session.run(Map.of("input", tensor)).close();
                }
                return runs * batch / ((System.nanoTime() - t0) / 1e9);
            }
        }
    }

    /** Returns {images per second, mean batch size} for one pre-loaded backlog. */
    private double[] pipeline(EmbeddedKafkaCluster kafka, Path model, int[] size, String name) throws Exception {
        String in = name + "-in";
        String labels = name + "-labels";
        Properties client = new Properties();
        client.put("bootstrap.servers", kafka.bootstrapServers());
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic(in, 1, (short) 1))).all().get();
        }
        List<byte[]> jpegs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            jpegs.add(SyntheticImages.jpeg(size[0], size[1], 9000 + i));
        }
        Properties p = new Properties();
        p.putAll(client);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        var serde = Serdes.imageEvent();
        try (var producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < options.images(); i++) {
                String id = name + "-" + i;
                producer.send(new ProducerRecord<>(in, id.getBytes(StandardCharsets.UTF_8), serde.encode(
                        ImageEvent.newBuilder().setId(id).setEventTime(Instant.now())
                                .setImage(new InlineImage(ByteBuffer.wrap(jpegs.get(i % jpegs.size())), "image/jpeg"))
                                .build())));
            }
            producer.flush();
        }
        Map<String, String> s = new HashMap<>();
        s.put("bootstrap.servers", kafka.bootstrapServers());
        s.put("application.id", name);
        s.put("input.topics", in);
        s.put("labels.topic", labels);
        s.put("failures.topic", name + "-failures");
        s.put("topics.partitions", "1");
        s.put("max.batch.size", Integer.toString(options.batchSize()));
        s.put("model.path", model.toString());
        s.put("model.intra.op.threads", Integer.toString(options.threads()));
        s.put("state.dir", Files.createTempDirectory("labelstream-bench").toString());
        LabelstreamConfig config = LabelstreamConfig.of(s);
        try (LabelingEngine engine = EngineFactory.create(config)) {
            long t0 = System.nanoTime();
            Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
            try {
                Properties c = new Properties();
                c.putAll(client);
                c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
                long seen = 0;
                long batchSum = 0;
                try (var consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                    TopicPartition tp = new TopicPartition(labels, 0);
                    while (consumer.partitionsFor(labels, Duration.ofSeconds(10)).isEmpty()) {
                        Thread.sleep(50);
                    }
                    consumer.assign(List.of(tp));
                    consumer.seekToBeginning(List.of(tp));
                    var labelsSerde = Serdes.imageLabels();
                    while (seen < options.images()) {
                        for (var r : consumer.poll(Duration.ofMillis(100))) {
                            seen++;
                            batchSum += labelsSerde.deserializer().deserialize(labels, r.value()).getBatchSize();
                        }
                        if (pipeline.fatalError() != null) {
                            throw new IllegalStateException("pipeline failed", pipeline.fatalError());
                        }
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                return new double[] {options.images() / seconds, (double) batchSum / seen};
            } finally {
                pipeline.close();
            }
        }
    }
}
