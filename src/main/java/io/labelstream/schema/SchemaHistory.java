package io.labelstream.schema;

import org.apache.avro.Schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the older published versions of a record's schema, stored as classpath resources
 * {@code <folder>/<Name>-v1.avsc}, {@code -v2.avsc}, … (the build copies {@code schemas/history} there).
 */
public final class SchemaHistory {

    public static final String DEFAULT_FOLDER = "labelstream/schema-history";

    private SchemaHistory() {
    }

    public static List<Schema> load(ClassLoader loader, String folder, String recordName) {
        List<Schema> schemas = new ArrayList<>();
        for (int version = 1; ; version++) {
            String resource = folder + "/" + recordName + "-v" + version + ".avsc";
            try (InputStream in = loader.getResourceAsStream(resource)) {
                if (in == null) {
                    return schemas;
                }
                schemas.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read schema history resource " + resource, e);
            }
        }
    }
}
