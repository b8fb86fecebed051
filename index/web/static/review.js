// Review queue: a register entry picked from the search-as-you-type list fills the link
// form's client (and, for a paper record, its 档号). No inline handlers: the CSP forbids them.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var pick = e.target.closest ? e.target.closest(".pv-pick") : null;
    if (!pick) { return; }
    var doc = pick.dataset.doc;
    var client = document.getElementById("client-" + doc);
    var record = document.getElementById("record-" + doc);
    if (client && pick.dataset.client) { client.value = pick.dataset.client; }
    if (record) { record.value = pick.dataset.record || ""; }
    var button = document.getElementById("link-" + doc);
    if (button) { button.focus(); }
  });
})();
