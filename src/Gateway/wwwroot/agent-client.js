// The browser's client for the gateway, behaving as the .NET SDK (src/Client, docs/client.md) does: start runs over
// REST with an idempotency key; stream a run's events over SignalR (default) or the plain WebSocket endpoint /v1/ws
// (transport: "websocket"), each once and in order, dropping superseded step attempts and the parts of token texts
// already held; reconnect with exponential backoff and full jitter and resume after the last event delivered;
// honour stream.reset; acknowledge processed events in batches. The SignalR transport needs the SignalR browser
// client (global signalR); the WebSocket transport needs nothing.
// Exposes window.AgentOrchestrator = { AgentClient, RunTranscript, RunEventFilter, ReconnectPolicy, GatewayError }.
"use strict";

(function (global) {
  const STREAM_RESET = "stream.reset";
  const TERMINAL = new Set(["run.completed", "run.failed", "run.canceled"]);

  /** An error the gateway reported, with its code (run_not_found, unauthorized, quota.*, admission, ...). */
  class GatewayError extends Error {
    constructor(code, message, status = null, retryAfterMs = null) {
      super(message);
      this.name = "GatewayError";
      this.code = code;
      this.status = status;
      this.retryAfterMs = retryAfterMs;
    }

    get transient() {
      return this.code === "admission" || this.code === "unavailable";
    }
  }

  // Hub errors carry "[code] message", possibly wrapped by SignalR's own text.
  function hubError(error) {
    const text = String(error && error.message ? error.message : error);
    const match = /\[([a-z_]+(?:\.[a-z_]+)*)\]\s*([\s\S]*)/.exec(text);
    if (match) {
      const retry = /retry after (\d+(?:\.\d+)?) ?s/i.exec(match[2]);
      return new GatewayError(match[1], match[2], null, retry ? Number(retry[1]) * 1000 : null);
    }
    // Gateways before typed hub errors said only this for an unknown run.
    if (text.includes("run not found")) {
      return new GatewayError("run_not_found", text);
    }
    return new GatewayError("unknown", text);
  }

  async function problemError(response, runId) {
    let code = null;
    let message = null;
    let retryAfterMs = retryAfterOf(response);
    try {
      const problem = await response.json();
      code = typeof problem.code === "string" ? problem.code : null;
      message = problem.detail || problem.title || null;
      if (retryAfterMs === null && typeof problem.retryAfterSeconds === "number") {
        retryAfterMs = problem.retryAfterSeconds * 1000;
      }
    } catch {
      // Not a problem document: the status decides.
    }
    if (!code) {
      code = response.status === 401 ? "unauthorized"
        : response.status === 404 && runId ? "run_not_found"
        : response.status === 400 || response.status === 413 ? "invalid_request"
        : [502, 503, 504].includes(response.status) ? "unavailable"
        : "unknown";
    }
    return new GatewayError(code, message || `The gateway answered ${response.status}.`, response.status, retryAfterMs);
  }

  /** Exponential backoff with full jitter: attempt n waits uniformly in [0, min(max, initial * 2^(n-1))]. */
  class ReconnectPolicy {
    constructor({ initialDelayMs = 200, maxDelayMs = 10000, maxAttempts = 10 } = {}, random = Math.random) {
      this.initialDelayMs = initialDelayMs;
      this.maxDelayMs = maxDelayMs;
      this.maxAttempts = maxAttempts;
      this.random = random;
    }

    ceiling(attempt) {
      return Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(attempt - 1, 30));
    }

    // A server's Retry-After is a floor: never come back sooner than asked.
    delay(attempt, retryAfterMs = null) {
      const jittered = this.ceiling(attempt) * this.random();
      return retryAfterMs !== null && retryAfterMs > jittered ? retryAfterMs : jittered;
    }

    canRetry(attempt) {
      return attempt <= this.maxAttempts;
    }
  }

  /**
   * Once per event, nothing from a superseded attempt. A token with an offset (its text's UTF-16 offset in the step
   * attempt's text) delivers only the part beyond the text held for that attempt: a duplicate is dropped, an
   * overlapping merged or compacted range is trimmed to its new part. A token without one is new when its index is
   * past the last one held. accept(ev) returns the event to deliver (a trimmed copy when trimmed) or null.
   */
  class RunEventFilter {
    constructor() {
      this.reset();
    }

    reset() {
      this.seen = new Set();
      this.steps = new Map();
    }

    accept(ev) {
      if (ev.type === STREAM_RESET) {
        this.reset();
        return ev;
      }
      if (ev.step && ev.attempt > 0) {
        let position = this.steps.get(ev.step);
        if (!position || ev.attempt > position.attempt) {
          position = { attempt: ev.attempt, lastTokenIndex: -1, held: 0 };
          this.steps.set(ev.step, position);
        } else if (ev.attempt < position.attempt) {
          return null;
        }
        if (ev.type === "token") {
          return this.acceptToken(ev, position);
        }
      }
      if (this.seen.has(ev.id)) {
        return null;
      }
      this.seen.add(ev.id);
      return ev;
    }

    acceptToken(ev, position) {
      const text = ev.text ?? "";
      if (typeof ev.offset !== "number") {
        if (ev.index <= position.lastTokenIndex) {
          return null;
        }
        position.lastTokenIndex = ev.index;
        position.held += text.length;
        return ev;
      }
      const end = ev.offset + text.length;
      if (end <= position.held) {
        return null; // everything in it is held already
      }
      // In canonical order a range never starts past what is held; if one did, its text is taken whole.
      const skip = Math.max(0, position.held - ev.offset);
      position.held = end;
      position.lastTokenIndex = Math.max(position.lastTokenIndex, ev.index);
      return skip === 0 ? ev : { ...ev, text: text.slice(skip), offset: ev.offset + skip };
    }
  }

  /** What a UI renders: per step the current attempt's text and tool calls, input requests, final status. */
  class RunTranscript {
    constructor() {
      this.filter = new RunEventFilter();
      this.resets = 0;
      this.clear();
    }

    clear() {
      this.steps = new Map();
      this.inputRequests = [];
      this.status = "pending";
      this.result = null;
      this.error = null;
      this.cursor = null;
    }

    get finished() {
      return this.status === "completed" || this.status === "failed" || this.status === "canceled";
    }

    apply(received) {
      const ev = this.filter.accept(received);
      if (!ev) {
        return false;
      }
      if (ev.type === STREAM_RESET) {
        this.clear();
        this.resets++;
        return true;
      }
      this.cursor = ev.id;
      if (ev.step) {
        this.applyStep(ev);
      }
      const data = ev.data || {};
      switch (ev.type) {
        case "run.started": this.status = "running"; break;
        case "run.completed": this.status = "completed"; this.result = ev.text ?? null; break;
        case "run.failed": this.status = "failed"; this.error = ev.text ?? null; break;
        case "run.canceled": this.status = "canceled"; this.error = ev.text ?? null; break;
        case "input.requested":
          this.inputRequests.push({
            requestId: data.requestId ?? ev.id, prompt: data.prompt ?? ev.text ?? "", schema: data.schema ?? null,
            timeoutSeconds: data.timeoutSeconds ?? null, step: ev.step ?? null,
          });
          break;
        default: break;
      }
      return true;
    }

    applyStep(ev) {
      let step = this.steps.get(ev.step);
      if (!step) {
        step = { step: ev.step, agent: ev.agent ?? null, attempt: ev.attempt, text: "", completed: false, supersededAttempts: 0, toolCalls: [] };
        this.steps.set(ev.step, step);
      } else if (ev.attempt > step.attempt) {
        // A retried step: the earlier attempt's partial text and calls are dropped.
        Object.assign(step, { attempt: ev.attempt, text: "", completed: false, toolCalls: [], supersededAttempts: step.supersededAttempts + 1 });
      }
      const data = ev.data || {};
      const callFor = () => {
        const callId = data.callId ?? ev.id;
        let call = step.toolCalls.find((c) => c.callId === callId);
        if (!call) {
          call = { callId, tool: data.tool ?? null, arguments: null, hasResult: false, result: null, error: null };
          step.toolCalls.push(call);
        }
        return call;
      };
      if (ev.type === "token") {
        step.text += ev.text ?? "";
      } else if (ev.type === "step.completed") {
        step.completed = true;
      } else if (ev.type === "tool.call") {
        callFor().arguments = data.arguments ?? null;
      } else if (ev.type === "tool.result") {
        Object.assign(callFor(), { hasResult: true, result: data.result ?? null, error: data.error ?? null });
      }
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * The plain WebSocket endpoint /v1/ws (docs/api.md) behind the same small face as a SignalR hub connection:
   * stream(runId, cursor).subscribe({ next, complete, error }) and ack(runId, cursor). A subscribe is answered before
   * its events; "end" closes a stream (with a code when it ended early); a lost socket fails every open stream.
   */
  class WebSocketConnection {
    constructor(socket) {
      this.socket = socket;
      this.streams = new Map();
      this.pending = new Map();
      this.nextRequestId = 0;
      socket.onmessage = (message) => this.route(JSON.parse(message.data));
      socket.onclose = () => {
        const lost = new GatewayError("unknown", "The connection to the gateway was lost.");
        for (const stream of this.streams.values()) {
          stream.error(lost);
        }
        this.streams.clear();
        for (const answer of this.pending.values()) {
          answer(null);
        }
        this.pending.clear();
      };
    }

    // Browsers hide a refused upgrade's status: every failure to open is retried like an unreachable gateway.
    static open(url) {
      return new Promise((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.onopen = () => resolve(new WebSocketConnection(socket));
        socket.onerror = () => reject(new Error(`WebSocket ${url.split("?")[0]} could not be opened`));
      });
    }

    get connected() {
      return this.socket.readyState === WebSocket.OPEN;
    }

    send(message) {
      if (this.connected) {
        this.socket.send(JSON.stringify(message));
      }
    }

    route(frame) {
      if (frame.requestId !== undefined) {
        const answer = this.pending.get(frame.requestId);
        this.pending.delete(frame.requestId);
        if (answer) {
          answer(frame);
        }
        return;
      }
      if (frame.type === "event") {
        const stream = this.streams.get(frame.event.runId);
        if (stream) {
          stream.next(frame.event);
        }
      } else if (frame.type === "end") {
        const stream = this.streams.get(frame.runId);
        this.streams.delete(frame.runId);
        if (stream && frame.code) {
          stream.error(new GatewayError(frame.code, frame.message || frame.code));
        } else if (stream) {
          stream.complete();
        }
      }
      // Keep-alive pings and refused acks (acks are best effort) need nothing.
    }

    stream(runId, cursor) {
      return {
        subscribe: (observer) => {
          // Registered before the subscribe goes out: its events may arrive right behind the answer.
          this.streams.set(runId, observer);
          const requestId = String(++this.nextRequestId);
          this.pending.set(requestId, (answer) => {
            if (answer && answer.type === "error" && this.streams.get(runId) === observer) {
              this.streams.delete(runId);
              observer.error(new GatewayError(answer.code, answer.message));
            }
          });
          this.send({ type: "subscribe", requestId, runId, cursor });
          return {
            dispose: () => {
              if (this.streams.get(runId) === observer) {
                this.streams.delete(runId);
                this.send({ type: "unsubscribe", runId });
              }
            },
          };
        },
      };
    }

    ack(runId, cursor) {
      this.send({ type: "ack", runId, cursor });
      return Promise.resolve();
    }

    stop() {
      this.socket.close(1000);
      return Promise.resolve();
    }
  }

  /** A SignalR hub connection with the face the client streams through (as WebSocketConnection). */
  function retryAfterOf(response) {
    const header = response.headers.get("Retry-After");
    return header && !Number.isNaN(Number(header)) ? Number(header) * 1000 : null;
  }

  /** A connect the gateway refused with a status (401, 429 quota.connections, 503 admission) and maybe a Retry-After. */
  class ConnectRefusedError extends Error {
    constructor(statusCode, retryAfterMs, cause) {
      super(`The gateway refused the connection (${statusCode}): ${cause}`);
      this.name = "ConnectRefusedError";
      this.statusCode = statusCode;
      this.retryAfterMs = retryAfterMs;
    }
  }

  // The SignalR client's negotiate, made with fetch as its own client does, except that a refusal's status and
  // Retry-After reach onRefused (SignalR wraps a failed negotiate into an error without them). Other requests (the
  // long-polling and SSE fallbacks) go through SignalR's own client.
  function defineRefusalAwareHttpClient() {
    return class extends signalR.DefaultHttpClient {
      constructor(onRefused) {
        super(signalR.NullLogger.instance);
        this.onRefused = onRefused;
      }

      async send(request) {
        if (!/\/negotiate(\?|$)/.test(request.url)) {
          return super.send(request);
        }
        const abort = new AbortController();
        if (request.abortSignal) {
          request.abortSignal.onabort = () => abort.abort();
        }
        let response;
        try {
          response = await fetch(request.url, {
            method: request.method,
            body: request.content,
            cache: "no-cache",
            credentials: request.withCredentials === true ? "include" : "same-origin",
            headers: { "X-Requested-With": "XMLHttpRequest", "Content-Type": "text/plain;charset=UTF-8", ...request.headers },
            mode: "cors",
            signal: abort.signal,
          });
        } catch (e) {
          throw abort.signal.aborted ? new signalR.AbortError() : e;
        } finally {
          if (request.abortSignal) {
            request.abortSignal.onabort = null;
          }
        }
        if (!response.ok) {
          this.onRefused(response.status, retryAfterOf(response));
          throw new signalR.HttpError(response.statusText || `Status code ${response.status}`, response.status);
        }
        return new signalR.HttpResponse(response.status, response.statusText, await response.text());
      }
    };
  }
  let RefusalAwareHttpClient = null;
  // Defined on first use: the SignalR library may load after this file (the WebSocket transport needs none).
  function refusalAwareHttpClient(onRefused) {
    RefusalAwareHttpClient = RefusalAwareHttpClient || defineRefusalAwareHttpClient();
    return new RefusalAwareHttpClient(onRefused);
  }

  class HubConnection {
    constructor(connection) {
      this.connection = connection;
    }

    get connected() {
      return this.connection.state === signalR.HubConnectionState.Connected;
    }

    stream(runId, cursor) {
      return this.connection.stream("Subscribe", runId, cursor);
    }

    ack(runId, cursor) {
      return this.connection.invoke("Ack", runId, cursor);
    }

    stop() {
      return this.connection.stop();
    }
  }

  /**
   * One gateway, one identity. accessTokenFactory: () => token (or a promise of one). Browsers cannot send headers
   * on WebSockets, so API keys are for server-side clients; the page uses tokens. transport: "signalr" (default) or
   * "websocket" (/v1/ws, with the token as access_token).
   */
  class AgentClient {
    constructor({ baseUrl = "", accessTokenFactory, transport = "signalr", reconnect = {}, ackIntervalMs = 250, logger = console } = {}) {
      if (transport !== "signalr" && transport !== "websocket") {
        throw new TypeError("transport must be \"signalr\" or \"websocket\"");
      }
      this.transport = transport;
      if (typeof accessTokenFactory !== "function") {
        throw new TypeError("accessTokenFactory is required");
      }
      this.baseUrl = baseUrl.replace(/\/$/, "");
      this.accessTokenFactory = accessTokenFactory;
      this.policy = new ReconnectPolicy(reconnect);
      this.ackIntervalMs = ackIntervalMs;
      this.logger = logger;
      this.connection = null;
      this.connecting = null;
      this.stopped = false;
    }

    async request(method, path, body, runId, idempotencyKey) {
      for (let attempt = 1; ; attempt++) {
        let failure;
        try {
          const headers = { Authorization: `Bearer ${await this.accessTokenFactory()}` };
          if (body !== undefined) {
            headers["Content-Type"] = "application/json";
          }
          if (idempotencyKey) {
            headers["Idempotency-Key"] = idempotencyKey;
          }
          const response = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
          if (response.ok) {
            return response;
          }
          failure = await problemError(response, runId);
          if (!failure.transient) {
            throw failure;
          }
        } catch (e) {
          if (e instanceof GatewayError && !e.transient) {
            throw e;
          }
          failure = e instanceof GatewayError ? e : new GatewayError("unavailable", String(e));
        }
        if (!this.policy.canRetry(attempt)) {
          throw failure;
        }
        await sleep(this.policy.delay(attempt, failure.retryAfterMs));
      }
    }

    /** Starts a flow; the idempotency key (new when not given) keeps this client's own retries from starting twice. */
    async startRun(flow, input, idempotencyKey = null) {
      const key = idempotencyKey || (global.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
      const response = await this.request("POST", "/v1/runs", { flow, input }, null, key);
      return { runId: (await response.json()).runId, created: response.status === 201 };
    }

    async getRun(runId) {
      return (await this.request("GET", `/v1/runs/${encodeURIComponent(runId)}`, undefined, runId)).json();
    }

    // One shared connection; reconnecting is done here (not by SignalR's automatic reconnect) because a stream must
    // be resubscribed with its cursor anyway.
    ensureConnected() {
      if (this.connection && this.connection.connected) {
        return Promise.resolve(this.connection);
      }
      if (!this.connecting) {
        this.connecting = this.connect().finally(() => { this.connecting = null; });
      }
      return this.connecting;
    }

    async connect() {
      for (let attempt = 1; ; attempt++) {
        if (this.stopped) {
          throw new GatewayError("stopped", "The client was stopped.");
        }
        try {
          this.connection = this.transport === "websocket" ? await this.openWebSocket() : await this.openHub();
          return this.connection;
        } catch (e) {
          if (e && (e.statusCode === 401 || e.statusCode === 403)) {
            throw new GatewayError("unauthorized", "The gateway rejected the credentials.", e.statusCode);
          }
          if (!this.policy.canRetry(attempt)) {
            throw new GatewayError(e && e.statusCode === 429 ? "admission" : "unavailable", `Could not connect: ${e}`, e && e.statusCode,
              e && e.retryAfterMs !== undefined ? e.retryAfterMs : null);
          }
          // A refusal's Retry-After (503 admission, 429 quota.connections) is a floor, as for REST requests.
          const delay = this.policy.delay(attempt, e && e.retryAfterMs !== undefined ? e.retryAfterMs : null);
          this.logger.warn(`connect failed (${e}); retrying in ${Math.round(delay)} ms`);
          await sleep(delay);
        }
      }
    }

    async openHub() {
      // SignalR reports a refused negotiate without its headers; this HTTP client keeps them.
      let refusal = null;
      const httpClient = refusalAwareHttpClient((status, retryAfterMs) => { refusal = { status, retryAfterMs }; });
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(`${this.baseUrl}/hubs/runs`, { accessTokenFactory: this.accessTokenFactory, httpClient })
        .build();
      try {
        await connection.start();
      } catch (e) {
        throw refusal ? new ConnectRefusedError(refusal.status, refusal.retryAfterMs, e) : e;
      }
      return new HubConnection(connection);
    }

    async openWebSocket() {
      const base = new URL(`${this.baseUrl}/v1/ws`, global.location.href);
      base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
      return WebSocketConnection.open(`${base}?access_token=${encodeURIComponent(await this.accessTokenFactory())}`);
    }

    /**
     * Streams a run's events after cursor (null: from the start) to onEvent, each once and in order, until the
     * terminal event (then onComplete). Reconnects and resumes by itself; onReconnecting(attempt, delayMs) says so.
     * stream.reset reaches onEvent: discard what was built for the run (RunTranscript does). Fatal errors go to
     * onError. Returns { close() }.
     */
    subscribe(runId, { cursor = null, onEvent, onComplete = () => {}, onError = () => {}, onReconnecting = () => {} }) {
      const filter = new RunEventFilter();
      let position = cursor;
      let processed = null;
      let acked = null;
      let warned = false;
      let closed = false;
      let failures = 0;
      let current = null;

      const ack = () => {
        const connection = this.connection;
        if (!processed || processed === acked || !connection || !connection.connected) {
          return;
        }
        // Best effort: an older gateway without Ack, or a connection being replaced, must not disturb the stream.
        acked = processed;
        connection.ack(runId, acked).catch((e) => {
          if (!warned) {
            warned = true;
            this.logger.warn(`acknowledging run ${runId} failed; the stream goes on: ${e}`);
          }
        });
      };
      const ackTimer = setInterval(ack, this.ackIntervalMs);
      const finish = (callback, value) => {
        if (closed) {
          return;
        }
        closed = true;
        clearInterval(ackTimer);
        ack();
        callback(value);
      };

      const retry = async (reason, retryAfterMs = null) => {
        failures++;
        if (!this.policy.canRetry(failures)) {
          finish(onError, new GatewayError("unavailable", `The stream of run ${runId} could not be resumed: ${reason}`));
          return;
        }
        const delay = this.policy.delay(failures, retryAfterMs);
        onReconnecting(failures, delay);
        await sleep(delay);
        open();
      };

      const open = async () => {
        if (closed) {
          return;
        }
        let connection;
        try {
          connection = await this.ensureConnected();
        } catch (e) {
          finish(onError, e);
          return;
        }
        if (closed) {
          return;
        }
        let ended = false;
        current = connection.stream(runId, position).subscribe({
          next: (received) => {
            const ev = closed || ended ? null : filter.accept(received);
            if (!ev) {
              return;
            }
            failures = 0;
            if (ev.type !== STREAM_RESET) {
              position = ev.id; // a reset is no cursor the gateway could resume from
            }
            onEvent(ev);
            if (ev.type !== STREAM_RESET) {
              processed = ev.id;
            }
            if (TERMINAL.has(ev.type)) {
              ended = true;
              finish(onComplete);
            }
          },
          complete: () => {
            if (!ended && !closed) {
              retry("the stream ended before the run did");
            }
          },
          error: (e) => {
            if (ended || closed) {
              return;
            }
            const error = e instanceof GatewayError ? e : hubError(e);
            // Connection loss surfaces as an untyped error; slow_consumer and transient codes resume too.
            if (error.code === "unknown" || error.code === "slow_consumer" || error.transient) {
              retry(error.message, error.retryAfterMs);
            } else {
              finish(onError, error);
            }
          },
        });
      };

      open();
      return {
        close: () => {
          if (current) {
            current.dispose();
          }
          finish(() => {});
        },
      };
    }

    async stop() {
      this.stopped = true;
      if (this.connection) {
        await this.connection.stop();
      }
    }
  }

  global.AgentOrchestrator = { AgentClient, RunTranscript, RunEventFilter, ReconnectPolicy, GatewayError };
})(window);
