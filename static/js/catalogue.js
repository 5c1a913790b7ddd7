// The catalogue's progressive enhancements: a "select all on this page" box and the
// total of the ticked leads. Without JavaScript the page still works: "Review all on
// this page" stands in for the box, and the review page shows the total.
(function () {
  "use strict";
  function format(cents, currency) {
    var whole = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = ("0" + (cents % 100)).slice(-2);
    return whole + "." + frac + " " + currency;
  }
  document.querySelectorAll("form[data-catalogue]").forEach(function (form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=lead_id]"));
    var out = form.querySelector("[data-ticked-total]");
    var currency = form.getAttribute("data-currency") || "";
    var head = form.querySelector("thead th");
    var all = document.createElement("input");
    all.type = "checkbox";
    all.setAttribute("aria-label", "Select all leads on this page");
    if (head) { head.appendChild(all); }
    function update() {
      var ticked = boxes.filter(function (b) { return b.checked; });
      var cents = ticked.reduce(function (sum, b) {
        return sum + parseInt(b.getAttribute("data-price-cents") || "0", 10);
      }, 0);
      all.checked = ticked.length === boxes.length && boxes.length > 0;
      all.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
      if (out) {
        out.hidden = ticked.length === 0;
        out.textContent = ticked.length + " ticked, " + format(cents, currency) +
          " before any quantity discount (shown on the review page).";
      }
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    if (out) { out.setAttribute("aria-live", "polite"); }
    update();
  });
})();
