// The business day page: a refused action (400/409/422) answers with the page and its message; show it.
document.addEventListener("htmx:beforeSwap", function (e) {
  var s = e.detail.xhr.status;
  if ((s === 400 || s === 409 || s === 422) && e.detail.target && e.detail.target.id === "day-page") {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
