// The agent's softphone (agent_desk/phone.py): Twilio's Voice JavaScript SDK in a
// window that stays open while the agent works the desk in another tab. Words on
// screen are set with textContent only; settings come from the page's data-
// attributes, since its Content-Security-Policy allows no inline script.
"use strict";

(() => {
  const root = document.getElementById("telefono");
  if (!root) return;  // the page says why there is no phone (not configured, no SDK)
  const $ = (id) => document.getElementById(id);
  const statusLine = $("telefono-estado");
  const panels = {incoming: $("telefono-entrante"), call: $("telefono-llamada"),
                  assignment: $("telefono-asignacion")};
  const POLL_MS = 1000 * Number(root.dataset.pollSeconds || 2);
  // The SDK retries a signalling connection that opens and drops without a word;
  // after this long unregistered, the agent is told rather than left "Conectando…".
  const PATIENCE_MS = 1000 * Number(root.dataset.patienceSeconds || 10);
  // Where the caller of the agent's call is (the core's HandoffView.caller_at).
  const PLACES = {ivr: "está en el IVR", queue: "espera en la fila", agent: "está con usted",
                  verifying: "marca su NIP en el IVR", gone: "ya colgó"};
  const SESSION_ENDED = "Su sesión del escritorio terminó. Entre de nuevo al escritorio " +
                        "y vuelva a abrir el teléfono.";

  let device = null;
  let online = false;       // registered with Twilio: calls can reach this phone
  let ringing = null;       // an incoming call not answered yet
  let active = null;        // the call the agent is on (or being connected)
  let connecting = false;   // device.connect() not settled yet
  let assignment = null;    // the last estado.json
  let ended = false;        // the desk session ended: the phone stops asking
  let pollTimer = null;
  let patience = null;      // timer: registration taking too long
  let troubleSaid = false;  // a specific error is on screen: keep it there
  // Handoffs this page already connected to: after the agent hangs up, a caller
  // still shown "in the queue" must not pull the agent straight back in.
  const autoConnected = new Set();
  const callers = new WeakMap();  // call -> who is on the other end, as shown

  class SessionEnded extends Error {}

  function say(text) { statusLine.textContent = text; }

  function idle(detail) {
    if (ended) { say(SESSION_ENDED); return; }
    const state = online ? "Teléfono listo" : "Sin conexión con Twilio";
    say(detail ? `${state}. ${detail}` : state);
  }

  // Twilio's errors in the agent's words; the code stays for whoever helps them.
  function describe(error) {
    const code = error && error.code;
    const suffix = code ? ` (código ${code})` : "";
    if ([20101, 20103, 31202, 31204].includes(code)) {
      return `Twilio no aceptó el permiso del teléfono${suffix}. Avise al administrador.`;
    }
    if ([20104, 31205].includes(code)) {
      return `El permiso del teléfono venció${suffix}. Recargue esta ventana.`;
    }
    if ([31401, 31402].includes(code)) {
      return `El navegador no permitió usar el micrófono${suffix}. ` +
             "Permítalo para este sitio y recargue esta ventana.";
    }
    if ([31003, 31005, 31009, 53000, 53001].includes(code)) {
      return `Sin conexión con Twilio${suffix}. El teléfono vuelve a intentarlo solo.`;
    }
    if (code === 53405) return `Se perdió el audio de la llamada${suffix}.`;
    const detail = (error && error.message) || "sin detalle";
    return `Error del teléfono${suffix}: ${detail}`;
  }

  function render() {
    panels.incoming.hidden = !ringing;
    panels.call.hidden = !active;
    const current = assignment && assignment.handoff !== null ? assignment : null;
    panels.assignment.hidden = !current || Boolean(active) || ended;
    if (current) {
      const place = PLACES[current.caller_at];
      $("asignacion-texto").textContent =
        `Llamada ${current.handoff}: ${current.caller} · ${current.customer}` +
        (place ? ` · el cliente ${place}` : "");
    }
    $("conectar").disabled = !current || !device || ended || connecting || Boolean(ringing);
    if (active) {
      $("llamada-numero").textContent = callers.get(active) || "—";
      $("llamada-cliente").textContent = current ? current.customer : "sin identificar";
    }
  }

  // ---- the desk: token and assignment ------------------------------------------
  async function fetchToken() {
    const response = await fetch(root.dataset.tokenUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": root.dataset.csrf, "Accept": "application/json"},
    });
    // 400: the CSRF token no longer matches a session, which also means it ended.
    if (response.status === 401 || response.status === 400) throw new SessionEnded();
    if (response.status === 503) {
      throw new Error("El teléfono del escritorio no está configurado. " +
                      "Puede seguir atendiendo las llamadas en pantalla.");
    }
    if (!response.ok) {
      throw new Error(`El escritorio no dio el permiso del teléfono (${response.status}).`);
    }
    return (await response.json()).token;
  }

  function sessionEnded() {
    ended = true;
    clearInterval(pollTimer);
    // A call in progress goes on; the phone goes away when it ends.
    if (device && !active && !ringing) device.destroy();
    say(SESSION_ENDED);
    render();
  }

  let polling = false;
  let pollAgain = false;
  async function poll() {
    if (ended) return;
    if (polling) { pollAgain = true; return; }
    polling = true;
    try {
      const response = await fetch(root.dataset.estadoUrl, {
        credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (response.status === 401) { sessionEnded(); return; }
      if (!response.ok) return;
      assignment = await response.json();
      render();
      const id = assignment.handoff;
      if (id !== null && assignment.caller_at === "queue" && online && !autoConnected.has(id)) {
        connectTo(id);
      }
    } catch (error) {
      // The desk did not answer (network, restart): the next round asks again.
    } finally {
      polling = false;
      if (pollAgain) { pollAgain = false; poll(); }
    }
  }

  // ---- calls ------------------------------------------------------------------
  function finished(call, detail) {
    if (ringing === call) ringing = null;
    if (active === call) active = null;
    if (ended && device && !active && !ringing) device.destroy();
    render();
    idle(detail);
  }

  function follow(call) {
    let trouble = null;  // the call's last error, still worth saying once it ends
    call.on("accept", () => {
      if (ringing === call) ringing = null;
      active = call;
      muted(false);
      say("En llamada");
      render();
    });
    call.on("mute", (isMuted) => {
      muted(isMuted);
      say(isMuted ? "En llamada · micrófono silenciado" : "En llamada");
    });
    call.on("disconnect", () => finished(call, trouble ? `La llamada terminó. ${trouble}`
                                                       : "La llamada terminó."));
    call.on("cancel", () => finished(call, "La persona colgó antes de que usted contestara."));
    call.on("reject", () => finished(call, "Llamada rechazada."));
    // An error may end the call (its disconnect follows) or pass: either way, say it.
    call.on("error", (error) => { trouble = describe(error); say(trouble); });
  }

  function muted(isMuted) {
    const button = $("silenciar");
    button.textContent = isMuted ? "Reactivar micrófono" : "Silenciar";
    button.setAttribute("aria-pressed", String(isMuted));
  }

  function onIncoming(call) {
    const from = (call.parameters && call.parameters.From) || "número oculto";
    ringing = call;
    callers.set(call, from);
    follow(call);
    say(`Llamada entrante de ${from}`);
    render();
  }

  async function connectTo(handoffId) {
    if (!device || active || ringing || connecting || ended) return;
    autoConnected.add(handoffId);
    connecting = true;
    const who = assignment && assignment.handoff === handoffId ? assignment.caller : "—";
    say("Conectando con el cliente…");
    render();
    try {
      const call = await device.connect({params: {handoff: String(handoffId)}});
      callers.set(call, who);
      active = call;
      muted(false);
      follow(call);
    } catch (error) {
      say(describe(error));
    } finally {
      connecting = false;
      render();
    }
  }

  // ---- the device ---------------------------------------------------------------
  function awaitRegistration() {
    clearTimeout(patience);
    patience = setTimeout(() => {
      if (online || ended || troubleSaid || active || ringing) return;
      say("Sin conexión con Twilio: no responde. El teléfono sigue intentándolo.");
    }, PATIENCE_MS);
  }

  async function refreshToken() {
    try {
      device.updateToken(await fetchToken());
    } catch (error) {
      if (error instanceof SessionEnded) sessionEnded(); else say(error.message);
    }
  }

  async function start() {
    render();
    if (typeof Twilio === "undefined" || typeof Twilio.Device !== "function") {
      say("El SDK de voz de Twilio no cargó. Recargue esta ventana o avise al administrador.");
      return;
    }
    if (Twilio.Device.isSupported === false) {
      say("Este navegador no puede usar el teléfono (necesita WebRTC). " +
          "Use Chrome, Edge o Firefox.");
      return;
    }
    say("Conectando…");
    let token;
    try {
      token = await fetchToken();
    } catch (error) {
      if (error instanceof SessionEnded) sessionEnded(); else say(error.message);
      return;
    }
    // closeProtection: the browser asks before closing this window mid-call.
    device = new Twilio.Device(token, {closeProtection: true, codecPreferences: ["opus", "pcmu"]});
    device.on("registering", () => { if (!active && !ringing) say("Conectando…"); });
    device.on("registered", () => {
      online = true;
      troubleSaid = false;
      clearTimeout(patience);
      if (!active && !ringing) idle();
      poll();
    });
    device.on("unregistered", () => {
      online = false;
      if (!active && !ringing && !troubleSaid) idle();
      awaitRegistration();
    });
    device.on("error", (error) => {
      if (ended) return;
      troubleSaid = true;
      say(describe(error));
    });
    device.on("incoming", onIncoming);
    device.on("tokenWillExpire", refreshToken);
    device.register().catch((error) => { troubleSaid = true; say(describe(error)); });
    awaitRegistration();
    render();

    poll();
    pollTimer = setInterval(poll, POLL_MS);
    // Desk pages may say "something changed" (a call taken): look at once.
    if ("BroadcastChannel" in window) {
      new BroadcastChannel("linea-directa-telefono").onmessage = () => poll();
    }
  }

  $("contestar").addEventListener("click", () => { if (ringing) ringing.accept(); });
  $("rechazar").addEventListener("click", () => { if (ringing) ringing.reject(); });
  $("silenciar").addEventListener("click", () => { if (active) active.mute(!active.isMuted()); });
  $("colgar").addEventListener("click", () => { if (active) active.disconnect(); });
  $("conectar").addEventListener("click", () => {
    if (assignment && assignment.handoff !== null) connectTo(assignment.handoff);
  });
  start();
})();
