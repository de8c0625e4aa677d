/* pollhub: the transport, the WebSocket connection both pages use.
 *
 * PollConnection keeps one WebSocket to /ws open: it sends the page's hello on
 * every (re)connect, reconnects by itself with exponential backoff and jitter
 * (0.5 s doubling to 10 s, +-30 %), retries at once when the device comes back
 * online or the page becomes visible, and checks with a hello now and then
 * that a quiet connection is still alive (a phone that changed Wi-Fi can keep
 * a dead socket for minutes). request() sends a message with a fresh "ref"
 * and resolves with the server's direct reply (an "error" reply too).
 *
 * States, as given to onState: "connecting" (first attempt), "open" (the
 * server's welcome arrived), "reconnecting" (waiting to retry; detail.retryAt
 * says when), "stopped" (stop() was called).
 */
var MIN_DELAY = 500; // ms before the first retry
var MAX_DELAY = 10000; // ms, the longest wait between two attempts
var JITTER = 0.3; // +-30 % so that a roomful of phones does not retry in step
var IDLE_CHECK = 25000; // ms of silence before checking the connection with a hello
var HELLO_RETRY = 3000; // ms (plus as much jitter) before a hello the server rate-limited is sent again
var CHECK_TIMEOUT = 8000; // ms the server gets to answer that check
var REQUEST_TIMEOUT = 10000; // ms a request() waits for its reply
var CONNECT_TIMEOUT = 10000; // ms a connection attempt may take before it is abandoned

export function socketUrl() {
  return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + "/ws";
}

/* A delay in ms for retry number `attempt` (0, 1, 2, ...). */
export function backoff(attempt) {
  var base = Math.min(MAX_DELAY, MIN_DELAY * Math.pow(2, attempt));
  var random = new Uint32Array(1);
  crypto.getRandomValues(random);
  var spread = (random[0] / 4294967296) * 2 - 1; // [-1, 1)
  return Math.round(base * (1 + JITTER * spread));
}

export function PollConnection(options) {
  this.url = options.url || socketUrl();
  this.hello = options.hello || function () { return {}; };
  this.onMessage = options.onMessage || function () {};
  this.onState = options.onState || function () {};
  this.ws = null;
  this.state = "idle";
  this.attempt = 0;
  this.retryTimer = 0;
  this.connectTimer = 0;
  this.checkTimer = 0;
  this.lastHeard = 0;
  this.checking = false;
  this.refs = 0;
  this.pending = new Map(); // ref -> {resolve, reject, timer}
  this.stopped = false;
  this._onOnline = this.retryNow.bind(this);
  this._onVisible = this._visibilityChanged.bind(this);
}

PollConnection.prototype.start = function () {
  window.addEventListener("online", this._onOnline);
  document.addEventListener("visibilitychange", this._onVisible);
  this.checkTimer = setInterval(this._checkAlive.bind(this), 5000);
  this._connect();
  return this;
};

/* Close for good: no more reconnects. */
PollConnection.prototype.stop = function () {
  this.stopped = true;
  clearTimeout(this.retryTimer);
  clearTimeout(this.connectTimer);
  clearInterval(this.checkTimer);
  window.removeEventListener("online", this._onOnline);
  document.removeEventListener("visibilitychange", this._onVisible);
  var ws = this.ws;
  this._forget(ws);
  if (ws) {
    try { ws.close(1000); } catch (e) { /* already closing */ }
  }
  this._setState("stopped");
};

PollConnection.prototype.isOpen = function () {
  return this.state === "open";
};

/* Send a message now; false when there is no open connection. */
PollConnection.prototype.send = function (message) {
  var ws = this.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(message));
  return true;
};

/* Send a message with a new ref; resolves with the direct reply (maybe an
 * "error" message), rejects if it cannot be sent, the connection drops or
 * no reply comes within the timeout. */
PollConnection.prototype.request = function (message, timeout) {
  var self = this;
  var ref = "r" + ++this.refs;
  var body = Object.assign({}, message, { ref: ref });
  return new Promise(function (resolve, reject) {
    if (!self.send(body)) {
      reject(new Error("not connected"));
      return;
    }
    var timer = setTimeout(function () {
      self.pending.delete(ref);
      reject(new Error("no reply from the server"));
    }, timeout || REQUEST_TIMEOUT);
    self.pending.set(ref, { resolve: resolve, reject: reject, timer: timer });
  });
};

