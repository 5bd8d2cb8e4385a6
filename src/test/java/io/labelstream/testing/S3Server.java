package io.labelstream.testing;

import io.labelstream.image.S3Store;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.net.URI;
import java.time.Duration;

/**
 * A real S3 API server in this JVM: s3proxy over jclouds' in-memory store, with AWS signature checks, on a free
 * port. Objects are put straight into the store.
 */
public final class S3Server implements AutoCloseable {

    public static final String ACCESS_KEY = "labelstream-test";
    public static final String SECRET_KEY = "labelstream-test-secret";

    private final BlobStoreContext context;
    private final S3Proxy proxy;

    private S3Server(BlobStoreContext context, S3Proxy proxy) {
        this.context = context;
        this.proxy = proxy;
    }

    public static S3Server start() throws Exception {
        BlobStoreContext context = ContextBuilder.newBuilder("transient").credentials("identity", "credential")
                .build(BlobStoreContext.class);
        S3Proxy proxy = S3Proxy.builder().blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
        // A start-up poll inside the harness, not a test's wait: s3proxy only says STARTED, and on failure the
        // context must be closed here, which Awaitility's time-out would not do.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                proxy.stop();
                context.close();
                throw new IllegalStateException("s3proxy did not start in 60 s: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        return new S3Server(context, proxy);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    public S3Server bucket(String bucket) {
        context.getBlobStore().createContainerInLocation(null, bucket);
        return this;
    }

    public S3Server put(String bucket, String key, byte[] bytes) {
        BlobStore store = context.getBlobStore();
        store.putBlob(bucket, store.blobBuilder(key).payload(bytes).contentLength(bytes.length).build());
        return this;
    }

    /** How a client reaches this server with {@code access} / {@code secret}, path-style, each call within {@code timeout}. */
    public S3Store.Settings settings(String access, String secret, Duration timeout) {
        return new S3Store.Settings("us-east-1", endpoint(), true,
                StaticCredentialsProvider.create(AwsBasicCredentials.create(access, secret)), timeout);
    }

    public S3Store.Settings settings() {
        return settings(ACCESS_KEY, SECRET_KEY, Duration.ofSeconds(30));
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        context.close();
    }
}
