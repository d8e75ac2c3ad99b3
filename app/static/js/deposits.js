// Deposit screens: show only the fields of the chosen account type. No inline script.
(function () {
  function sync(select) {
    var form = select.closest("form");
    if (form) form.setAttribute("data-kind", select.value);
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-kind-switch]")) sync(e.target);
  });
  // Forms marked data-swap-422 show the server's refusal (422 + the form with its errors)
  // instead of htmx's default of ignoring 4xx responses.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var source = (e.detail.requestConfig && e.detail.requestConfig.elt) || e.detail.elt;
    if (e.detail.xhr.status === 422 && source && source.closest("[data-swap-422]")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-kind-switch]").forEach(sync);
  });
})();
