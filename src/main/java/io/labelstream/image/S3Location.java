package io.labelstream.image;


/**
 * An object in S3, or a prefix of keys, as written {@code s3://bucket/key}. The key is taken as written, not
 * percent-decoded, as the AWS CLI prints and takes them: {@code s3://photos/2026/a b.jpg} is the key
 * {@code 2026/a b.jpg}.
 *
 * @param key the object's key, or a prefix of keys; empty for the whole bucket
 */
public record S3Location(String bucket, String key) {

    public static final String SCHEME = "s3://";

    /** Whether {@code text} is an s3:// reference, whatever the case of its scheme. */
    public static boolean isS3(String text) {
        return text.strip().regionMatches(true, 0, SCHEME, 0, SCHEME.length());
    }

    /**
     * Parses {@code s3://bucket/key}, {@code s3://bucket/prefix/} or {@code s3://bucket}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static S3Location parse(String text) {
        String s = text.strip();
        if (!isS3(s)) {
            throw new IllegalArgumentException("not an s3:// reference: " + text);
        }
        String rest = s.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String key = slash < 0 ? "" : rest.substring(slash + 1);
        // S3's bucket naming rules: 3–63 of lower-case letters, digits, dots and hyphens.
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new IllegalArgumentException("'" + bucket + "' in " + text + " is not a valid S3 bucket name");
        }
        return new S3Location(bucket, key);
    }

    /** Whether this object lies in {@code area}: the same bucket, its key starting with the area's prefix. */
    public boolean isIn(S3Location area) {
        return bucket.equals(area.bucket) && key.startsWith(area.key);
    }

    @Override
    public String toString() {
        return SCHEME + bucket + "/" + key;
    }
}
