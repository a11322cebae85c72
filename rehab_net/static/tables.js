// Tables scroll inside their own region on narrow screens, never the page (issue 15). Each table
// is wrapped in a focusable region (keyboard users scroll it with the arrow keys) named by the
// table's caption, unless a template wrapped it so already (.table-scroll); a hint before the
// region says the table is wider than the screen, only while it is.
(function () {
  "use strict";
  var hintText = document.body.getAttribute("data-scroll-hint") || "";
  var wrapped = [];
  document.querySelectorAll("main table").forEach(function (table, i) {
    if (table.closest(".week-wrap")) { return; }
    var region = table.closest(".table-scroll");
    if (!region) {
      region = document.createElement("div");
      region.className = "table-scroll";
      region.setAttribute("role", "region");
      region.setAttribute("tabindex", "0");
      var caption = table.querySelector("caption");
      if (caption) {
        if (!caption.id) { caption.id = "table-caption-" + i; }
        region.setAttribute("aria-labelledby", caption.id);
      } else {
        region.setAttribute("aria-label", hintText);
      }
      table.parentNode.insertBefore(region, table);
      region.appendChild(table);
    }
    var hint = document.createElement("p");
    hint.className = "scroll-hint";
    hint.textContent = hintText;
    hint.hidden = true;
    region.parentNode.insertBefore(hint, region);
    wrapped.push([region, hint]);
  });
  function update() {
    wrapped.forEach(function (pair) {
      pair[1].hidden = pair[0].scrollWidth <= pair[0].clientWidth + 1;
    });
  }
  update();
  window.addEventListener("resize", update);
})();
