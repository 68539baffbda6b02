// The script of desk/call.html, a file of its own: the Content-Security-Policy
// allows no inline script, so what the page knows comes in data- attributes.
// Where the caller is changes on its own (in line, with the agent, keying a
// NIP, hung up): polled and shown as text. A verification that just succeeded
// reloads the page for the payment form. The desk's phone window is told a
// call was taken, so it connects without waiting for its own poll.
(function () {
  const shown = document.getElementById("cliente-en");
  const url = shown.dataset.callUrl;
  const handoff = Number(shown.dataset.handoff);
  let verified = shown.dataset.verified === "true";
  if ("BroadcastChannel" in window) {
    new BroadcastChannel("linea-directa-telefono").postMessage({handoff: handoff});
  }
  async function refresh() {
    try {
      const response = await fetch(url, {credentials: "same-origin"});
      if (!response.ok) return;
      const call = await response.json();
      shown.textContent = call.caller_at_text;
      if (call.verified && !verified) { verified = true; location.reload(); }
    } catch (error) { /* the next poll tries again */ }
  }
  setInterval(refresh, 3000);
})();
