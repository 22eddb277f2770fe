// Shared behaviour for every page: show htmx errors where the user can read them.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("messages");
  if (!box) return;
  let text = `Request failed (${event.detail.xhr.status}).`;
  try {
    const body = JSON.parse(event.detail.xhr.responseText);
    if (body.detail) text = body.detail;
  } catch (_) {
    const fromHeader = event.detail.xhr.getResponseHeader("X-Error-Message");
    if (fromHeader) text = decodeURIComponent(fromHeader);
  }
  const p = document.createElement("p");
  p.className = "message message-error";
  p.setAttribute("role", "alert");
  p.textContent = text;
  box.replaceChildren(p);
});
