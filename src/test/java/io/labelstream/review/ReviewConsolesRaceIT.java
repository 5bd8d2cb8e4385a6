package io.labelstream.review;

import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageReview;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two consoles, each with its own producers and consumer as two processes would have, deciding the same images at
 * the same instant: each image gets exactly one decision on the reviews topic, its one winner's, and the other
 * reviewer is refused naming the winner. Also prints the time a decision takes, alone and contended.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ReviewConsolesRaceIT {

    private static final String TOKEN = "the-race-token";
    private static final List<String> RACED = IntStream.range(0, 16).mapToObj(i -> "red-" + i).toList();
    private static final List<String> ALONE = IntStream.range(0, 6).mapToObj(i -> "solo-" + i).toList();

    @TempDir
    static Path dir;
    static FlaggedTraffic.OnBroker broker;

    @BeforeAll
    static void flagRacedAndAloneImages() throws Exception {
        List<String> ids = new ArrayList<>(RACED);
        ids.addAll(ALONE);
        broker = FlaggedTraffic.onNewBroker("race-it", dir, ids);
    }

    @AfterAll
    static void stopTheBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    /** The reviews topic, which the first console creates, gets three partitions: three transactional ids. */
    private static ReviewConsole console() throws Exception {
        return ConsoleHttp.start(broker.settings(), TOKEN, Map.of("topics.partitions", "3"));
    }

    /** One reviewer's request to decide, and how long the console took to answer it. */
    private record Answer(String id, int status, String body, long millis) {
    }

    private Answer decide(ReviewConsole console, String cookie, String id, String decision) throws Exception {
        long start = System.nanoTime();
        ConsoleHttp reviewer = ConsoleHttp.of(console);
        HttpResponse<String> r = reviewer.post("/decide", cookie, reviewer.base(), Map.of("id", id, "decision", decision));
        return new Answer(id, r.statusCode(), r.body(), (System.nanoTime() - start) / 1_000_000);
    }

    @Test
    void twoConsolesDecidingTheSameImagesAtOnceWriteOneDecisionPerImageAndRefuseTheOther() throws Exception {
        try (ReviewConsole a = console(); ReviewConsole b = console()) {
            String ana = ConsoleHttp.of(a).signIn(TOKEN, "ana");
            String bo = ConsoleHttp.of(b).signIn(TOKEN, "bo");
            int all = RACED.size() + ALONE.size();
            for (var c : List.of(Map.entry(a, ana), Map.entry(b, bo))) {
                await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(ConsoleHttp.of(c.getKey())
                        .get("/api/items", c.getValue()).body()).startsWith("{\"depth\":" + all + ","));
            }

            // Alone: one console deciding one image after another (the first per partition holds a producer).
            List<Long> alone = new ArrayList<>();
            for (String id : ALONE) {
                Answer answer = decide(a, ana, id, "CONFIRMED");
                assertThat(answer.status()).as(answer.body()).isEqualTo(303);
                alone.add(answer.millis());
            }

            // Together: both consoles decide each image at the same instant.
            CyclicBarrier together = new CyclicBarrier(2);
            ExecutorService reviewers = Executors.newFixedThreadPool(2);
            Future<List<Answer>> byAna = reviewers.submit(() -> decideAll(a, ana, "CONFIRMED", together));
            Future<List<Answer>> byBo = reviewers.submit(() -> decideAll(b, bo, "DISMISSED", together));
            List<Answer> anas = byAna.get(5, TimeUnit.MINUTES);
            List<Answer> bos = byBo.get(5, TimeUnit.MINUTES);
            reviewers.shutdown();

            Map<String, String> winners = new HashMap<>();
            List<Long> won = new ArrayList<>();
            List<Long> refused = new ArrayList<>();
            for (int i = 0; i < RACED.size(); i++) {
                Answer x = anas.get(i);
                Answer y = bos.get(i);
                assertThat(List.of(x.status(), y.status())).as("%s: one wins, one is refused (%s / %s)", x.id(),
                        x.body(), y.body()).containsExactlyInAnyOrder(303, 409);
                Answer loser = x.status() == 409 ? x : y;
                String winner = loser == x ? "bo" : "ana";
                winners.put(x.id(), winner);
                assertThat(loser.body()).contains(x.id() + " was already decided by " + winner + " (");
                won.add((loser == x ? y : x).millis());
                refused.add(loser.millis());
            }

            Map<String, ImageReview> onTopic = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : new TopicTraffic(broker.kafka().bootstrapServers())
                    .readAll(broker.settings().get("reviews.topic"))) {
                ImageReview review = AvroSerdes.imageReview().decode(r.value());
                assertThat(onTopic.put(review.getId(), review)).as("one record for %s", review.getId()).isNull();
            }
            assertThat(onTopic).hasSize(all);
            for (String id : RACED) {
                assertThat(onTopic.get(id).getReviewer()).as(id).isEqualTo(winners.get(id));
            }
            for (var c : List.of(Map.entry(a, ana), Map.entry(b, bo))) {
                await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(ConsoleHttp.of(c.getKey())
                        .get("/api/items", c.getValue()).body()).isEqualTo("{\"depth\":0,\"ids\":[]}"));
            }

            System.out.printf("Decision latency, one console alone (ms, in order): %s%n", alone);
            System.out.printf("Decision latency, two consoles at once: winner %s, refused %s (ms: min/median/max);"
                    + " ana won %d of %d%n", summary(won), summary(refused),
                    winners.values().stream().filter("ana"::equals).count(), RACED.size());
        }
    }

    private List<Answer> decideAll(ReviewConsole console, String cookie, String decision, CyclicBarrier together)
            throws Exception {
        List<Answer> answers = new ArrayList<>();
        for (String id : RACED) {
            together.await(2, TimeUnit.MINUTES);
            answers.add(decide(console, cookie, id, decision));
        }
        return answers;
    }

    private static String summary(List<Long> millis) {
        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        return sorted.get(0) + "/" + sorted.get(sorted.size() / 2) + "/" + sorted.get(sorted.size() - 1);
    }
}
