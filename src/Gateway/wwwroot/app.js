// The page's only logic: get a dev token, start writer-reviewer over the hub, stream both agents into their panels.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const panels = { writer: $("writer"), reviewer: $("reviewer") };
  let connection = null;
  let connectionTenant = null;

  function setStatus(status) {
    $("status").textContent = status;
    $("status").dataset.status = status;
  }

  function panelFor(ev) {
    const name = `${ev.step ?? ""} ${ev.agent ?? ""}`.toLowerCase();
    return name.includes("review") ? panels.reviewer : panels.writer;
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

  async function connect(tenant) {
    if (connection && connectionTenant === tenant) {
      return connection;
    }
    if (connection) {
      await connection.stop();
    }
    const token = await devToken(tenant);
    connection = new signalR.HubConnectionBuilder()
      .withUrl("/hubs/runs", { accessTokenFactory: () => token })
      .withAutomaticReconnect()
      .build();
    connection.token = token;
    await connection.start();
    connectionTenant = tenant;
    return connection;
  }

  // run.completed is published just before the workflow closes, so GET may say "running" for a moment: poll
  // briefly. #status turns "completed" only once GET /v1/runs/{id} has the result that #result then shows.
  async function showResult(hub, runId, fallback) {
    $("result").textContent = fallback ?? "";
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        const response = await fetch(`/v1/runs/${encodeURIComponent(runId)}`, { headers: { Authorization: `Bearer ${hub.token}` } });
        if (response.ok) {
          const run = await response.json();
          if (run.status !== "running") {
            $("result").textContent = typeof run.result === "string" ? run.result : JSON.stringify(run.result ?? null);
            setStatus(run.status);
            return;
          }
        }
      } catch (e) {
        // Transient: try again below.
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    setStatus("error");
    $("error").textContent = "The run reported completion but its result could not be read.";
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
    panels.writer.textContent = "";
    panels.reviewer.textContent = "";
    $("result").textContent = "";
    setStatus("starting");
    try {
      const hub = await connect($("tenant").value.trim() || "demo");
      const runId = await hub.invoke("StartRun", "writer-reviewer", prompt);
      $("run-id").textContent = runId;
      setStatus("running");
      // A retried step starts a new attempt: its partial text from an earlier attempt is dropped.
      const attempts = new Map();
      const seen = new Set();
      hub.stream("Subscribe", runId, null).subscribe({
        next: (ev) => {
          if (seen.has(ev.id)) {
            return;
          }
          seen.add(ev.id);
          if (ev.step && ev.attempt) {
            const panel = panelFor(ev);
            if ((attempts.get(ev.step) ?? 0) < ev.attempt) {
              if (attempts.has(ev.step)) {
                panel.textContent = "";
              }
              attempts.set(ev.step, ev.attempt);
            }
          }
          if (ev.type === "token") {
            const panel = panelFor(ev);
            panel.textContent += ev.text ?? "";
            panel.scrollTop = panel.scrollHeight;
          } else if (ev.type === "run.completed") {
            showResult(hub, runId, ev.text);
          } else if (ev.type === "run.failed" || ev.type === "run.canceled") {
            setStatus(ev.type === "run.failed" ? "failed" : "canceled");
            $("error").textContent = ev.text ?? "";
          }
        },
        complete: () => { $("start").disabled = false; },
        error: (err) => {
          $("start").disabled = false;
          setStatus("error");
          $("error").textContent = String(err);
        },
      });
    } catch (e) {
      $("start").disabled = false;
      setStatus("error");
      $("error").textContent = String(e);
    }
  }

  $("run-form").addEventListener("submit", start);
})();
