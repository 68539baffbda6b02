// The receipt's Imprimir button. A file of its own, not onclick=: the
// Content-Security-Policy allows no inline script or event handler.
document.getElementById("imprimir").addEventListener("click", () => window.print());
