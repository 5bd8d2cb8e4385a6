package io.labelstream.schema;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to instantiate classes it does not trust (a guard against deserialization gadgets),
 * including generated record classes outside its default list. labelstream adds exactly its own schema
 * package to whatever policy is in force, through Avro's API rather than a global system property.
 */
final class TrustedPackages {

    private static final String OURS = "io.labelstream.schema";
    private static boolean installed;

    private TrustedPackages() {
    }

    static synchronized void ensure() {
        if (installed) {
            return;
        }
        ClassSecurityValidator.ClassSecurityPredicate ours = type ->
                type.getPackageName().equals(OURS) || type.getPackageName().startsWith(OURS + ".");
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), ours));
        installed = true;
    }
}
