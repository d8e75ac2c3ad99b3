// Toasts from flash messages and from HX-Trigger {"toast": {...}}; nothing else lives here.
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
  document.addEventListener("toast", function (e) { show(e.detail.message, e.detail.level); });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 6000);
    });
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
