package io.labelstream.config;

import java.util.List;

/**
 * Every labelstream setting. The settings table in docs/configuration.md lists exactly these (a test checks it).
 * Kafka client and Streams settings are not listed here: they pass through under the
 * {@link LabelstreamConfig#KAFKA_PREFIX}.
 */
public final class Settings {

    public static final Setting<String> BOOTSTRAP_SERVERS = new Setting<>("bootstrap.servers", "",
            "Kafka brokers to use; run stops at start-up without them, unless given --embedded-broker (a single-node "
                    + "KRaft broker on loopback, inside the process); demo starts that broker when this is empty",
            Setting.anyText());
    public static final Setting<String> APPLICATION_ID = new Setting<>("application.id", "labelstream",
            "Kafka Streams application id: the consumer group and the prefix of internal topics",
            Setting.nonBlank());
    public static final Setting<List<String>> INPUT_TOPICS = new Setting<>("input.topics", "images",
            "Comma-separated topics of ImageEvent records", Setting.topicList());
    public static final Setting<String> INPUT_TOPIC_PATTERN = new Setting<>("input.topic.pattern", "",
            "Java regular expression of input topics, instead of input.topics (topics created later join too)",
            Setting.optional(Setting.regex()));
    public static final Setting<String> LABELS_TOPIC = new Setting<>("labels.topic", "image-labels",
            "Topic of ImageLabels records", Setting.topic());
    public static final Setting<String> FAILURES_TOPIC = new Setting<>("failures.topic", "image-failures",
            "Topic of ImageFailure records (reason, message, original bytes)", Setting.topic());
    public static final Setting<String> FLAGGED_TOPIC = new Setting<>("flagged.topic", "image-flagged",
            "Topic of ImageLabels records on which a moderation rule fired (they also go to labels.topic)",
            Setting.topic());
    public static final Setting<String> LABELS_FLAT_TOPIC = new Setting<>("labels.flat.topic", "",
            "Topic of ImageLabelRow records: the primary model's labels as one flat row per image (top-1, model, source,"
                    + " flags), for JDBC sinks; empty: not written", Setting.optional(Setting.topic()));
    public static final Setting<String> LABELS_RANKS_TOPIC = new Setting<>("labels.ranks.topic", "",
            "Topic of ImageLabelRank records: the primary model's top-k as one flat row per image and rank, for JDBC"
                    + " sinks; empty: not written", Setting.optional(Setting.topic()));
    public static final Setting<String> REVIEWS_TOPIC = new Setting<>("reviews.topic", "image-reviews",
            "Topic of ImageReview records: the decisions people take on flagged images in the review console",
            Setting.topic());
    public static final Setting<String> REVIEW_BIND = new Setting<>("review.bind", "127.0.0.1:9480",
            "Address and port the review console listens on (HOST:PORT, port 0 picks a free one); the default is"
                    + " reachable from this machine only: put a TLS reverse proxy in front to open it wider",
            // The port part is 0 … 65535, so `config` refuses what the console could not bind.
            Setting.pattern("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}"
                    + "|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])", "HOST:PORT, a port up to 65535, e.g. 127.0.0.1:9480"));
    public static final Setting<String> REVIEW_TOKEN = new Setting<>("review.token", "",
            "The secret reviewers enter on the console's login form (a secret: masked, never logged); empty: one is"
                    + " generated and printed once at start-up", Setting.anyText());
    public static final Setting<java.time.Duration> REVIEW_SESSION_TIMEOUT = new Setting<>("review.session.timeout",
            "PT8H", "How long a review console session lasts unused (ISO-8601 duration, e.g. PT8H, PT30M); then the"
                    + " reviewer signs in again. The page's own background check for decided images does not count"
                    + " as use", Setting.positiveDuration());
    public static final Setting<String> MODERATION_RULES = new Setting<>("moderation.rules", "",
            "Rules 'name:label=a|b>=0.8; name2:index=1,2>=0.5': an image whose probability for any listed class"
                    + " reaches the threshold is flagged", Setting.anyText());
    public static final Setting<String> MODERATION_EXPLAIN = new Setting<>("moderation.explain", "true",
            "A flag carries the class activation map of the class its rule fired on, even with explain.top=0, when"
                    + " the model ends in global average pooling and a linear classifier (else a warning at start-up)",
            Setting.oneOf("true", "false"));
    public static final Setting<String> DEDUP_ENABLED = new Setting<>("dedup.enabled", "false",
            "Label an image whose exact bytes were labeled before (same model, recipe and rules) from a cache,"
                    + " without inference; per input partition", Setting.oneOf("true", "false"));
    public static final Setting<Long> DEDUP_MAX_ENTRIES = new Setting<>("dedup.max.entries", "100000",
            "Cache entries kept per input partition; the oldest go first", Setting.longRange(1, 100_000_000));
    public static final Setting<Long> DEDUP_MAX_AGE_MS = new Setting<>("dedup.max.age.ms", "86400000",
            "Age after which a cache entry is no longer used", Setting.longRange(1000, Long.MAX_VALUE / 2));
    public static final Setting<String> TOPICS_CREATE = new Setting<>("topics.create", "true",
            "Create missing input, labels and failures topics at start-up", Setting.oneOf("true", "false"));
    public static final Setting<Integer> TOPICS_PARTITIONS = new Setting<>("topics.partitions", "4",
            "Partitions of topics labelstream creates (the upper bound of parallel instances)",
            Setting.intRange(1, 10_000));
    public static final Setting<Integer> TOPICS_REPLICATION_FACTOR = new Setting<>("topics.replication.factor",
            "-1", "Replication factor of topics labelstream creates; -1 takes the broker's default",
            Setting.intRange(-1, 32));
    public static final Setting<Integer> MAX_BATCH_SIZE = new Setting<>("max.batch.size", "8",
            "Images per inference call: a task's buffer is flushed when it holds this many",
            Setting.intRange(1, 1024));
    public static final Setting<Long> MAX_BATCH_DELAY_MS = new Setting<>("max.batch.delay.ms", "20",
            "Longest an image waits in the buffer before a partial batch is flushed (wall clock)",
            Setting.longRange(1, 60_000));
    public static final Setting<Long> IDLE_POLL_MS = new Setting<>("idle.poll.ms", "3000",
            "How long an idle stream thread sleeps in its poll, and how long the broker holds its consumer's empty "
                    + "fetch (classic group protocol; work wakes the thread at once). Longer costs less CPU while "
                    + "idle, and an idle instance can take up to about this long more to settle a rebalance",
            Setting.longRange(100, 10_000));
    public static final Setting<Integer> MAX_BATCHES_IN_FLIGHT = new Setting<>("max.batches.in.flight", "2",
            "Batches a task keeps in the engine at once: 2 decodes the next batch while the model runs the current "
                    + "one. A task buffers at most max.batch.size × (this + 1) records before its stream thread "
                    + "waits, boundedly, for room",
            Setting.intRange(1, 8));
    public static final Setting<String> BUFFER_CHANGELOG = new Setting<>("buffer.changelog", "offsets",
            "What the batch buffer's changelog keeps of a buffered record: offsets (where it is in its input topic; "
                    + "a restore reads it from there, so the input's retention must outlast an outage) or records "
                    + "(its bytes too, as before; set this while instances older than this setting still run)",
            Setting.oneOf("offsets", "records"));
    public static final Setting<String> PROCESSING_GUARANTEE = new Setting<>("processing.guarantee",
            "exactly_once_v2", "exactly_once_v2, or at_least_once (may label a record twice after a crash)",
            Setting.oneOf("exactly_once_v2", "at_least_once"));
    public static final Setting<Integer> NUM_STREAM_THREADS = new Setting<>("num.stream.threads", "1",
            "Kafka Streams threads per instance", Setting.intRange(1, 256));
    public static final Setting<Integer> OPS_PORT = new Setting<>("ops.port", "9400",
            "Port of the HTTP server with /metrics (Prometheus), /health/live and /health/ready; 0 picks a free"
                    + " port, -1 turns it off", Setting.intRange(-1, 65535));
    public static final Setting<Long> SHUTDOWN_TIMEOUT_MS = new Setting<>("shutdown.timeout.ms", "30000",
            "How long SIGTERM waits for the streams instance to commit and close before giving up",
            Setting.longRange(1000, 3_600_000));
    public static final Setting<String> STATE_DIR = new Setting<>("state.dir", "",
            "Kafka Streams state directory; empty uses a folder under java.io.tmpdir", Setting.anyText());
    public static final Setting<String> MODEL_PATH = new Setting<>("model.path", "",
            "ONNX image classifier file (required by run; demo generates a ResNet-18 when empty)",
            Setting.anyText());
    public static final Setting<String> MODEL_LABELS_PATH = new Setting<>("model.labels.path", "",
            "Class names, one per line or 'nXXXXXXXX name' synset lines, by output index; empty names classes"
                    + " class-0000…", Setting.anyText());
    public static final Setting<String> MODEL_NAME = new Setting<>("model.name", "",
            "Model name written to every output record; empty uses the model file's name", Setting.anyText());
    public static final Setting<String> MODEL_RELOAD = new Setting<>("model.reload", "none",
            "watch: when the content of model.path or model.labels.path changes, load and check the new model in the"
                    + " background and switch to it between batches, without a restart; none: never",
            Setting.oneOf("none", "watch"));
    public static final Setting<Long> MODEL_RELOAD_INTERVAL_MS = new Setting<>("model.reload.interval.ms", "5000",
            "With model.reload=watch, how often the model files' size, time and inode are looked at (content is"
                    + " hashed only when they change)", Setting.longRange(100, 3_600_000));
    public static final Setting<List<String>> MODELS_EXTRA = new Setting<>("models.extra", "",
            "Comma-separated names of side models that label every image besides the primary (model.path), from"
                    + " the same decoded batch; each is set up by the models.NAME.* settings",
            Setting.modelNames());
    public static final Setting<Integer> MODEL_TOP_K = new Setting<>("model.top.k", "5",
            "Labels per image, best first", Setting.intRange(1, 1000));
    public static final Setting<Integer> EXPLAIN_TOP = new Setting<>("explain.top", "0",
            "How many of an image's best labels carry a class activation map (at most model.top.k); the model must"
                    + " end in global average pooling and a linear classifier. 0: none", Setting.intRange(0, 1000));
    public static final Setting<String> MODEL_OUTPUT = new Setting<>("model.output", "auto",
            "Model output kind: logits (softmax applied), probabilities, or auto (softmax unless rows sum to 1)",
            Setting.oneOf("auto", "logits", "probabilities"));
    public static final Setting<Integer> MODEL_INTRA_OP_THREADS = new Setting<>("model.intra.op.threads", "1",
            "ONNX Runtime threads per inference call, per worker. With model.provider=cpu the cores are divided into "
                    + "workers of this many threads (default: one single-threaded worker per core); 0 is one worker "
                    + "with every core (with cpu:ids, the cores shared among those workers). Earlier builds defaulted "
                    + "to 0: an explicit cpu:ids layout on more than two cores that relied on sharing the cores sets "
                    + "0. GPU workers get this many threads for the operators ONNX Runtime keeps on the CPU",
            Setting.intRange(0, 1024));
    public static final Setting<Integer> MODEL_INTER_OP_THREADS = new Setting<>("model.inter.op.threads", "1",
            "ONNX Runtime threads running independent operators at once; 1 suits CNNs", Setting.intRange(1, 64));
    public static final Setting<String> MODEL_OPTIMIZATION = new Setting<>("model.optimization", "all",
            "ONNX Runtime graph optimization level: all, extended, basic or none",
            Setting.oneOf("all", "extended", "basic", "none"));
    public static final Setting<String> MODEL_OPTIMIZED_CACHE_DIR = new Setting<>("model.optimized.cache.dir", "",
            "Folder where the optimized model is kept and reused at the next start (same machine type); empty: off",
            Setting.anyText());
    public static final Setting<String> MODEL_PROVIDER = new Setting<>("model.provider", "cpu",
            "Where inference runs: cpu, cuda or tensorrt, with device ids each getting one worker, e.g. cuda:0,1,2,3;"
                    + " plain cpu is one worker per model.intra.op.threads cores; cpu:0,1 runs two CPU workers. A batch"
                    + " that finds several workers idle is split across them", Setting.pattern("(cpu|cuda|tensorrt)(:[0-9]{1,3}(,[0-9]{1,3})*)?",
                    "cpu, cuda or tensorrt, optionally with device ids, e.g. cuda:0,1"));
    public static final Setting<String> MODEL_PROVIDER_FALLBACK = new Setting<>("model.provider.fallback", "none",
            "none: a GPU provider that is unavailable stops start-up; cpu: run on the CPU instead, with a warning",
            Setting.oneOf("none", "cpu"));
    public static final Setting<String> PREPROCESS_PRESET = new Setting<>("preprocess.preset", "imagenet",
            "Preprocessing recipe: imagenet (shorter side 256, center crop 224, ImageNet mean/std) or cifar10"
                    + " (resize to 32×32, CIFAR-10 mean/std); the preprocess.* settings below override its parts",
            Setting.oneOf("imagenet", "cifar10"));
    public static final Setting<String> PREPROCESS_RESIZE = new Setting<>("preprocess.resize", "",
            "shorter:N (shorter side to N, then center crop) or exact (straight to the crop size); empty: preset's",
            Setting.optional(Setting.pattern("shorter:[1-9][0-9]{0,4}|exact", "shorter:N or exact")));
    public static final Setting<String> PREPROCESS_CROP = new Setting<>("preprocess.crop", "",
            "Model input size WxH (or N for N×N); must equal the model's input; empty: preset's",
            Setting.optional(Setting.pattern("[1-9][0-9]{0,4}(x[1-9][0-9]{0,4})?", "N or WxH, e.g. 224 or 320x240")));
    public static final Setting<String> PREPROCESS_SCALE = new Setting<>("preprocess.scale", "",
            "unit (pixels / 255, as torchvision) or byte (0–255, as Caffe); empty: preset's",
            Setting.optional(Setting.oneOf("unit", "byte")));
    public static final Setting<String> PREPROCESS_MEAN = new Setting<>("preprocess.mean", "",
            "Three per-channel means in the model's channel order, in the scale's units; empty: preset's",
            Setting.optional(Setting.floats(3, false)));
    public static final Setting<String> PREPROCESS_STD = new Setting<>("preprocess.std", "",
            "Three per-channel standard deviations (> 0), in the model's channel order; empty: preset's",
            Setting.optional(Setting.floats(3, true)));
    public static final Setting<String> PREPROCESS_CHANNEL_ORDER = new Setting<>("preprocess.channel.order", "",
            "rgb or bgr: the order the model expects its colour channels in; empty: preset's",
            Setting.optional(Setting.oneOf("rgb", "bgr")));
    public static final Setting<String> PREPROCESS_REDUCED_DECODE = new Setting<>("preprocess.reduced.decode", "true",
            "Decode images at least 4× larger than needed at a reduced resolution that keeps the shorter side at"
                    + " least 2× the resize size (JPEGs scaled by 1/2, 1/4 or 1/8 in the DCT domain with libjpeg-turbo;"
                    + " several times faster for 12 MP photos; slightly different from Pillow for those images only);"
                    + " false decodes everything in full",
            Setting.oneOf("true", "false"));
    public static final Setting<Integer> PREPROCESS_THREADS = new Setting<>("preprocess.threads", "0",
            "Threads decoding and preprocessing a batch's images in parallel; 0 uses one per core",
            Setting.intRange(0, 256));
    public static final Setting<String> FETCH_FILE_ROOTS = new Setting<>("fetch.file.roots", "",
            "Comma-separated folders that file:// image references may point into (no '..' or symlink escape);"
                    + " empty refuses file references", Setting.anyText());
    public static final Setting<String> FETCH_HTTP_HOSTS = new Setting<>("fetch.http.hosts", "",
            "Comma-separated host or host:port entries that http(s):// references (and their redirects) may reach;"
                    + " empty refuses http references", Setting.anyText());
    public static final Setting<String> FETCH_S3_BUCKETS = new Setting<>("fetch.s3.buckets", "",
            "Comma-separated buckets, or bucket/prefix entries (the keys in that folder), that s3:// references may"
                    + " read; any other is REFERENCE_REFUSED before a request is made; empty refuses s3 references",
            Setting.anyText());
    public static final Setting<String> FETCH_S3_REGION = new Setting<>("fetch.s3.region", "",
            "Region of the S3 client; empty: the AWS SDK's default region chain (AWS_REGION, the profile, instance"
                    + " metadata), or us-east-1 with fetch.s3.endpoint", Setting.anyText());
    public static final Setting<String> FETCH_S3_ENDPOINT = new Setting<>("fetch.s3.endpoint", "",
            "Endpoint URL of an S3-compatible store (MinIO, Ceph, R2), e.g. http://minio:9000; empty: AWS's endpoint"
                    + " for the region", Setting.anyText());
    public static final Setting<String> FETCH_S3_PATH_STYLE = new Setting<>("fetch.s3.path.style", "false",
            "true: address buckets as endpoint/bucket/key rather than bucket.endpoint/key (most S3-compatible stores"
                    + " need it)", Setting.oneOf("true", "false"));
    public static final Setting<Integer> FETCH_TIMEOUT_MS = new Setting<>("fetch.timeout.ms", "5000",
            "Total time one reference fetch may take, connecting included", Setting.intRange(100, 600_000));
    public static final Setting<Integer> FETCH_THREADS = new Setting<>("fetch.threads", "8",
            "References of one batch fetched at once", Setting.intRange(1, 256));
    public static final Setting<Long> IMAGE_MAX_BYTES = new Setting<>("image.max.bytes", "20971520",
            "Largest encoded image accepted, inline or fetched; larger ones fail with TOO_LARGE", Setting.longRange(1, Integer.MAX_VALUE));
    public static final Setting<Long> IMAGE_MAX_PIXELS = new Setting<>("image.max.pixels", "40000000",
            "Largest width × height accepted, read from the header before decoding; larger fail with TOO_LARGE",
            Setting.longRange(1, 1_000_000_000L));
    public static final Setting<String> IMAGE_JPEG_DECODER = new Setting<>("image.jpeg.decoder", "auto",
            "Library that decodes JPEGs: libjpeg-turbo (the system's libturbojpeg, as Pillow uses; about 2× faster"
                    + " and pixel-identical to Pillow), jdk (ImageIO), or auto: libjpeg-turbo when installed;"
                    + " CMYK/YCCK JPEGs always go to ImageIO", Setting.oneOf("auto", "libjpeg-turbo", "jdk"));