/* Skip the wait and try to reconnect now (after a network change, say). */
PollConnection.prototype.retryNow = function () {
  if (this.stopped || this.state !== "reconnecting" || this.ws) return; // an attempt is already under way
  clearTimeout(this.retryTimer);
  this._connect();
};

PollConnection.prototype._setState = function (state, detail) {
  this.state = state;
  this.onState(state, detail || {});
};

PollConnection.prototype._connect = function () {
  if (this.stopped) return;
  clearTimeout(this.retryTimer);
  if (this.ws) {
    var old = this.ws;
    this._forget(old);
    try { old.close(); } catch (e) { /* ignore */ }
  }
  this._setState(this.attempt === 0 && this.state !== "reconnecting" ? "connecting" : "reconnecting", { retryAt: 0 });
  var ws;
  try {
    ws = new WebSocket(this.url);
  } catch (e) {
    this._scheduleRetry();
    return;
  }
  var self = this;
  this.ws = ws;
  this.connectTimer = setTimeout(function () { self._drop(ws); }, CONNECT_TIMEOUT);
  function sendHello() {
    if (self.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    var hello = Object.assign({ type: "hello" }, self.hello(), { ref: "hello" });
    ws.send(JSON.stringify(hello));
  }
  ws.onopen = function () {
    self.lastHeard = Date.now();
    sendHello();
  };
  ws.onmessage = function (event) {
    if (self.ws !== ws) return;
    self.lastHeard = Date.now();
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (!message || typeof message !== "object") return;
    if (message.type === "welcome") {
      clearTimeout(self.connectTimer);
      self.attempt = 0;
      self._setState("open");
    }
    if (message.ref !== undefined && message.ref !== null && self.pending.has(message.ref)) {
      var waiter = self.pending.get(message.ref);
      self.pending.delete(message.ref);
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    }
    if (typeof message.ref === "string" && message.ref.indexOf("check") === 0) {
      self.checking = false;
    }
    if (message.type === "error" && message.ref === "hello" && message.code === "rate_limited") {
      // Too many new voters from this address at once (a hall behind one
      // NAT): this page's voter id is not in use yet, so ask again shortly.
      setTimeout(sendHello, HELLO_RETRY + Math.random() * HELLO_RETRY);
    }
    self.onMessage(message);
  };
  ws.onclose = function () {
    if (self.ws !== ws) return;
    self._drop(ws);
  };
  ws.onerror = function () { /* onclose follows */ };
};

/* Forget a socket (closed, dead or abandoned) and schedule the next attempt. */
PollConnection.prototype._drop = function (ws) {
  if (this.ws !== ws || this.stopped) return;
  this._forget(ws);
  try { ws.close(); } catch (e) { /* ignore */ }
  this._scheduleRetry();
};

PollConnection.prototype._forget = function (ws) {
  clearTimeout(this.connectTimer);
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }
  this.ws = null;
  this.checking = false;
  this.pending.forEach(function (waiter) {
    clearTimeout(waiter.timer);
    waiter.reject(new Error("disconnected"));
  });
  this.pending.clear();
};

PollConnection.prototype._scheduleRetry = function () {
  if (this.stopped) return;
  var delay = backoff(this.attempt);
  this.attempt += 1;
  this.retryTimer = setTimeout(this._connect.bind(this), delay);
  this._setState("reconnecting", { retryAt: Date.now() + delay });
};

/* Every few seconds: after a long silence, ask the server something; no
 * answer in time means the connection is dead, so drop it and reconnect. */
PollConnection.prototype._checkAlive = function (force) {
  var ws = this.ws;
  if (!ws || this.state !== "open" || this.checking) return;
  if (force !== true && Date.now() - this.lastHeard < IDLE_CHECK) return;
  this.checking = true;
  var self = this;
  var hello = Object.assign({ type: "hello" }, this.hello(), { ref: "check" + ++this.refs });
  if (!this.send(hello)) return;
  var asked = Date.now();
  setTimeout(function () {
    if (self.ws === ws && self.checking && self.lastHeard < asked) self._drop(ws);
  }, CHECK_TIMEOUT);
};

PollConnection.prototype._visibilityChanged = function () {
  if (document.hidden) return;
  if (this.state === "reconnecting") this.retryNow();
  else if (Date.now() - this.lastHeard > 5000) this._checkAlive(true);
};

/* A random id: 128 bits as 32 hex digits (crypto.randomUUID needs https). */
export function randomId() {
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}
