// The page: get a dev token, start writer-reviewer, render the run's transcript live. Streaming, reconnecting,
// resuming, de-duplication and retried-step handling live in agent-client.js (the same behaviour as the .NET SDK).
"use strict";

(() => {
  const { AgentClient, RunTranscript } = window.AgentOrchestrator;
  const $ = (id) => document.getElementById(id);
  let client = null;
  let clientTenant = null;

  function setStatus(status) {
    $("status").textContent = status;
    $("status").dataset.status = status;
  }

  function fail(message) {
    $("start").disabled = false;
    setStatus("error");
    $("error").textContent = message;
  }

  async function devToken(tenant) {
    const response = await fetch("/v1/dev/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ tenant, subject: "browser" }),
    });
    if (!response.ok) {
      throw new Error(`dev token request failed (${response.status}); dev tokens are only enabled in development`);
    }
    return (await response.json()).token;
  }

  async function clientFor(tenant) {
    if (client && clientTenant === tenant) {
      return client;
    }
    if (client) {
      await client.stop();
    }
    const token = await devToken(tenant);
    // ?transport=websocket streams over the plain WebSocket endpoint instead of the SignalR hub.
    const transport = new URLSearchParams(window.location.search).get("transport") === "websocket" ? "websocket" : "signalr";
    client = new AgentClient({ accessTokenFactory: () => token, transport });
    clientTenant = tenant;
    return client;
  }

  // Steps whose id or agent names a reviewer go to the reviewer panel, all others to the writer panel.
  function render(transcript) {
    const texts = { writer: "", reviewer: "" };
    for (const step of transcript.steps.values()) {
      const name = `${step.step} ${step.agent ?? ""}`.toLowerCase();
      texts[name.includes("review") ? "reviewer" : "writer"] += step.text;
    }
    for (const panel of ["writer", "reviewer"]) {
      if ($(panel).textContent !== texts[panel]) {
        $(panel).textContent = texts[panel];
        $(panel).scrollTop = $(panel).scrollHeight;
      }
    }
  }

  // run.completed is published just before the workflow closes, so GET may say "running" for a moment: poll
  // briefly. #status turns "completed" only once GET /v1/runs/{id} has the result that #result then shows.
  async function showResult(runId, fallback) {
    $("result").textContent = fallback ?? "";
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        const run = await client.getRun(runId);
        if (run.status !== "running") {
          $("result").textContent = typeof run.result === "string" ? run.result : JSON.stringify(run.result ?? null);
          setStatus(run.status);
          return;
        }
      } catch (e) {
        // Transient: try again below.
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    fail("The run reported completion but its result could not be read.");
  }

  async function start(event) {
    event.preventDefault();
    const prompt = $("prompt").value.trim();
    if (!prompt) {
      $("error").textContent = "Type a prompt first.";
      return;
    }
    $("error").textContent = "";
    $("start").disabled = true;
    $("writer").textContent = "";
    $("reviewer").textContent = "";
    $("result").textContent = "";
    setStatus("starting");
    try {
      const agents = await clientFor($("tenant").value.trim() || "demo");
      const { runId } = await agents.startRun("writer-reviewer", prompt);
      $("run-id").textContent = runId;
      setStatus("running");
      const transcript = new RunTranscript();
      agents.subscribe(runId, {
        onEvent: (ev) => {
          transcript.apply(ev);
          render(transcript);
          if (transcript.status === "running" && $("status").dataset.status === "reconnecting") {
            setStatus("running");
          }
        },
        onReconnecting: () => setStatus("reconnecting"),
        onComplete: () => {
          $("start").disabled = false;
          if (transcript.status === "completed") {
            showResult(runId, transcript.result);
          } else {
            setStatus(transcript.status);
            $("error").textContent = transcript.error ?? "";
          }
        },
        onError: (e) => fail(`[${e.code ?? "error"}] ${e.message ?? e}`),
      });
    } catch (e) {
      fail(e.code ? `[${e.code}] ${e.message}` : String(e));
    }
  }

  $("run-form").addEventListener("submit", start);
})();
