// The import progress page without reloading: poll the job's progress (JSON) and update the
// count; reload the page once the import has finished, to show its outcome. Without JavaScript
// the page refreshes itself instead (a <noscript> meta refresh).
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var every = 1000 * (parseInt(box.getAttribute("data-refresh-seconds"), 10) || 2);
  var text = box.querySelector("[data-progress-text]");
  var meter = box.querySelector("progress");
  var number = function (n) { return n.toLocaleString("en-GB"); };

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, every * 2); return; }
        if (job.finished) { window.location.reload(); return; }
        if (job.state === "running" && job.rows_total !== null && text) {
          text.textContent = "Imported " + number(job.rows_done) + " of " + number(job.rows_total) + " rows…";
          if (meter) { meter.max = Math.max(job.rows_total, 1); meter.value = job.rows_done; }
        }
        window.setTimeout(poll, every);
      })
      .catch(function () { window.setTimeout(poll, every * 2); });
  }
  window.setTimeout(poll, every);
})();
