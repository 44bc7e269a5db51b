/* The sandbox posts back to sndReply at once, as the KSPay window does. */
(function () {
  "use strict";
  var form = document.getElementById("return-form");
  if (form) { form.submit(); }
})();
