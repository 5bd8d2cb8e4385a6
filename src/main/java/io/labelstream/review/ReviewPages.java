package io.labelstream.review;

import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.ReviewDecision;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The console's HTML, written on the server with every value escaped; styles and the one script come from the
 * console's own /static/ files (the Content-Security-Policy allows nothing else). The stable hooks for scripts and
 * tests: each image is an {@code <article data-id="ID">} with an {@code <img>} and buttons Confirm, Dismiss and
 * Relabel beside an {@code <input name="label">}; the login form has an {@code <input name="token">}.
 */
final class ReviewPages {

    private ReviewPages() {
    }

    static String login(String notice) {
        return head("labelstream review: sign in") + "<main class=\"login\"><h1>labelstream review</h1>"
                + notice(notice)
                + "<form method=\"post\" action=\"/login\">"
                + "<label>Your name <input name=\"reviewer\" autocomplete=\"username\" required></label>"
                + "<label>Token <input name=\"token\" type=\"password\" autocomplete=\"current-password\" required>"
                + "</label><button type=\"submit\">Sign in</button></form></main></body></html>";
    }

    static String console(String reviewer, List<ImageLabels> items, Collection<String> labelSuggestions,
                          Map<String, Map<ReviewDecision, Long>> counts, ReviewMetrics metrics, String notice) {
        StringBuilder page = new StringBuilder(head("labelstream review"));
        page.append("<header><h1>Flagged images</h1><p>Signed in as <b>").append(escape(reviewer))
                .append("</b>. <span id=\"depth\">").append(items.size()).append("</span> waiting for a decision.")
                .append("</p><form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button>"
                        + "</form>").append(notice(notice)).append("<p id=\"news\" hidden>New images were flagged: "
                        + "<a href=\"/\">show them</a></p>");
        page.append(measures(counts, metrics)).append("</header><main>");
        if (items.isEmpty()) {
            page.append("<p class=\"empty\">Nothing is waiting for a decision.</p>");
        }
        for (ImageLabels item : items) {
            page.append(article(item));
        }
        page.append("</main><datalist id=\"labels\">");
        for (String label : labelSuggestions) {
            page.append("<option value=\"").append(escape(label)).append("\">");
        }
        return page.append("</datalist></body></html>").toString();
    }

    private static String article(ImageLabels item) {
        String id = escape(item.getId());
        ModerationFlag flag = item.getFlags().get(0);
        StringBuilder a = new StringBuilder("<article data-id=\"").append(id).append("\">");
        a.append("<img src=\"/images/").append(escape(urlPart(item.getId()))).append("\" alt=\"image ").append(id)
                .append(flag.getActivation() == null ? "" : " with the map of " + escape(flag.getLabel()))
                .append("\">");
        a.append("<div class=\"facts\"><h2>").append(id).append("</h2><p>Rule <b>").append(escape(flag.getRule()))
                .append("</b> fired on <b>").append(escape(flag.getLabel())).append("</b>: ")
                .append(score(flag.getScore())).append(" ≥ ").append(score(flag.getThreshold()))
                .append(flag.getActivation() == null ? "" : "; the colours show where the model saw it")
                .append(".</p><ol class=\"labels\">");
        for (Label label : item.getLabels()) {
            a.append("<li>").append(escape(label.getLabel())).append(" <span class=\"score\">")
                    .append(score(label.getScore())).append("</span></li>");
        }
        a.append("</ol><p class=\"model\">Model ").append(escape(item.getModel().getName())).append(", version ")
                .append(escape(item.getModel().getVersion())).append(", <code>")
                .append(escape(item.getModel().getSha256().substring(0, Math.min(12, item.getModel().getSha256()
                        .length())))).append("</code></p>");
        a.append("<form method=\"post\" action=\"/decide\"><input type=\"hidden\" name=\"id\" value=\"").append(id)
                .append("\"><button type=\"submit\" name=\"decision\" value=\"CONFIRMED\">Confirm</button>")
                .append("<button type=\"submit\" name=\"decision\" value=\"DISMISSED\">Dismiss</button>")
                .append("<input name=\"label\" list=\"labels\" placeholder=\"label\" aria-label=\"new label\">")
                .append("<button type=\"submit\" name=\"decision\" value=\"RELABELED\">Relabel</button>")
                .append("</form></div></article>");
        return a.toString();
    }

    private static String measures(Map<String, Map<ReviewDecision, Long>> counts, ReviewMetrics metrics) {
        if (counts.isEmpty()) {
            return "";
        }
        StringBuilder t = new StringBuilder("<table class=\"measures\"><caption>Decisions by rule</caption><tr>"
                + "<th>rule</th><th>confirmed</th><th>dismissed</th><th>relabeled</th><th>precision</th></tr>");
        counts.forEach((rule, row) -> {
            double precision = metrics.precision(rule);
            t.append("<tr><td>").append(escape(rule)).append("</td>");
            for (ReviewDecision d : ReviewDecision.values()) {
                t.append("<td>").append(row.get(d)).append("</td>");
            }
            t.append("<td>").append(Double.isNaN(precision) ? "–" : String.format(Locale.ROOT, "%.2f", precision))
                    .append("</td></tr>");
        });
        return t.append("</table>").toString();
    }

    private static String head(String title) {
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
                + "</title><meta name=\"viewport\" content=\"width=device-width\">"
                + "<link rel=\"stylesheet\" href=\"/static/console.css\">"
                + "<script src=\"/static/console.js\" defer></script></head><body>";
    }

    private static String notice(String notice) {
        return notice == null ? "" : "<p class=\"notice\" role=\"alert\">" + escape(notice) + "</p>";
    }

    private static String score(float score) {
        return String.format(Locale.ROOT, "%.3f", score);
    }

    /** An id as one URL path segment. */
    static String urlPart(String id) {
        return java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
