/* Dev server only: reload the page when a rebuild finishes (or a failed one is fixed). */
(function () {
  "use strict";
  var seen = null;
  function poll() {
    fetch("/__kspay/version", { cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (version) {
        if (seen === null) { seen = version; } else if (version !== seen) { location.reload(); }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 500); });
  }
  poll();
})();