    public static final Setting<String> SCHEMA_REGISTRY_URL = new Setting<>("schema.registry.url", "",
            "Comma-separated URLs of a Confluent-compatible schema registry (Confluent Schema Registry, Apicurio's"
                    + " /apis/ccompat/v7, Karapace, Redpanda). Set: every output is Confluent-framed Avro under the id"
                    + " its schema has in subject TOPIC-value, and inputs in that framing are read by their writer"
                    + " schema; empty: Avro single-object encoding only", Setting.anyText());
    public static final Setting<String> SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO = new Setting<>(
            "schema.registry.basic.auth.user.info", "",
            "user:password for HTTP Basic authentication to the schema registry (a secret: masked, never logged)",
            Setting.anyText());
    public static final Setting<String> SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION = new Setting<>(
            "schema.registry.ssl.truststore.location", "",
            "Trust store with the certificates that https registry URLs are trusted by; empty: the JDK's default",
            Setting.anyText());
    public static final Setting<String> SCHEMA_REGISTRY_SSL_TRUSTSTORE_PASSWORD = new Setting<>(
            "schema.registry.ssl.truststore.password", "", "Password of that trust store (a secret)",
            Setting.anyText());
    public static final Setting<String> SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE = new Setting<>(
            "schema.registry.ssl.truststore.type", "PKCS12", "PKCS12 or JKS", Setting.oneOf("PKCS12", "JKS"));
    public static final Setting<String> SCHEMA_REGISTRY_AUTO_REGISTER = new Setting<>(
            "schema.registry.auto.register", "true",
            "true: register labelstream's output schemas under their subjects at start-up; false: they must be"
                    + " registered already, and start-up stops naming a subject that lacks its schema",
            Setting.oneOf("true", "false"));
    public static final Setting<Integer> SCHEMA_REGISTRY_TIMEOUT_MS = new Setting<>("schema.registry.timeout.ms",
            "5000", "How long one request to the schema registry may take, connecting included; one that takes"
                    + " longer counts as no answer, and is asked again", Setting.intRange(100, 600_000));
    public static final Setting<Long> SCHEMA_REGISTRY_RETRY_BACKOFF_MAX_MS = new Setting<>(
            "schema.registry.retry.backoff.max.ms", "10000",
            "Longest wait between two asks while the registry gives no answer (the wait doubles from 100 ms)",
            Setting.longRange(100, 600_000));

