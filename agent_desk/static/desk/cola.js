// The script of desk/index.html, a file of its own: the Content-Security-Policy
// allows no inline script, so what the page knows comes in data- attributes.
// Polls the queue and redraws the tables: text only (textContent), never HTML.
(function () {
  const url = document.getElementById("cola").dataset.callsUrl;
  function cell(tr, text, href) {
    const td = document.createElement("td");
    if (href) { const a = document.createElement("a"); a.href = href; a.textContent = text; td.appendChild(a); }
    else { td.textContent = text; }
    tr.appendChild(td);
  }
  // The call-back rows carry a form (with its CSRF token): those are redrawn only
  // by a reload, so they are left alone here.
  async function refresh() {
    try {
      const response = await fetch(url, {credentials: "same-origin"});
      if (response.status === 401) { location.reload(); return; }
      const queue = await response.json();
      for (const key of ["waiting", "in_progress"]) {
        const body = document.querySelector(`[data-list="${key}"]`);
        if (!body) continue;
        body.replaceChildren(...queue[key].map(row => {
          const tr = document.createElement("tr");
          cell(tr, String(row.id), row.url); cell(tr, row.caller); cell(tr, row.customer);
          cell(tr, row.reason); cell(tr, row.agent || "—");
          return tr;
        }));
        document.querySelector(`[data-count="${key}"]`).textContent = queue[key].length;
      }
      const callbacks = document.querySelector('[data-count="callbacks"]');
      if (callbacks.textContent !== String(queue.callbacks.length)) { location.reload(); return; }
      document.getElementById("actualizado").textContent =
        "Actualizado " + new Date().toLocaleTimeString("es-MX");
    } catch (e) { /* the next round tries again */ }
  }
  setInterval(refresh, 3000);
})();
