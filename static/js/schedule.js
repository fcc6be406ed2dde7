// The Scheduling pane: show the inputs the chosen schedule needs, and keep "the schedule in
// words" and its next three runs current as the user edits (GET schedule-preview, debounced).
(function () {
  "use strict";
  var form = document.getElementById("connector-form");
  var pane = document.querySelector("[data-schedule-pane]");
  if (!form || !pane) { return; }
  var prefix = pane.getAttribute("data-prefix") + "-";
  var url = form.getAttribute("data-schedule-url");
  var UNITS = { hourly: "hours", minutes: "minutes", daily: "days" };
  var KIND_FIELDS = {
    manual: ["remind_after_hours"],
    hourly: ["every", "at", "window_from", "window_to"],
    minutes: ["every", "at", "window_from", "window_to"],
    daily: ["every", "at"],
    weekdays: ["at"],
    weekly: ["weekdays", "at"],
    monthly: ["day_of_month", "at"]
  };
  var DAYS_BY_FIELDS = { month_days: ["adv_month_days"], weekdays: ["adv_weekdays"], nth: ["adv_nth", "adv_nth_days"] };

  function val(name) {
    var el = form.elements[prefix + name];
    return el ? el.value : "";
  }

  // Mirrors SchedulingForm.relevant_fields.
  function visible() {
    var shown = {};
    function add(names) { names.forEach(function (n) { shown[n] = true; }); }
    add(["tab", "tz", "update_method", "retry"]);
    if (val("retry") !== "never") { add(["retry_every_minutes", "retry_max"]); }
    var manual = false;
    if (val("tab") === "advanced") {
      add(["adv_months", "adv_days_by", "adv_repeat"]);
      add(DAYS_BY_FIELDS[val("adv_days_by")] || []);
      add(val("adv_repeat") === "interval"
        ? ["adv_every", "adv_unit", "adv_window_from", "adv_window_to"] : ["adv_times"]);
    } else {
      add(["kind"]);
      add(KIND_FIELDS[val("kind")] || []);
      manual = val("kind") === "manual";
    }
    if (!manual) {
      add(["start_when"]);
      if (val("start_when") === "later") { add(["start_at"]); }
    }
    return shown;
  }

  function refresh() {
    var shown = visible();
    Array.prototype.forEach.call(pane.querySelectorAll(".dc-field[data-field]"), function (el) {
      el.classList.toggle("dc-hidden", !shown[el.getAttribute("data-field")]);
    });
    var unit = pane.querySelector("[data-every-unit]");
    if (unit) { unit.textContent = UNITS[val("kind")] || ""; }
  }

  var words = pane.querySelector("[data-schedule-words]");
  var nextWrap = pane.querySelector("[data-schedule-next-wrap]");
  var nextList = pane.querySelector("[data-schedule-next]");
  var errorsBox = pane.querySelector("[data-schedule-errors]");
  var timer = null;
  var latest = 0;

  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key.indexOf(prefix) === 0) { params.append(key, value); }
    });
    return params.toString();
  }

  function show(result) {
    words.textContent = result.words || "—";
    nextList.innerHTML = "";
    (result.next_display || []).forEach(function (when) {
      var li = document.createElement("li");
      li.textContent = when;
      nextList.appendChild(li);
    });
    nextWrap.hidden = !(result.next_display || []).length;
    var messages = [];
    Object.keys(result.errors || {}).forEach(function (key) {
      messages = messages.concat(result.errors[key]);
    });
    errorsBox.textContent = messages.join(" ");
  }

  function fetchPreview() {
    var ticket = ++latest;
    fetch(url + "?" + query(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (result) { if (ticket === latest) { show(result); } })
      .catch(function () { errorsBox.textContent = "Could not compute the next runs."; });
  }

  function changed() {
    refresh();
    window.clearTimeout(timer);
    timer = window.setTimeout(fetchPreview, 300);
  }
  pane.addEventListener("change", changed);
  pane.addEventListener("input", changed);
  refresh();
})();
