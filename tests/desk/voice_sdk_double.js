// A stand-in for Twilio's Voice JavaScript SDK (twilio.min.js), served in its
// place by tests/desk/test_phone_browser.py: the one place a double replaces
// Twilio. It has the SDK's documented surface the phone uses (Device:
// constructor(token, options), register(), updateToken(), connect({params}) ->
// Promise<Call>, on/removeListener, destroy(); Call: accept(), reject(),
// disconnect(), mute(bool), isMuted(), parameters, and the accept, disconnect,
// cancel, reject, mute and error events), records what the page asked of it,
// and lets the test play Twilio's side through window.__voiceDouble.
"use strict";

(() => {
  class Emitter {
    constructor() { this._listeners = new Map(); }
    on(name, listener) {
      if (!this._listeners.has(name)) this._listeners.set(name, []);
      this._listeners.get(name).push(listener);
      return this;
    }
    addListener(name, listener) { return this.on(name, listener); }
    removeListener(name, listener) {
      const list = this._listeners.get(name) || [];
      this._listeners.set(name, list.filter((l) => l !== listener));
      return this;
    }
    off(name, listener) { return this.removeListener(name, listener); }
    emit(name, ...args) {
      for (const listener of [...(this._listeners.get(name) || [])]) listener(...args);
      return true;
    }
  }

  const record = {devices: [], registrations: 0, tokens: [], connects: [], destroyed: 0};

  class Call extends Emitter {
    constructor(direction, parameters, customParameters) {
      super();
      this.direction = direction;
      this.parameters = parameters;
      this.customParameters = new Map(Object.entries(customParameters || {}));
      this._status = direction === "INCOMING" ? "pending" : "connecting";
      this._muted = false;
      this.actions = [];
    }
    status() { return this._status; }
    accept() { this.actions.push("accept"); this._open(); }
    reject() {
      this.actions.push("reject");
      this._status = "closed";
      this.emit("reject");
    }
    disconnect() {
      this.actions.push("disconnect");
      this._close();
    }
    mute(shouldMute = true) {
      this.actions.push(shouldMute ? "mute" : "unmute");
      if (this._muted === shouldMute) return;
      this._muted = shouldMute;
      this.emit("mute", shouldMute, this);
    }
    isMuted() { return this._muted; }
    // Twilio's side of the call:
    _open() { this._status = "open"; this.emit("accept", this); }
    _close() {
      if (this._status === "closed") return;
      this._status = "closed";
      this.emit("disconnect", this);
    }
  }

  class Device extends Emitter {
    constructor(token, options) {
      super();
      this.token = token;
      this.options = options;
      this.state = "unregistered";
      this.calls = [];
      this._registered = null;
      record.devices.push(this);
    }
    static get isSupported() { return true; }
    register() {
      record.registrations += 1;
      this.state = "registering";
      this.emit("registering", this);
      // Resolves when the test says Twilio answered (__voiceDouble.registered()).
      return new Promise((resolve) => { this._registered = resolve; });
    }
    updateToken(token) { this.token = token; record.tokens.push(token); }
    connect(options) {
      const params = (options && options.params) || {};
      record.connects.push(params);
      const call = new Call("OUTGOING", {}, params);
      this.calls.push(call);
      return Promise.resolve(call);
    }
    destroy() {
      record.destroyed += 1;
      this.state = "destroyed";
      this.emit("destroyed", this);
    }
  }

  const device = () => record.devices[record.devices.length - 1];
  const lastCall = () => device().calls[device().calls.length - 1];

  window.Twilio = {Device, Call};
  window.__voiceDouble = {
    record,
    device,
    lastCall,
    registered() {
      device().state = "registered";
      device().emit("registered", device());
      if (device()._registered) device()._registered();
    },
    unregistered() { device().state = "unregistered"; device().emit("unregistered", device()); },
    incoming(parameters) {
      const call = new Call("INCOMING",
                            Object.assign({CallSid: "CA" + "f".repeat(32)}, parameters));
      device().calls.push(call);
      device().emit("incoming", call);
      return call;
    },
    tokenWillExpire() { device().emit("tokenWillExpire", device()); },
    answered() { lastCall()._open(); },       // the TwiML App bridged an outgoing call
    remoteHangUp() { lastCall()._close(); },  // the other end hung up
    cancel() { const call = lastCall(); call._status = "closed"; call.emit("cancel"); },
    error(code, message) { device().emit("error", {code, message}); },
    callError(code, message) { lastCall().emit("error", {code, message}); },
  };
})();
