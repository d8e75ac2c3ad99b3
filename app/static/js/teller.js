// Counter screens (no inline script under the CSP):
// - forms marked data-swap-422 show the server's refusal (422 + the form with its errors)
//   instead of htmx's default of ignoring 4xx responses.
document.addEventListener("htmx:beforeSwap", function (e) {
  var source = (e.detail.requestConfig && e.detail.requestConfig.elt) || e.detail.elt;
  if (e.detail.xhr.status === 422 && source && source.closest("[data-swap-422]")) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
