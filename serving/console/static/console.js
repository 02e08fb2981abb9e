/* The console's only script besides htmx (served from here; no external request).
   - "console-json": htmx sends POST parameters as JSON (the service's front door accepts only JSON bodies);
   - focus moves to the status message or heading of a swapped fragment (keyboard and screen-reader users);
   - the label-correction form offers only the labels of the chosen task. */
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }

  function syncLabels(taskSelect) {
    var target = document.getElementById(taskSelect.getAttribute("data-label-select"));
    if (!target) { return; }
    var first = null;
    Array.prototype.forEach.call(target.querySelectorAll("optgroup"), function (group) {
      var on = group.getAttribute("data-task") === taskSelect.value;
      group.disabled = !on;
      group.hidden = !on;
      if (on && !first) { first = group.querySelector("option"); }
    });
    var chosen = target.options[target.selectedIndex];
    if (first && (!chosen || chosen.parentNode.disabled)) { first.selected = true; }
  }

  function init(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("select[data-label-select]"), function (s) {
      syncLabels(s);
      s.addEventListener("change", function () { syncLabels(s); });
    });
  }

  ready(function () {
    if (window.htmx) {
      htmx.defineExtension("console-json", {
        onEvent: function (name, evt) {
          if (name === "htmx:configRequest" && evt.detail.verb !== "get") {
            evt.detail.headers["Content-Type"] = "application/json";
          }
        },
        encodeParameters: function (xhr, parameters) {
          var body = {};
          parameters.forEach(function (value, key) {
            if (Object.prototype.hasOwnProperty.call(body, key)) {
              body[key] = [].concat(body[key], value);
            } else { body[key] = value; }
          });
          xhr.overrideMimeType("text/json");
          return JSON.stringify(body);
        }
      });
      document.body.addEventListener("htmx:afterSwap", function (evt) {
        init(evt.detail.target);
        /* outerHTML swaps detach the old target: look in the document for the fresh fragment's marker */
        var focus = evt.detail.target.querySelector("[data-focus]") || document.querySelector("[data-focus]");
        if (focus) { focus.focus(); focus.removeAttribute("data-focus"); }
      });
      htmx.process(document.body);
    }
    init(document);
  });
})();
