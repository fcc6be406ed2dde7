// DataSets tab: "select all" for the bulk Run Now, and the count of ticked DataSets.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) { return; }
  var all = form.querySelector("[data-select-all]");
  var boxes = form.querySelectorAll("input[name='ids']");
  var button = form.querySelector("[data-requires-selection]");
  var count = form.querySelector("[data-selection-count]");

  function refresh() {
    var ticked = form.querySelectorAll("input[name='ids']:checked").length;
    if (button) { button.disabled = ticked === 0; }
    if (count) { count.textContent = ticked ? ticked + " selected" : ""; }
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }

  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      refresh();
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", refresh); });
  refresh();
})();
