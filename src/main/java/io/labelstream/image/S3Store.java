package io.labelstream.image;

import io.labelstream.schema.FailureReason;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Iterator;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Objects in S3 or an S3-compatible store (MinIO, Ceph, R2…), through the AWS SDK for Java v2: one long-lived
 * client, credentials from the SDK's default chain (environment, system properties, web identity, profile,
 * container or instance role) unless given. Reads an object within a deadline and a size cap, and lists a prefix.
 */
public final class S3Store implements AutoCloseable {

    /**
     * How to reach the store.
     *
     * @param region      the client's region; null: the SDK's default region chain
     * @param endpoint    an S3-compatible store's endpoint; null: AWS's for the region
     * @param pathStyle   address buckets as {@code endpoint/bucket/key} instead of {@code bucket.endpoint/key}
     * @param credentials null: the SDK's default credentials chain
     * @param timeout     the longest one request may take, retries included, unless a call gives a shorter one
     */
    public record Settings(String region, URI endpoint, boolean pathStyle, AwsCredentialsProvider credentials,
                           Duration timeout) {
    }

    /** The SDK's region chain found nothing: the caller names its own setting. */
    public static final class NoRegionException extends IllegalStateException {
        NoRegionException(String message) {
            super(message);
        }
    }

    private final S3Client client;

    /** @throws NoRegionException when no region is given and the SDK's chain finds none, with no endpoint set */
    public S3Store(Settings settings) {
        S3ClientBuilder builder = S3Client.builder()
                .region(region(settings))
                .endpointOverride(settings.endpoint())
                .forcePathStyle(settings.pathStyle())
                .credentialsProvider(settings.credentials() != null ? settings.credentials()
                        : DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(settings.timeout())
                        .socketTimeout(settings.timeout())
                        .build())
                .overrideConfiguration(c -> c.apiCallTimeout(settings.timeout()));
        if (settings.endpoint() != null) {
            // The SDK asks for and sends flexible checksums by default since 2.30, headers that S3-compatible stores
            // (s3proxy, older MinIO and Ceph) answer with NotImplemented; they are sent only where S3 requires them.
            builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        this.client = builder.build();
    }

    private static Region region(Settings settings) {
        if (settings.region() != null && !settings.region().isBlank()) {
            return Region.of(settings.region().strip());
        }
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkException e) {
            if (settings.endpoint() != null) {
                return Region.US_EAST_1; // S3-compatible stores sign with it and ignore it
            }
            throw new NoRegionException("no AWS region found (AWS_REGION, aws.region, the profile or instance "
                    + "metadata): " + e.getMessage());
        }
    }

    /**
     * The object's bytes, read by {@code deadline} ({@link System#nanoTime()}), at most {@code maxBytes}.
     *
     * @throws ImageRejectedException FETCH_FAILED with S3's error code (NoSuchKey, AccessDenied, SlowDown after the
     *                                SDK's retries…), or on time-out; TOO_LARGE above {@code maxBytes}
     */
    public byte[] get(S3Location object, long deadline, long maxBytes, int timeoutMs) throws ImageRejectedException {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            throw timedOut(object, timeoutMs);
        }
        GetObjectRequest request = GetObjectRequest.builder().bucket(object.bucket()).key(object.key())
                .overrideConfiguration(AwsRequestOverrideConfiguration.builder()
                        .apiCallTimeout(Duration.ofMillis(left)).build())
                .build();
        Read read;
        try {
            // The transformer returns what went wrong instead of throwing it: the SDK would retry an exception.
            ResponseTransformer<GetObjectResponse, Read> capped = (response, in) -> {
                Long declared = response.contentLength();
                if (declared != null && declared > maxBytes) {
                    in.abort();
                    return new Read(null, object + " is " + declared + " bytes; the limit (image.max.bytes) is "
                            + maxBytes);
                }
                return readCapped(in, object, maxBytes);
            };
            read = client.getObject(request, capped);
        } catch (ApiCallTimeoutException | ApiCallAttemptTimeoutException e) {
            throw timedOut(object, timeoutMs);
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            throw new ImageRejectedException(FailureReason.FETCH_FAILED, object + ": S3 error "
                    + (code == null ? "" : code + " ") + "(HTTP " + e.statusCode() + ")"
                    + (e.numAttempts() > 1 ? " after " + e.numAttempts() + " attempts" : "") + ": "
                    + (e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage()));
        } catch (SdkException e) {
            throw new ImageRejectedException(FailureReason.FETCH_FAILED, "cannot fetch " + object + ": "
                    + e.getMessage());
        }
        if (read.tooLarge() != null) {
            throw new ImageRejectedException(FailureReason.TOO_LARGE, read.tooLarge());
        }
        return read.bytes();
    }

    /** An object's bytes, or why they were too many. */
    private record Read(byte[] bytes, String tooLarge) {
    }

    private static Read readCapped(InputStream in, S3Location object, long maxBytes) throws IOException {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                if (out.size() > maxBytes) {
                    return new Read(null, object + " sent more than " + maxBytes + " bytes (image.max.bytes)");
                }
            }
            return new Read(out.toByteArray(), null);
        }
    }

    private static ImageRejectedException timedOut(S3Location object, int timeoutMs) {
        return new ImageRejectedException(FailureReason.FETCH_FAILED, object + " did not arrive within " + timeoutMs
                + " ms (fetch.timeout.ms)");
    }

    /**
     * The objects under {@code prefix}, in key order, after key {@code startAfter} (null: from the first), listed
     * page by page as the stream is read.
     *
     * @param pageSize keys per list request (S3 returns at most 1000)
     */
    public Stream<S3Object> list(S3Location prefix, String startAfter, int pageSize) {
        Iterator<S3Object> objects = new Iterator<>() {
            private Iterator<S3Object> page = java.util.Collections.emptyIterator();
            private String continuation;
            private boolean last;

            @Override
            public boolean hasNext() {
                while (!page.hasNext() && !last) {
                    ListObjectsV2Request.Builder request = ListObjectsV2Request.builder().bucket(prefix.bucket())
                            .prefix(prefix.key()).maxKeys(pageSize);
                    // Start-after only on the first request: some S3-compatible stores (s3proxy) refuse it beside
                    // a continuation token, which S3 itself ignores it for.
                    if (continuation != null) {
                        request.continuationToken(continuation);
                    } else if (startAfter != null && !startAfter.isEmpty()) {
                        request.startAfter(startAfter);
                    }
                    ListObjectsV2Response response = client.listObjectsV2(request.build());
                    page = response.contents().iterator();
                    continuation = response.nextContinuationToken();
                    last = !Boolean.TRUE.equals(response.isTruncated()) || continuation == null;
                }
                return page.hasNext();
            }

            @Override
            public S3Object next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return page.next();
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(objects, Spliterator.ORDERED), false);
    }

    @Override
    public void close() {
        client.close();
    }
}
