// Progressive enhancement only: every page works without this file.
// On a phone, sections marked data-fold-narrow (the catalogue's filters) start folded, so
// the results are not pushed below a screenful of fields; the page is rendered open for
// desktops and for browsers without script.
(function () {
  if (!window.matchMedia || !window.matchMedia("(max-width: 699.98px)").matches) return;
  document.querySelectorAll("details[data-fold-narrow]").forEach(function (d) {
    d.open = false;
  });
})();