    /** Stands for a side model's name in the keys of {@link #SIDE_MODEL}. */
    public static final String SIDE_MODEL_PLACEHOLDER = "NAME";
    public static final Setting<String> SIDE_MODEL_PATH = new Setting<>("models.NAME.path", "",
            "Side model NAME's ONNX file (required for every name in models.extra); its input must fit its recipe"
                    + " (the primary's, or its own from models.NAME.preprocess.*)", Setting.anyText());
    public static final Setting<String> SIDE_MODEL_LABELS = new Setting<>("models.NAME.labels", "",
            "Side model NAME's class names, as model.labels.path; empty names classes class-0000…",
            Setting.anyText());
    public static final Setting<String> SIDE_MODEL_TOPIC = new Setting<>("models.NAME.topic", "",
            "Topic of side model NAME's ImageLabels records; empty: labels.topic followed by '-NAME'",
            Setting.optional(Setting.topic()));
    public static final Setting<Integer> SIDE_MODEL_TOP_K = new Setting<>("models.NAME.top.k", "5",
            "Labels per image side model NAME writes, best first", Setting.intRange(1, 1000));
    public static final Setting<Integer> SIDE_MODEL_EXPLAIN_TOP = new Setting<>("models.NAME.explain.top", "0",
            "As explain.top, for side model NAME (at most models.NAME.top.k)", Setting.intRange(0, 1000));
    public static final Setting<String> SIDE_MODEL_SHADOW = new Setting<>("models.NAME.shadow", "false",
            "true: NAME is a candidate evaluated on live traffic: its labels go to its topic, it never flags an"
                    + " image, and metrics compare it with the primary", Setting.oneOf("true", "false"));
    public static final Setting<String> SIDE_MODEL_PREPROCESS_PRESET = sideRecipe(PREPROCESS_PRESET,
            "Side model NAME's own recipe (imagenet or cifar10), from the image the primary decoded; empty, with"
                    + " no other models.NAME.preprocess.* set: the primary's recipe and batch tensor");
    public static final Setting<String> SIDE_MODEL_PREPROCESS_RESIZE = sideRecipe(PREPROCESS_RESIZE,
            "As preprocess.resize, for side model NAME's own recipe");
    public static final Setting<String> SIDE_MODEL_PREPROCESS_CROP = sideRecipe(PREPROCESS_CROP,
            "As preprocess.crop, for side model NAME's own recipe");
    public static final Setting<String> SIDE_MODEL_PREPROCESS_SCALE = sideRecipe(PREPROCESS_SCALE,
            "As preprocess.scale, for side model NAME's own recipe");
    public static final Setting<String> SIDE_MODEL_PREPROCESS_MEAN = sideRecipe(PREPROCESS_MEAN,
            "As preprocess.mean, for side model NAME's own recipe");
    public static final Setting<String> SIDE_MODEL_PREPROCESS_STD = sideRecipe(PREPROCESS_STD,
            "As preprocess.std, for side model NAME's own recipe");
    public static final Setting<String> SIDE_MODEL_PREPROCESS_CHANNEL_ORDER = sideRecipe(PREPROCESS_CHANNEL_ORDER,
            "As preprocess.channel.order, for side model NAME's own recipe");
    /** The settings of each side model NAME listed in {@link #MODELS_EXTRA}, as {@code models.NAME.*}. */
    public static final List<Setting<?>> SIDE_MODEL = List.of(SIDE_MODEL_PATH, SIDE_MODEL_LABELS, SIDE_MODEL_TOPIC,
            SIDE_MODEL_TOP_K, SIDE_MODEL_EXPLAIN_TOP, SIDE_MODEL_SHADOW, SIDE_MODEL_PREPROCESS_PRESET, SIDE_MODEL_PREPROCESS_RESIZE,
            SIDE_MODEL_PREPROCESS_CROP, SIDE_MODEL_PREPROCESS_SCALE, SIDE_MODEL_PREPROCESS_MEAN,
            SIDE_MODEL_PREPROCESS_STD, SIDE_MODEL_PREPROCESS_CHANNEL_ORDER);

