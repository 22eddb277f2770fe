// The schema page: a refused form (400) or a refused removal (409) answers with the schema
// section and the messages in it; show it in place instead of only an error line.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if ((status === 400 || status === 409) && event.detail.target?.id === "schema") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
