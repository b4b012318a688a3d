// The browser's client for the gateway, behaving as the .NET SDK (src/Client, docs/client.md) does: start runs over
// REST with an idempotency key; stream a run's events over SignalR, each once and in order, dropping superseded
// step attempts; reconnect with exponential backoff and full jitter and resume after the last event delivered;
// honour stream.reset; acknowledge processed events in batches. Needs the SignalR browser client (global signalR).
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
    let retryAfterMs = null;
    const header = response.headers.get("Retry-After");
    if (header && !Number.isNaN(Number(header))) {
      retryAfterMs = Number(header) * 1000;
    }
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

  /** Once per event, nothing from a superseded attempt; a token is new when its index is past the last one held. */
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
        return true;
      }
      if (ev.step && ev.attempt > 0) {
        let position = this.steps.get(ev.step);
        if (!position || ev.attempt > position.attempt) {
          position = { attempt: ev.attempt, lastTokenIndex: -1 };
          this.steps.set(ev.step, position);
        } else if (ev.attempt < position.attempt) {
          return false;
        }
        if (ev.type === "token") {
          if (ev.index <= position.lastTokenIndex) {
            return false;
          }
          position.lastTokenIndex = ev.index;
          return true;
        }
      }
      if (this.seen.has(ev.id)) {
        return false;
      }
      this.seen.add(ev.id);
      return true;
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

    apply(ev) {
      if (!this.filter.accept(ev)) {
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
   * One gateway, one identity. accessTokenFactory: () => token (or a promise of one). Browsers cannot send headers
   * on WebSockets, so API keys are for server-side clients; the page uses tokens.
   */
  class AgentClient {
    constructor({ baseUrl = "", accessTokenFactory, reconnect = {}, ackIntervalMs = 250, logger = console } = {}) {
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
      if (this.connection && this.connection.state === signalR.HubConnectionState.Connected) {
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
        const connection = new signalR.HubConnectionBuilder()
          .withUrl(`${this.baseUrl}/hubs/runs`, { accessTokenFactory: this.accessTokenFactory })
          .build();
        try {
          await connection.start();
          this.connection = connection;
          return connection;
        } catch (e) {
          if (e && (e.statusCode === 401 || e.statusCode === 403)) {
            throw new GatewayError("unauthorized", "The gateway rejected the credentials.", e.statusCode);
          }
          if (!this.policy.canRetry(attempt)) {
            throw new GatewayError(e && e.statusCode === 429 ? "admission" : "unavailable", `Could not connect: ${e}`, e && e.statusCode);
          }
          const delay = this.policy.delay(attempt);
          this.logger.warn(`connect failed (${e}); retrying in ${Math.round(delay)} ms`);
          await sleep(delay);
        }
      }
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
        if (!processed || processed === acked || !connection || connection.state !== signalR.HubConnectionState.Connected) {
          return;
        }
        // Best effort: an older gateway without Ack, or a connection being replaced, must not disturb the stream.
        acked = processed;
        connection.invoke("Ack", runId, acked).catch((e) => {
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
        current = connection.stream("Subscribe", runId, position).subscribe({
          next: (ev) => {
            if (closed || ended || !filter.accept(ev)) {
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
            const error = hubError(e);
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
