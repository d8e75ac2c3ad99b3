// Staff payment screens (no inline script under the CSP): a refused resolve or reconciliation
// (409/422) answers with its panel and the message; show it instead of htmx's default of
// ignoring 4xx responses.
document.addEventListener("htmx:beforeSwap", function (e) {
  var s = e.detail.xhr.status;
  var id = e.detail.target && e.detail.target.id;
  if ((s === 409 || s === 422) && (id === "attention-panel" || id === "payment-attention" || id === "recon-panel")) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
