/* Reference tables: a filter box per table. The tables are complete without this
   script; it only shows the boxes and hides rows that do not match. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll("input.filter[data-filter-table]");
  Array.prototype.forEach.call(boxes, function (input) {
    var table = document.getElementById(input.dataset.filterTable);
    var count = document.getElementById(input.dataset.filterTable + "-count");
    var rows = table.tBodies[0].rows;
    function apply() {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(rows, function (row) {
        var match = !query || row.textContent.toLowerCase().indexOf(query) >= 0;
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      count.textContent = query ? rows.length + "개 중 " + shown + "개" : "";
    }
    input.addEventListener("input", apply);
    input.closest(".filter-box").hidden = false;
    apply();
  });
})();
