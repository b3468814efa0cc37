/*
 * Start Swagger UI on an API entity's Definition tab (catalog/partials/_definition.html).
 *
 * The spec comes from the `#api-definition` json_script element, never from a URL, and
 * validatorUrl is null so the browser never calls swagger.io. "Try it out" is disabled
 * (no submit methods): the portal documents APIs, it does not proxy calls to them.
 *
 * The bundle may not have run yet when this does (when the tab is swapped in by htmx,
 * inserted scripts load asynchronously), so wait for it instead of assuming order.
 */
(function () {
  "use strict";

  function start() {
    var holder = document.getElementById("swagger-ui");
    var data = document.getElementById("api-definition");
    if (!holder || !data || holder.dataset.swaggerStarted) {
      return true;
    }
    if (typeof window.SwaggerUIBundle !== "function") {
      return false;
    }
    holder.dataset.swaggerStarted = "true";
    var spec;
    try {
      spec = JSON.parse(data.textContent);
    } catch (error) {
      holder.textContent = "The API definition could not be read.";
      return true;
    }
    window.SwaggerUIBundle({
      spec: spec,
      dom_id: "#swagger-ui",
      deepLinking: false,
      supportedSubmitMethods: [],
      validatorUrl: null,
    });
    // Swagger UI renders (and re-renders) after this call returns: fix up each time.
    demoteLandmarks();
    new MutationObserver(demoteLandmarks).observe(holder, { childList: true, subtree: true });
    return true;
  }

  // Swagger UI writes its own <main> and <h1>; inside the portal's page there must be one
  // main landmark and one top heading. Roles override them without moving nodes React owns.
  function demoteLandmarks() {
    var holder = document.getElementById("swagger-ui");
    holder.querySelectorAll("main:not([role])").forEach(function (main) {
      main.setAttribute("role", "region");
      main.setAttribute("aria-label", "Operations");
    });
    holder.querySelectorAll("h1:not([role])").forEach(function (heading) {
      heading.setAttribute("role", "heading");
      heading.setAttribute("aria-level", "2");
    });
  }

  function startWhenReady() {
    if (start()) {
      return;
    }
    var bundle = document.getElementById("swagger-ui-bundle-script");
    if (bundle) {
      bundle.addEventListener("load", start, { once: true });
    }
    window.addEventListener("load", start, { once: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startWhenReady, { once: true });
  } else {
    startWhenReady();
  }
})();
