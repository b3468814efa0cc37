// Apply the person's theme before the page paints: light, dark, or the system's ("auto").
(function () {
  var root = document.documentElement;
  var choice = root.getAttribute("data-theme-choice") || "auto";
  var dark = choice === "dark" ||
    (choice === "auto" && window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  root.setAttribute("data-bs-theme", dark ? "dark" : "light");
})();
