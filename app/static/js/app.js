// Toasts (flash messages and HX-Trigger {"toast": {...}}), print buttons, the staff menu button, tables that
// scroll in their own box, the loading bar shown while an HTMX request is out, and error marks
// that follow live re-checks.
(function () {
  function show(message, level) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.setAttribute("role", "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  document.documentElement.classList.add("js");
  function wrapTables(root) {
    (root || document).querySelectorAll("table.grid").forEach(function (table) {
      var parent = table.parentElement;
      if (!parent || parent.classList.contains("table-wrap") || parent.classList.contains("table-scroll")) return;
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      parent.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    wrapTables(document);
    var toggle = document.querySelector(".menu-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var bar = toggle.closest(".sidebar");
        var open = bar.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
  });
  var pending = 0;
  function loading(delta) {
    pending = Math.max(0, pending + delta);
    document.body.classList.toggle("is-loading", pending > 0);
    document.body.setAttribute("aria-busy", pending > 0 ? "true" : "false");
  }
  document.addEventListener("htmx:beforeRequest", function () { loading(1); });
  document.addEventListener("htmx:afterRequest", function () { loading(-1); });
  document.addEventListener("htmx:load", function (e) { wrapTables(e.detail.elt.parentElement || e.detail.elt); });
  document.addEventListener("toast", function (e) { show(e.detail.message, e.detail.level); });
  // Forms re-checked live after a refused submit (the journal voucher swaps its error slots out
  // of band): a field whose slot is now empty loses its red mark and aria-invalid.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-error-scope]").forEach(function (scope) {
      var bad = !!scope.querySelector("[data-error-slot] .error");
      scope.classList.toggle("has-error", bad);
      if (!bad) scope.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 6000);
    });
  });
  // Print buttons (data-print) anywhere: receipts, passbooks, print views. No inline script.
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-print]")) { e.preventDefault(); window.print(); }
  });
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status === 401) {
      // Signed out (idle timeout): the server normally answers with HX-Redirect; if not, go to sign-in.
      window.location.assign("/auth/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
      return;
    }
    show(xhr.status === 403 ? "Your role does not allow this action." : "The request failed (" + xhr.status + "). Nothing was changed.", "error");
  });
})();
