// The connector page: show each report's fields, Connect, and Load Preview without a reload.
// Everything here also works without JavaScript through the page's submit buttons.
(function () {
  "use strict";
  var form = document.getElementById("connector-form");
  var defsNode = document.getElementById("dc-definitions");
  if (!form || !defsNode) { return; }
  var defs = JSON.parse(defsNode.textContent);

  // Buttons and hints meant only for the no-JavaScript round trip.
  Array.prototype.forEach.call(document.querySelectorAll(".dc-nojs"), function (el) {
    el.classList.add("dc-hidden");
  });

  function field(name) { return form.elements[name]; }
  function val(name) {
    var el = field(name);
    if (!el) { return ""; }
    if (el instanceof RadioNodeList) { return el.value; }
    return el.value;
  }
  function csrf() { return val("csrfmiddlewaretoken"); }
  function setHidden(el, hidden) { if (el) { el.classList.toggle("dc-hidden", hidden); } }
  function text(el, value) { if (el) { el.textContent = value; } }

  // --- Details: which fields the chosen report shows (mirrors forms/details.visible_fields).
  var details = document.getElementById("pane-details");
  function detailsVisible() {
    var report = val("details-report") || "calls";
    var def = defs.reports[report];
    var shown = { report: true };
    if (!def) { return shown; }
    def.fields.forEach(function (name) { shown[name] = true; });
    var takesWindow = def.dates;
    if (def.fields.indexOf("granularity") !== -1) {
      var gran = val("details-granularity") || "daily";
      if (defs.windowless_granularities.indexOf(gran) !== -1) { takesWindow = false; }
    }
    if (!takesWindow) { return shown; }
    shown.duration = true;
    if (val("details-duration") === "range") {
      shown.start_mode = shown.end_mode = true;
      shown[val("details-start_mode") === "specific" ? "start_date" : "start_days_back"] = true;
      shown[val("details-end_mode") === "specific" ? "end_date" : "end_days_back"] = true;
    } else {
      shown.report_date_mode = true;
      shown[val("details-report_date_mode") === "specific" ? "report_date" : "days_back"] = true;
    }
    return shown;
  }

  function swapChoices(name, report) {
    // Filters whose choices differ per report (FilterDef.choices_by_report).
    var perReport = defs.choices_by_report[name];
    var select = field("details-" + name);
    if (!perReport || !perReport[report] || !select || !select.options) { return; }
    var current = select.value;
    select.innerHTML = "";
    select.appendChild(new Option("Any", ""));
    perReport[report].forEach(function (pair) {
      select.appendChild(new Option(pair[1], pair[0], false, pair[0] === current));
    });
  }

  function refreshDetails() {
    var shown = detailsVisible();
    var report = val("details-report");
    Array.prototype.forEach.call(details.querySelectorAll(".dc-field[data-field]"), function (el) {
      var name = el.getAttribute("data-field");
      setHidden(el, !shown[name]);
      swapChoices(name, report);
    });
    setHidden(details.querySelector("[data-date-block]"), !shown.duration);
    var def = defs.reports[report];
    var note = details.querySelector("[data-age-note]");
    text(note, def && def.max_age_days ? "Twilio keeps " + def.label + " for " + def.max_age_days +
      " days: older days in the window are skipped, with a warning." : "");
    var mergeKey = document.querySelector("[data-merge-key]");
    if (def) { text(mergeKey, def.merge_key.join(", ")); }
  }
  details.addEventListener("change", refreshDetails);
  refreshDetails();

  // --- Messages next to fields, from the JSON endpoints' {errors: {inputName: [..]}}.
  function clearErrors(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("[data-js-error]"), function (el) { el.remove(); });
    Array.prototype.forEach.call(scope.querySelectorAll(".is-invalid"), function (el) {
      el.classList.remove("is-invalid");
    });
  }
  function showErrors(scope, errors) {
    Object.keys(errors || {}).forEach(function (name) {
      if (name === "__all__") { return; }
      var input = form.elements[name];
      if (!input || input instanceof RadioNodeList) { return; }
      input.classList.add("is-invalid");
      var div = document.createElement("div");
      div.className = "invalid-feedback";
      div.setAttribute("data-js-error", "");
      div.textContent = errors[name].join(" ");
      input.insertAdjacentElement("afterend", div);
    });
  }
  function alertBox(kind, message) {
    var div = document.createElement("div");
    div.className = "alert alert-" + kind + " mb-2";
    div.setAttribute("role", kind === "danger" ? "alert" : "status");
    div.setAttribute("data-js-error", "");
    div.textContent = message;
    return div;
  }

  function post(url, body) {
    body.set("csrfmiddlewaretoken", csrf());
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() }
    }).then(function (response) {
      return response.json().catch(function () {
        return { ok: false, message: "The server answered " + response.status + "." };
      });
    }, function () {
      return { ok: false, message: "The server could not be reached. Check your connection." };
    });
  }

  // --- Credentials: a saved account hides the new-account block; Connect checks and saves.
  var credentials = document.getElementById("pane-credentials");
  var accountSelect = field("cred-account");
  var newBlock = credentials.querySelector("[data-new-account]");
  var errorsBox = credentials.querySelector("[data-credentials-errors]");
  function refreshCredentials() { setHidden(newBlock, !!(accountSelect && accountSelect.value)); }
  if (accountSelect) { accountSelect.addEventListener("change", refreshCredentials); }
  refreshCredentials();

  function connect(button, sandbox) {
    var body = new FormData();
    Array.prototype.forEach.call(credentials.querySelectorAll("input, select"), function (el) {
      if (el.name && el.type !== "submit") { body.append(el.name, el.value); }
    });
    if (sandbox) { body.set("use_sandbox", "1"); body.set("cred-account", ""); }
    clearErrors(credentials);
    errorsBox.innerHTML = "";
    button.disabled = true;
    var status = credentials.querySelector("[data-connect-status]");
    text(status, "Checking with Twilio…");
    post(form.getAttribute("data-check-url"), body).then(function (result) {
      button.disabled = false;
      text(status, "");
      if (!result.ok) {
        errorsBox.appendChild(alertBox("danger", result.message));
        showErrors(credentials, result.errors);
        return;
      }
      var option = Array.prototype.find.call(accountSelect.options, function (o) {
        return o.value === String(result.account.id);
      });
      if (!option) {
        option = new Option(result.account.label, result.account.id);
        accountSelect.appendChild(option);
      }
      accountSelect.value = String(result.account.id);
      // The secrets have done their job: do not keep them in the page.
      ["cred-auth_token", "cred-key_secret", "cred-account_sid", "cred-key_sid"].forEach(function (n) {
        if (field(n)) { field(n).value = ""; }
      });
      refreshCredentials();
      errorsBox.appendChild(alertBox("success", result.message));
    });
  }
  credentials.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-connect], [data-use-sandbox]");
    if (!button) { return; }
    ev.preventDefault();
    connect(button, button.hasAttribute("data-use-sandbox"));
  });

  // --- Load Preview: the first rows, live, as a small table.
  var output = details.querySelector("[data-preview-output]");
  var previewStatus = details.querySelector("[data-preview-status]");
  function renderTable(result) {
    var wrap = document.createElement("div");
    wrap.className = "table-responsive border rounded dc-preview";
    var table = document.createElement("table");
    table.className = "table table-sm table-striped table-data mb-0";
    var head = table.createTHead().insertRow();
    result.columns.forEach(function (name) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.appendChild(th);
    });
    var body = table.createTBody();
    result.rows.forEach(function (row) {
      var tr = body.insertRow();
      row.forEach(function (value) { tr.insertCell().textContent = value; });
    });
    wrap.appendChild(table);
    return wrap;
  }
  details.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-load-preview]");
    if (!button) { return; }
    ev.preventDefault();
    var body = new FormData(form);
    clearErrors(form);
    output.innerHTML = "";
    button.disabled = true;
    text(previewStatus, "Loading the first rows from Twilio…");
    post(form.getAttribute("data-preview-url"), body).then(function (result) {
      button.disabled = false;
      text(previewStatus, "");
      if (!result.ok) {
        output.appendChild(alertBox("danger", "Preview failed: " + result.message));
        showErrors(form, result.errors);
        return;
      }
      if (!result.rows.length) {
        output.appendChild(alertBox("info", result.message || "No rows in this window."));
      } else {
        output.appendChild(renderTable(result));
        text(previewStatus, result.count + " row" + (result.count === 1 ? "" : "s") + " shown.");
      }
      (result.warnings || []).forEach(function (w) { output.appendChild(alertBox("warning", w)); });
    });
  });
})();
