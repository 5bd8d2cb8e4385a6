// Keeps the page in step with the other consoles: every two seconds, images decided elsewhere leave the page, and
// newly flagged ones are announced. Only same-origin requests with the session cookie; nothing from elsewhere.
"use strict";
(function () {
  const depth = document.getElementById("depth");
  if (!depth) {
    return; // the login page
  }
  async function refresh() {
    try {
      const response = await fetch("/api/items", {credentials: "same-origin", cache: "no-store"});
      if (response.status === 401) {
        window.location.assign("/login");
        return;
      }
      const waiting = await response.json();
      const ids = new Set(waiting.ids);
      const shown = new Set();
      for (const article of document.querySelectorAll("article[data-id]")) {
        if (!ids.has(article.dataset.id)) {
          article.remove();
        } else {
          shown.add(article.dataset.id);
        }
      }
      depth.textContent = String(waiting.depth);
      document.getElementById("news").hidden = waiting.ids.every(id => shown.has(id));
    } catch (e) {
      // The console may be restarting; the next round tries again.
    }
  }
  setInterval(refresh, 2000);
  refresh();
})();
