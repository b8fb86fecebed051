// The document page's viewer: zoom the page image (the browser picks a sharper width from
// its srcset as it grows) and page with the arrow keys. Paging itself is plain links, so the
// viewer works without this file.
(function () {
  "use strict";
  var STEPS = [50, 75, 100, 150, 200, 300];
  var KEY = "pv-viewer-zoom";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var img = document.getElementById("page-image");
    if (!img) { return; }
    var frame = document.getElementById("page-frame");
    var zoom = parseInt(window.sessionStorage.getItem(KEY) || "100", 10);
    if (STEPS.indexOf(zoom) < 0) { zoom = 100; }
    function apply() {
      STEPS.forEach(function (s) { img.classList.remove("pv-zoom-" + s); });
      img.classList.add("pv-zoom-" + zoom);
      // the frame scrolls inside itself when zoomed, never the page
      frame.classList.toggle("pv-zoomed", zoom > 100);
      img.sizes = zoom > 100 ? Math.round(55 * zoom / 100) + "vw" : "(min-width: 992px) 55vw, 95vw";
      window.sessionStorage.setItem(KEY, String(zoom));
    }
    function step(d) {
      var i = STEPS.indexOf(zoom) + d;
      if (i >= 0 && i < STEPS.length) { zoom = STEPS[i]; apply(); }
    }
    document.getElementById("zoom-in").addEventListener("click", function () { step(1); });
    document.getElementById("zoom-out").addEventListener("click", function () { step(-1); });
    document.getElementById("zoom-fit").addEventListener("click", function () { zoom = 100; apply(); });
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) { return; }
      var to = e.key === "ArrowLeft" ? img.dataset.prev : e.key === "ArrowRight" ? img.dataset.next : "";
      if (to) { window.location.href = to; }
      else if (e.key === "+") { step(1); }
      else if (e.key === "-") { step(-1); }
    });
    apply();
  });
})();
