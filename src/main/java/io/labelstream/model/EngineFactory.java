package io.labelstream.model;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Setting;
import io.labelstream.config.Settings;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.JpegDecoding;
import io.labelstream.image.PreprocessRecipe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Stream;

/** Builds the {@link LabelingEngine} a configuration describes, failing with the name of the setting at fault. */
public final class EngineFactory {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EngineFactory.class);

    private EngineFactory() {
    }

    /**
     * As {@link #create(LabelstreamConfig, Duration)}, with {@link LabelingEngine#DEFAULT_ISOLATION_BUDGET}: for a
     * caller that has no deadline for a batch.
     */
    public static LabelingEngine create(LabelstreamConfig config) {
        return create(config, LabelingEngine.DEFAULT_ISOLATION_BUDGET);
    }

    /**
     * @param isolationBudget how long the bisection of a failed batch may take before the images it has not isolated
     *                        yet are failed: a caller labeling inside Kafka transactions passes their timeout
     */
    public static LabelingEngine create(LabelstreamConfig config, Duration isolationBudget) {
        String modelPath = config.get(Settings.MODEL_PATH);
        if (modelPath.isEmpty()) {
            throw new ConfigException("Setting " + Settings.MODEL_PATH.key() + " is required: the ONNX model to run"
                    + " (make one offline with 'labelstream model generate --arch resnet50 --out model.onnx')");
        }
        Path model = Path.of(modelPath);
        if (!Files.isRegularFile(model)) {
            throw ConfigException.invalid(Settings.MODEL_PATH.key(), modelPath, "no such file");
        }
        String labelsPath = config.get(Settings.MODEL_LABELS_PATH);
        Path labels = labelsPath.isEmpty() ? null : Path.of(labelsPath);
        if (labels != null && !Files.isRegularFile(labels)) {
            throw ConfigException.invalid(Settings.MODEL_LABELS_PATH.key(), labelsPath, "no such file");
        }
        PreprocessRecipe recipe = recipe(config);
        JpegDecoding jpegDecoding = jpegDecoding(config);
        LoadedModel loaded;
        try {
            loaded = LoadedModel.load(model, labels, config.get(Settings.MODEL_NAME), sessionSettings(config),
                    explain(config, null));
        } catch (ModelException | IOException e) {
            throw explainRefused(config, null, modelPath, e).orElseGet(() -> new ConfigException("Cannot use " + Settings.MODEL_PATH.key() + "=" + modelPath
                    + (labels == null ? "" : " with " + Settings.MODEL_LABELS_PATH.key() + "=" + labelsPath)
                    + ": " + e.getMessage()));
        }
        ModelInput input = loaded.input();
        if (recipe.cropWidth() != input.width() || recipe.cropHeight() != input.height()) {
            loaded.close();
            throw new ConfigException("Settings " + Settings.PREPROCESS_PRESET.key() + "="
                    + config.get(Settings.PREPROCESS_PRESET) + " / " + Settings.PREPROCESS_CROP.key() + " make "
                    + recipe.cropWidth() + "x" + recipe.cropHeight() + " inputs, but model " + modelPath + " takes "
                    + input.width() + "x" + input.height() + ": set " + Settings.PREPROCESS_CROP.key() + "="
                    + input.width() + "x" + input.height() + " or pick the model's preset");
        }
        int threads = config.get(Settings.PREPROCESS_THREADS);
        LabelingEngine engine = new LabelingEngine(loaded, preprocessor(config, recipe, jpegDecoding, input),
                config.get(Settings.MODEL_TOP_K), Scores.OutputKind.parse(config.get(Settings.MODEL_OUTPUT)),
                threads == 0 ? Runtime.getRuntime().availableProcessors() : threads, isolationBudget);
        try {
            for (String name : config.get(Settings.MODELS_EXTRA)) {
                addSideModel(config, engine, name);
            }
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        return engine;
    }

    /** Loads side model {@code name} (its models.NAME.* settings) into {@code engine}. */
    private static void addSideModel(LabelstreamConfig config, LabelingEngine engine, String name) {
        String pathKey = Settings.SIDE_MODEL_PATH.forModel(name).key();
        String labelsKey = Settings.SIDE_MODEL_LABELS.forModel(name).key();
        String modelPath = config.sideModel(name, Settings.SIDE_MODEL_PATH);
        if (modelPath.isEmpty()) {
            throw new ConfigException("Setting " + pathKey + " is required: " + Settings.MODELS_EXTRA.key()
                    + " lists a side model '" + name + "'");
        }
        Path model = Path.of(modelPath);
        if (!Files.isRegularFile(model)) {
            throw ConfigException.invalid(pathKey, modelPath, "no such file");
        }
        String labelsPath = config.sideModel(name, Settings.SIDE_MODEL_LABELS);
        Path labels = labelsPath.isEmpty() ? null : Path.of(labelsPath);
        if (labels != null && !Files.isRegularFile(labels)) {
            throw ConfigException.invalid(labelsKey, labelsPath, "no such file");
        }
        LoadedModel loaded;
        try {
            loaded = LoadedModel.load(model, labels, name, sessionSettings(config), explain(config, name));
        } catch (ModelException | IOException e) {
            throw explainRefused(config, name, modelPath, e).orElseGet(() -> new ConfigException("Cannot use "
                    + pathKey + "=" + modelPath + (labels == null ? "" : " with " + labelsKey + "=" + labelsPath)
                    + ": " + e.getMessage()));
        }
        PreprocessRecipe own = sideRecipe(config, name);
        try {
            checkShadowClasses(config, engine.primaryModel().labels(), java.util.Map.of(name, loaded.labels()));
            engine.addSideModel(name, loaded, config.sideModel(name, Settings.SIDE_MODEL_TOP_K),
                    preprocessor(config, own == null ? recipe(config) : own, jpegDecoding(config), loaded.input()));
        } catch (IllegalArgumentException e) {
            loaded.close();
            throw new ConfigException("Setting " + pathKey + "=" + modelPath + ": " + e.getMessage() + (own == null
                    ? " (it shares the primary's recipe: give it its own with models." + name + ".preprocess.*)"
                    : " (its recipe is set by models." + name + ".preprocess.*)"));
        }
    }

    /**
     * Which labels of the primary ({@code side} null) or of side model {@code side} carry class activation maps:
     * the best {@code explain.top} (or {@code models.NAME.explain.top}), and those a moderation rule fires on when
     * {@code moderation.explain} is on and there are rules (a shadow never flags).
     *
     * @throws ConfigException when explain.top exceeds the labels the model writes
     */
    public static ExplainSettings explain(LabelstreamConfig config, String side) {
        Setting<Integer> top = side == null ? Settings.EXPLAIN_TOP : Settings.SIDE_MODEL_EXPLAIN_TOP.forModel(side);
        Setting<Integer> topK = side == null ? Settings.MODEL_TOP_K : Settings.SIDE_MODEL_TOP_K.forModel(side);
        int explained = side == null ? config.get(Settings.EXPLAIN_TOP)
                : config.sideModel(side, Settings.SIDE_MODEL_EXPLAIN_TOP);
        int labels = side == null ? config.get(Settings.MODEL_TOP_K) : config.sideModel(side, Settings.SIDE_MODEL_TOP_K);
        if (explained > labels) {
            throw ConfigException.invalid(top.key(), Integer.toString(explained), "a map goes on one of the labels"
                    + " written, and " + topK.key() + " is " + labels);
        }
        boolean shadow = side != null && Boolean.parseBoolean(config.sideModel(side, Settings.SIDE_MODEL_SHADOW));
        boolean forFlags = Boolean.parseBoolean(config.get(Settings.MODERATION_EXPLAIN)) && !shadow
                && !config.get(Settings.MODERATION_RULES).isBlank();
        return new ExplainSettings(explained, forFlags);
    }

    /** The start-up error naming explain.top, when it is what the model could not be loaded for. */
    private static java.util.Optional<ConfigException> explainRefused(LabelstreamConfig config, String side,
                                                                       String modelPath, Exception e) {
        ExplainSettings explain = explain(config, side);
        if (explain.top() == 0 || !(e instanceof ModelException) || !e.getMessage().contains("class activation maps")) {
            return java.util.Optional.empty();
        }
        String key = side == null ? Settings.EXPLAIN_TOP.key() : Settings.SIDE_MODEL_EXPLAIN_TOP.forModel(side).key();
        return java.util.Optional.of(ConfigException.invalid(key, Integer.toString(explain.top()), "model "
                + modelPath + " cannot be explained: " + e.getMessage() + "; set " + key + "=0"));
    }

    /**
     * A shadow is compared with the primary image by image, class by class: each shadow among {@code sides} must
     * have the primary's number of classes. At start-up and for every reloaded model, primary or side.
     *
     * @throws IllegalArgumentException naming the shadow's setting
     */
    public static void checkShadowClasses(LabelstreamConfig config, LabelSet primary, java.util.Map<String, LabelSet> sides) {
        sides.forEach((name, labels) -> {
            if (Boolean.parseBoolean(config.sideModel(name, Settings.SIDE_MODEL_SHADOW))
                    && labels.size() != primary.size()) {
                throw new IllegalArgumentException("shadow " + name + " has " + labels.size() + " classes, but "
                        + Settings.SIDE_MODEL_SHADOW.forModel(name).key() + "=true compares it with the primary, which"
                        + " has " + primary.size());
            }
        });
    }

    /**
     * With {@code model.reload=watch}, a watcher of the primary's model files and one of each side model's, each
     * swapping its model in {@code engine} when its files change; none with {@code none}.
     *
     * @param checks the caller's own check of a candidate for the side model of that name (null: the primary)
     */
    public static java.util.List<ModelReloader> reloaders(LabelstreamConfig config, LabelingEngine engine,
                                                          Function<String, ModelReloader.Check> checks,
                                                          ModelReloader.Listener listener) {
        if (!config.get(Settings.MODEL_RELOAD).equals("watch")) {
            return java.util.List.of();
        }
        java.time.Duration interval = java.time.Duration.ofMillis(config.get(Settings.MODEL_RELOAD_INTERVAL_MS));
        int warmUp = config.get(Settings.MAX_BATCH_SIZE);
        java.util.List<ModelReloader> reloaders = new java.util.ArrayList<>();
        try {
            String labels = config.get(Settings.MODEL_LABELS_PATH);
            reloaders.add(ModelReloader.start(new ModelReloader.Watched(Path.of(config.get(Settings.MODEL_PATH)),
                    labels.isEmpty() ? null : Path.of(labels), config.get(Settings.MODEL_NAME),
                    sessionSettings(config), warmUp, interval, null, explain(config, null)), engine,
                    checks.apply(null), listener));
            for (String name : config.get(Settings.MODELS_EXTRA)) {
                String sideLabels = config.sideModel(name, Settings.SIDE_MODEL_LABELS);
                reloaders.add(ModelReloader.start(new ModelReloader.Watched(
                        Path.of(config.sideModel(name, Settings.SIDE_MODEL_PATH)),
                        sideLabels.isEmpty() ? null : Path.of(sideLabels), name, sessionSettings(config), warmUp,
                        interval, name, explain(config, name)), engine, checks.apply(name), listener));
            }
        } catch (RuntimeException e) {
            // The caller gets none to close: those already watching stop here rather than swap models unowned.
            reloaders.forEach(ModelReloader::close);
            throw e;
        }
        return reloaders;
    }

    /** The preprocessing the configuration describes, for a model taking {@code input}: what the pipeline runs. */
    public static ImagePreprocessor preprocessor(LabelstreamConfig config, ModelInput input) {
        return preprocessor(config, recipe(config), jpegDecoding(config), input);
    }

    private static ImagePreprocessor preprocessor(LabelstreamConfig config, PreprocessRecipe recipe,
                                                  JpegDecoding jpegDecoding, ModelInput input) {
        ImageDecoder decoder = new ImageDecoder(ImageLimits.of(config), jpegDecoding);
        return new ImagePreprocessor(recipe, decoder, input.layout());
    }

    /** The JPEG decoder {@code image.jpeg.decoder} asks for; start-up stops if it names one that cannot be loaded. */
    static JpegDecoding jpegDecoding(LabelstreamConfig config) {
        String value = config.get(Settings.IMAGE_JPEG_DECODER);
        try {
            JpegDecoding decoding = JpegDecoding.of(value);
            log.info(decoding.describe());
            return decoding;
        } catch (IllegalStateException e) {
            throw ConfigException.invalid(Settings.IMAGE_JPEG_DECODER.key(), value, e.getMessage()
                    + ", or set it to auto or jdk");
        }
    }

    static SessionSettings sessionSettings(LabelstreamConfig config) {
        String cache = config.get(Settings.MODEL_OPTIMIZED_CACHE_DIR);
        int threads = config.get(Settings.MODEL_INTRA_OP_THREADS);
        return new SessionSettings(threads, config.get(Settings.MODEL_INTER_OP_THREADS),
                config.get(Settings.MODEL_OPTIMIZATION), cache.isEmpty() ? null : Path.of(cache),
                ExecutionProvider.parse(config.get(Settings.MODEL_PROVIDER), Runtime.getRuntime().availableProcessors(),
                        threads),
                config.get(Settings.MODEL_PROVIDER_FALLBACK).equals("cpu"));
    }

    /** The preset named by {@code preprocess.preset}, with each {@code preprocess.*} override applied. */
    public static PreprocessRecipe recipe(LabelstreamConfig config) {
        return recipe(config::get, config.get(Settings.PREPROCESS_PRESET), config, s -> s);
    }

    /**
     * Side model {@code name}'s own recipe from its {@code models.NAME.preprocess.*} settings (its preset, by
     * default the primary's, with its own overrides only), or null when none is set: it shares the primary's.
     */
    public static PreprocessRecipe sideRecipe(LabelstreamConfig config, String name) {
        Function<Setting<String>, String> get = s -> config.sideModel(name, sideTemplate(s));
        boolean own = Stream.of(Settings.PREPROCESS_PRESET, Settings.PREPROCESS_RESIZE,
                        Settings.PREPROCESS_CROP, Settings.PREPROCESS_SCALE, Settings.PREPROCESS_MEAN,
                        Settings.PREPROCESS_STD, Settings.PREPROCESS_CHANNEL_ORDER)
                .anyMatch(s -> !get.apply(s).isEmpty());
        if (!own) {
            return null;
        }
        String preset = get.apply(Settings.PREPROCESS_PRESET);
        return recipe(get, preset.isEmpty() ? config.get(Settings.PREPROCESS_PRESET) : preset, config,
                s -> sideTemplate(s).forModel(name));
    }

    /** {@code models.NAME.preprocess.X}, the side model template of primary setting {@code preprocess.X}. */
    @SuppressWarnings("unchecked")
    private static Setting<String> sideTemplate(Setting<String> primary) {
        String key = "models." + Settings.SIDE_MODEL_PLACEHOLDER + "." + primary.key();
        return (Setting<String>) Settings.SIDE_MODEL.stream().filter(t -> t.key().equals(key)).findFirst()
                .orElseThrow();
    }

    /**
     * {@code presetName}'s recipe with the overrides {@code get} reads; {@code keyOf} names, for error messages,
     * the setting a primary {@code preprocess.*} setting corresponds to.
     */
    private static PreprocessRecipe recipe(Function<Setting<String>, String> get, String presetName,
                                           LabelstreamConfig config,
                                           Function<Setting<String>, Setting<String>> keyOf) {
        PreprocessRecipe preset = PreprocessRecipe.preset(presetName);
        PreprocessRecipe.ResizeMode mode = preset.resizeMode();
        int resizeSize = preset.resizeSize();
        String resize = get.apply(Settings.PREPROCESS_RESIZE);
        if (resize.equals("exact")) {
            mode = PreprocessRecipe.ResizeMode.EXACT;
        } else if (!resize.isEmpty()) {
            mode = PreprocessRecipe.ResizeMode.SHORTER_SIDE;
            resizeSize = Integer.parseInt(resize.substring("shorter:".length()));
        }
        int cropW = preset.cropWidth();
        int cropH = preset.cropHeight();
        String crop = get.apply(Settings.PREPROCESS_CROP);
        if (!crop.isEmpty()) {
            String[] wh = crop.split("x");
            cropW = Integer.parseInt(wh[0]);
            cropH = Integer.parseInt(wh[wh.length - 1]);
        }
        String scale = get.apply(Settings.PREPROCESS_SCALE);
        String mean = get.apply(Settings.PREPROCESS_MEAN);
        String std = get.apply(Settings.PREPROCESS_STD);
        String order = get.apply(Settings.PREPROCESS_CHANNEL_ORDER);
        boolean overridden = !(resize + crop + scale + mean + std + order).isEmpty();
        try {
            return new PreprocessRecipe(overridden ? preset.name() + "+custom" : preset.name(), mode, resizeSize,
                    cropW, cropH,
                    scale.isEmpty() ? preset.scale() : PreprocessRecipe.PixelScale.valueOf(scale.toUpperCase(Locale.ROOT)),
                    mean.isEmpty() ? preset.mean() : Setting.parseFloats(mean),
                    std.isEmpty() ? preset.std() : Setting.parseFloats(std),
                    order.isEmpty() ? preset.channelOrder()
                            : PreprocessRecipe.ChannelOrder.valueOf(order.toUpperCase(Locale.ROOT)),
                    Boolean.parseBoolean(config.get(Settings.PREPROCESS_REDUCED_DECODE)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("Settings " + keyOf.apply(Settings.PREPROCESS_RESIZE).key() + "='" + resize
                    + "' and " + keyOf.apply(Settings.PREPROCESS_CROP).key() + "='" + crop + "' do not fit together: "
                    + e.getMessage());
        }
    }
}