    /** {@code models.NAME.<primary's key>}, empty by default, otherwise parsed as the primary's setting is. */
    private static Setting<String> sideRecipe(Setting<String> primary, String description) {
        return new Setting<>("models." + SIDE_MODEL_PLACEHOLDER + "." + primary.key(), "", description,
                Setting.optional(primary.parser()));
    }

    public static final List<Setting<?>> ALL = List.of(BOOTSTRAP_SERVERS, APPLICATION_ID, INPUT_TOPICS,
            INPUT_TOPIC_PATTERN, LABELS_TOPIC, FAILURES_TOPIC, FLAGGED_TOPIC, LABELS_FLAT_TOPIC, LABELS_RANKS_TOPIC,
            REVIEWS_TOPIC, REVIEW_BIND, REVIEW_TOKEN, REVIEW_SESSION_TIMEOUT, MODERATION_RULES, MODERATION_EXPLAIN,
            DEDUP_ENABLED, DEDUP_MAX_ENTRIES, DEDUP_MAX_AGE_MS, TOPICS_CREATE, TOPICS_PARTITIONS, TOPICS_REPLICATION_FACTOR,
            MAX_BATCH_SIZE, MAX_BATCH_DELAY_MS, MAX_BATCHES_IN_FLIGHT, IDLE_POLL_MS, BUFFER_CHANGELOG, PROCESSING_GUARANTEE, NUM_STREAM_THREADS, OPS_PORT,
            SHUTDOWN_TIMEOUT_MS, STATE_DIR, MODEL_PATH,
            MODEL_LABELS_PATH, MODEL_NAME, MODEL_RELOAD, MODEL_RELOAD_INTERVAL_MS, MODELS_EXTRA, MODEL_TOP_K, EXPLAIN_TOP, MODEL_OUTPUT, MODEL_INTRA_OP_THREADS, MODEL_INTER_OP_THREADS,
            MODEL_OPTIMIZATION, MODEL_OPTIMIZED_CACHE_DIR, MODEL_PROVIDER, MODEL_PROVIDER_FALLBACK, PREPROCESS_PRESET,
            PREPROCESS_RESIZE, PREPROCESS_CROP, PREPROCESS_SCALE, PREPROCESS_MEAN, PREPROCESS_STD,
            PREPROCESS_CHANNEL_ORDER, PREPROCESS_REDUCED_DECODE, PREPROCESS_THREADS, FETCH_FILE_ROOTS, FETCH_HTTP_HOSTS,
            FETCH_S3_BUCKETS, FETCH_S3_REGION, FETCH_S3_ENDPOINT, FETCH_S3_PATH_STYLE, FETCH_TIMEOUT_MS, FETCH_THREADS, IMAGE_MAX_BYTES, IMAGE_MAX_PIXELS,
            IMAGE_JPEG_DECODER, SCHEMA_REGISTRY_URL, SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO,
            SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION, SCHEMA_REGISTRY_SSL_TRUSTSTORE_PASSWORD,
            SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE, SCHEMA_REGISTRY_AUTO_REGISTER, SCHEMA_REGISTRY_TIMEOUT_MS,
            SCHEMA_REGISTRY_RETRY_BACKOFF_MAX_MS);

    private Settings() {
    }
}
