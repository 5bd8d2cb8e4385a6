package io.labelstream.review;

import com.sun.net.httpserver.HttpServer;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.ReviewDecision;
import io.labelstream.testing.TopicTraffic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The review console in a real browser: Debian's chromium, headless, driven by Selenium through
 * /usr/bin/chromedriver (nothing is downloaded). Two reviewers sign in, see the flagged images with their maps,
 * decide each way, and what one decides leaves the other's open page; a page without the session, or signed in
 * with a wrong token, shows nothing; a form on another site cannot decide. .ci/run installs chromium, so under CI
 * its absence fails; elsewhere the test is skipped, saying how to install it.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ReviewConsoleBrowserIT {

    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String TOKEN = "browser-review-token";
    private static final List<String> RED = List.of("b-0", "b-1", "b-2", "b-3");

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static Map<String, String> settings;
    static ReviewConsole console;

    @BeforeAll
    static void flagImagesAndStartTheConsole() throws Exception {
        boolean present = Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(CHROMIUM);
        if ("true".equals(System.getenv("CI"))) {
            assertThat(present).as("chromium and chromium-driver under CI (.ci/run installs them)").isTrue();
        }
        assumeTrue(present, "review console browser test skipped: no " + CHROMIUM + " / " + CHROMEDRIVER
                + " (apt-get install chromium chromium-driver)");
        kafka = EmbeddedKafka.start();
        settings = FlaggedTraffic.flagged("review-browser", kafka, dir, RED);
        console = ConsoleHttp.start(settings, TOKEN, Map.of());
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static WebDriver browser() {
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900");
        return new ChromeDriver(service, options);
    }

    private static String base() {
        return "http://127.0.0.1:" + console.address().getPort();
    }

    private static void signIn(WebDriver browser, String reviewer, String token) {
        browser.get(base() + "/");
        assertThat(browser.getCurrentUrl()).endsWith("/login");
        browser.findElement(By.name("reviewer")).sendKeys(reviewer);
        browser.findElement(By.name("token")).sendKeys(token);
        browser.findElement(By.cssSelector("form[action='/login'] button")).click();
        await("the answer to signing in").atMost(Duration.ofSeconds(90)).until(() ->
                !browser.getCurrentUrl().endsWith("/login") || browser.getPageSource().contains("notice")
                        || browser.getPageSource().contains("may not"));
    }

    /** Read in one script run: the page's own script may drop an article between two WebDriver calls. */
    @SuppressWarnings("unchecked")
    private static List<String> shownIds(WebDriver browser) {
        return (List<String>) ((JavascriptExecutor) browser).executeScript(
                "return Array.from(document.querySelectorAll('article[data-id]'), a => a.dataset.id);");
    }

    private static WebElement article(WebDriver browser, String id) {
        return browser.findElement(By.cssSelector("article[data-id='" + id + "']"));
    }

    private static void decide(WebDriver browser, String id, String button) {
        article(browser, id).findElement(By.xpath(".//button[normalize-space()='" + button + "']")).click();
        await(id + " decided").atMost(Duration.ofSeconds(90)).until(() -> !shownIds(browser).contains(id));
    }

    @Test
    void reviewersDecideInTheBrowserAndTheDecisionsLeaveEveryOpenConsole() throws Exception {
        WebDriver ana = browser();
        WebDriver bo = browser();
        try {
            signIn(ana, "ana", TOKEN);
            signIn(bo, "bo", TOKEN);
        assertThat(ana.getCurrentUrl()).as(ana.getPageSource()).isEqualTo(base() + "/");
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
                ana.get(base() + "/");
                assertThat(shownIds(ana)).as("%s: %s", ana.getCurrentUrl(), ana.getPageSource())
                        .containsExactlyElementsOf(RED);
            });
            bo.navigate().refresh();
            assertThat(shownIds(bo)).containsExactlyElementsOf(RED);
            for (String id : RED) {
                WebElement img = article(ana, id).findElement(By.tagName("img"));
                await(id + "'s image").atMost(Duration.ofSeconds(90)).until(() -> ((Number) ((JavascriptExecutor) ana)
                        .executeScript("return arguments[0].complete ? arguments[0].naturalWidth : 0", img))
                        .intValue() == 400);
                assertThat(img.getAttribute("alt")).contains("with the map of red");
                assertThat(article(ana, id).getText()).contains("Rule reds fired on red").contains("Model colour");
            }
            File shot = ((TakesScreenshot) ana).getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), Path.of("target", "review-console.png"), StandardCopyOption.REPLACE_EXISTING);

            decide(ana, "b-0", "Confirm");
            decide(ana, "b-1", "Dismiss");
            article(ana, "b-2").findElement(By.name("label")).sendKeys("crimson");
            decide(ana, "b-2", "Relabel");
            // Bo's page was never reloaded: its script drops what Ana decided.
            await("Ana's decisions leave Bo's open console").atMost(Duration.ofSeconds(90))
                    .untilAsserted(() -> assertThat(shownIds(bo)).containsExactly("b-3"));
            assertThat(bo.findElement(By.id("depth")).getText()).isEqualTo("1");

            Map<String, ImageReview> reviews = new HashMap<>();
            for (var r : new TopicTraffic(kafka.bootstrapServers()).readAll(settings.get("reviews.topic"))) {
                ImageReview review = AvroSerdes.imageReview().decode(r.value());
                assertThat(reviews.put(review.getId(), review)).as("one record per image").isNull();
            }
            assertThat(reviews).containsOnlyKeys("b-0", "b-1", "b-2");
            assertThat(reviews.get("b-0").getDecision()).isEqualTo(ReviewDecision.CONFIRMED);
            assertThat(reviews.get("b-1").getDecision()).isEqualTo(ReviewDecision.DISMISSED);
            assertThat(reviews.get("b-2").getDecision()).isEqualTo(ReviewDecision.RELABELED);
            assertThat(reviews.get("b-2").getLabel()).isEqualTo("crimson");
            assertThat(reviews.values()).allSatisfy(r -> assertThat(r.getReviewer()).isEqualTo("ana"));

            // A page on another site posting to the console, in Ana's signed-in browser, decides nothing.
            HttpServer elsewhere = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            byte[] form = ("<!doctype html><form method=post action='" + base() + "/decide'>"
                    + "<input type=hidden name=id value=b-3><input type=hidden name=decision value=DISMISSED>"
                    + "<button id=go>win a prize</button></form>").getBytes(StandardCharsets.UTF_8);
            elsewhere.createContext("/", exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "text/html");
                exchange.sendResponseHeaders(200, form.length);
                exchange.getResponseBody().write(form);
                exchange.close();
            });
            elsewhere.start();
            try {
                ana.get("http://localhost:" + elsewhere.getAddress().getPort() + "/");
                ana.findElement(By.id("go")).click();
                await("the refusal").atMost(Duration.ofSeconds(90))
                        .until(() -> ana.getPageSource().contains("may not change anything"));
            } finally {
                elsewhere.stop(0);
            }
            ana.get(base() + "/");
            assertThat(shownIds(ana)).containsExactly("b-3");

            // Without the session, or signed in with a wrong token, nothing is shown.
            bo.manage().deleteAllCookies();
            bo.get(base() + "/");
            assertThat(bo.getCurrentUrl()).endsWith("/login");
            assertThat(shownIds(bo)).isEmpty();
            signIn(bo, "bo", "a-wrong-token");
            assertThat(bo.getPageSource()).contains("That token is not the console").doesNotContain("data-id");
            bo.get(base() + "/images/b-3");
            assertThat(bo.getPageSource()).contains("sign in first");
        } finally {
            ana.quit();
            bo.quit();
        }
    }
}
