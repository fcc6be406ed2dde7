/*
 * Draws the metric charts of a DataSet page with Plotly (static/vendor/plotly.min.js).
 * The data comes from <script type="application/json" id="chart-data"> (Django json_script);
 * no inline scripts, so the page keeps a strict Content-Security-Policy (script-src 'self').
 */
(function () {
  "use strict";

  var CONFIG = { displayModeBar: false, responsive: true };
  var HEIGHT = 320;

  function readCharts() {
    var node = document.getElementById("chart-data");
    if (!node) {
      return [];
    }
    try {
      var data = JSON.parse(node.textContent);
      return Array.isArray(data) ? data : [];
    } catch (err) {
      return [];
    }
  }

  function traces(chart) {
    return chart.series.map(function (s) {
      // The server gives each series its colour (the same value, the same colour everywhere).
      if (chart.kind === "line") {
        // connectgaps false: a day without a value (null) stays a visible gap, not a zero.
        var line = { type: "scatter", mode: "lines+markers", name: s.name, x: s.x, y: s.y,
                     connectgaps: false };
        if (s.color) { line.line = { color: s.color }; line.marker = { color: s.color }; }
        return line;
      }
      var bar = { type: "bar", name: s.name, x: s.x, y: s.y };
      if (s.color) { bar.marker = { color: s.color }; }
      return bar;
    });
  }

  function dayCount(chart) {
    var days = {};
    chart.series.forEach(function (s) {
      s.x.forEach(function (x) { days[x] = true; });
    });
    return Object.keys(days).length;
  }

  function layout(chart) {
    var byDay = chart.x_label === "Day";
    var xaxis = {
      title: { text: chart.x_label },
      // Dates stay on a date axis so missing days show as gaps; categories keep their order.
      type: byDay ? "date" : "category",
      automargin: true
    };
    if (byDay) {
      xaxis.tickformat = "%b %-d";
      if (dayCount(chart) <= 14) {
        xaxis.dtick = 86400000;  // a few days: one tick per day, never hour ticks
      }
    }
    return {
      height: HEIGHT,
      margin: { l: 56, r: 16, t: 8, b: 48 },
      barmode: chart.kind === "stacked-bar" ? "stack" : "group",
      // A split chart always says what its colours mean, even when one value is present.
      showlegend: chart.series.length > 1 || chart.kind === "stacked-bar",
      // "normal": the legend lists series in our order (Plotly reverses it for stacks).
      legend: { orientation: "h", y: -0.2, traceorder: "normal" },
      xaxis: xaxis,
      yaxis: {
        title: { text: chart.y_label },
        rangemode: "tozero",
        ticksuffix: chart.y_label === "%" ? " %" : "",
        automargin: true
      },
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12 }
    };
  }

  function showMessage(el, text) {
    el.textContent = "";
    var p = document.createElement("p");
    p.className = "text-body-secondary small mb-0";
    p.textContent = text;
    el.appendChild(p);
  }

  function draw() {
    var charts = readCharts();
    charts.forEach(function (chart) {
      var el = document.querySelector('.chart[data-chart-id="' + chart.id + '"]');
      if (!el) {
        return;
      }
      if (chart.empty_reason) {
        showMessage(el, chart.empty_reason);
        return;
      }
      if (typeof window.Plotly === "undefined") {
        showMessage(el, "The chart library did not load; the numbers are in the table below.");
        return;
      }
      window.Plotly.newPlot(el, traces(chart), layout(chart), CONFIG);
    });
  }

  // Charts drawn inside a hidden Bootstrap tab get zero width: resize them once it is shown.
  document.addEventListener("shown.bs.tab", function (event) {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var target = document.querySelector(event.target.getAttribute("data-bs-target") || "");
    var scope = target || document;
    scope.querySelectorAll(".chart.js-plotly-plot").forEach(function (el) {
      window.Plotly.Plots.resize(el);
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
