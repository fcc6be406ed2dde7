// Live progress of the DataSet's current run on the Overview tab: polls the progress JSON
// once a second while the run is queued or running, then reloads to show the new version.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  var initial = document.getElementById("progress-data");
  if (!box || !initial) { return; }
  var url = box.getAttribute("data-url");
  var state;
  try { state = JSON.parse(initial.textContent); } catch (e) { return; }
  if (!state || !state.active) { return; }

  var grouped = new Intl.NumberFormat();
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var s = Math.max(0, Math.round(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (h) { return h + " h " + two(m) + " min"; }
    if (m) { return m + " min " + two(r) + " s"; }
    return r + " s";
  }
  function set(field, text) {
    var el = box.querySelector("[data-field='" + field + "']");
    if (el) { el.textContent = text; }
  }
  function show(data) {
    set("pages", grouped.format(data.pages || 0));
    set("rows", grouped.format(data.rows || 0));
    set("retries", String(data.retries || 0));
    set("slices", grouped.format(data.slices_done || 0) + " / " + grouped.format(data.slices_total || 0));
    set("accounts", grouped.format(data.accounts_done || 0) + " / " + grouped.format(data.accounts_total || 0));
    set("elapsed", duration(data.elapsed_seconds));
    set("status", data.state === "queued" ? "Waiting for a worker…" : "Pulling from Twilio…");
    // The badge follows the run too: Running once a worker has it, never Queued under
    // "Pulling from Twilio…".
    var badge = box.querySelector(".badge");
    if (badge && data.state_label) {
      badge.textContent = data.state_label;
      badge.className = "badge " + (data.state === "running" ? "text-bg-primary" : "text-bg-secondary");
    }
  }

  var failures = 0;
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        if (!data.active) {
          // Finished: reload so the header, the version and the headline numbers are current.
          window.location.reload();
          return;
        }
        show(data);
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        // A restarting server should not end the display: back off, up to 10 s.
        failures += 1;
        window.setTimeout(poll, Math.min(10000, 1000 * Math.pow(2, failures)));
      });
  }
  window.setTimeout(poll, 1000);
})();
