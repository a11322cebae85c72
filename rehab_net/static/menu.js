// On a phone the header's links, language switch and user fold into the "Menu" button (a
// <details>), so every page starts with its content, not with two screens of links. The menu is
// open in the HTML: without JavaScript, and on a desk, everything stays in view.
(function () {
  "use strict";
  var menu = document.querySelector("header details.menu");
  if (!menu) { return; }
  var narrow = window.matchMedia("(max-width: 40rem)");
  function fit() { menu.open = !narrow.matches; }
  fit();
  narrow.addEventListener("change", fit);
})();
