extension Page {
    /// The page's script: settings form, requests, SVG charts and diagram, downloads. Plain JS, no libraries.
    static let script = #"""
    "use strict";
    const LEVEL_COLOURS = ["#0072B2", "#E69F00", "#CC79A7", "#000000", "#56B4E9", "#009E73", "#D55E00", "#555555"];
    const ARM_COLOURS = ["#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555"];
    const RED = "#b71c1c", GREEN = "#1b6e34";
    const S = { settings: null, scenario: null, result: null, selected: 0, seq: 0, shown: 0, pending: null, inflight: false,
                agents: null, simId: null, lastIssues: [] };
    window.explorer = { updates: 0, lastUpdateMs: null, timings: [], agentEvents: [], state: S };
    const $ = (id) => document.getElementById(id);
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
    const fmt = (x, d) => (x === null || x === undefined || !isFinite(x)) ? "—" : Number(x).toLocaleString("en-GB", { maximumFractionDigits: d === undefined ? 0 : d });
    const money = (x) => (x < 0 ? "−£" : "£") + fmt(Math.abs(x));
    const signed = (x, f) => (x > 0 ? "+" : x < 0 ? "−" : "±") + f(Math.abs(x));

    // ---------- settings form ----------
    function field(id, label, value, path, suffix) {
      return `<div class="field"><label for="${id}">${esc(label)}</label>` +
        `<input type="text" class="setting" inputmode="decimal" autocomplete="off" id="${id}" value="${esc(value)}" data-path="${esc(path)}"` +
        (suffix ? ` data-suffix="${esc(suffix)}"` : "") + ` aria-describedby="${id}-err">` +
        `<span class="error" id="${id}-err"></span></div>`;
    }
    function arm() { return S.settings.arms[S.selected]; }
    function renderArmSelect() {
      const sel = $("arm-select");
      sel.innerHTML = S.settings.arms.map((a, i) => `<option value="${i}">${esc(a.name)}${i === 0 ? " (baseline)" : ""}</option>`).join("");
      sel.value = String(S.selected);
      $("remove-variant").disabled = S.selected === 0;
    }
    function renderArmFields() {
      const a = arm(), p = `arms.${a.name}`;
      let h = `<fieldset><legend>Programme of ${esc(a.name)}</legend>`;
      if (a.programmeCostPerYear !== null && a.programmeCostPerYear !== undefined) {
        h += field("programme-cost", "Programme cost (£ per year)", a.programmeCostPerYear, `${p}.programme.costPerYear`);
      } else {
        h += `<p class="note">The programme cost changes over time in the scenario file; edit it there.</p>`;
      }
      h += `</fieldset>`;
      if (a.practices.length === 0) {
        h += `<fieldset><legend>Practices of ${esc(a.name)}</legend><p class="note">No practice in this arm. Copy an arm with practices to explore them.</p></fieldset>`;
      }
      a.practices.forEach((pr, k) => {
        const pp = `${p}.practice.${pr.name}`, areas = (S.scenario.practiceAreas[pr.name] || []).join(", ");
        h += `<fieldset><legend>Practice ${esc(pr.name)}${areas ? " (in " + esc(areas) + ")" : ""}</legend>`;
        h += field(`p${k}-esc`, "Escalation effect a (0–1): red rates × (1 − a·s)", pr.escalationEffect, `${pp}.escalationEffect`);
        h += field(`p${k}-step`, "Step-down effect b (≥ 0): green rates × (1 + b·s)", pr.stepDownEffect, `${pp}.stepDownEffect`);
        h += field(`p${k}-share`, "Coverage: share of children reached (0–1)", pr.share, `${pp}.coverage.share`);
        h += field(`p${k}-tau`, "Time to effect τ (years of exposure)", pr.timeToEffectYears, `${pp}.timeToEffectYears`);
        pr.intensity.forEach((pt, m) => {
          const label = pr.intensity.length === 1 ? "Intensity (0–1)" : `Intensity (0–1) from year ${pt.timeYears}`;
          h += field(`p${k}-int${m}`, label, pt.value, pr.intensity.length === 1 ? `${pp}.intensity` : `${pp}.intensity[${m}].value`);
        });
        h += `</fieldset>`;
      });
      $("arm-fields").innerHTML = h;
      $("diagram-arm").textContent = a.name;
      bindInputs($("arm-fields"));
      showIssues(S.lastIssues);
    }
    function renderStaticFields() {
      let h = `<legend>Costs and QoL weights (every arm)</legend>`;
      S.settings.levels.forEach((l, i) => {
        h += field(`l${i}-cost`, `${l.name}: cost (£ per child-year)`, l.costPerChildYear, "", `levels.${l.name}.costPerChildYear`);
        h += field(`l${i}-qol`, `${l.name}: QoL weight (0–1)`, l.qolWeight, "", `levels.${l.name}.qolWeight`);
      });
      $("level-fields").innerHTML = h;
      $("time-fields").innerHTML = `<legend>Time and model</legend>` +
        field("horizon", "Horizon (years)", S.settings.horizonYears, "", "time.horizonYears") +
        `<div class="field"><label for="mode">Aggregate model</label><select id="mode">` +
        `<option value="cohort">cohort (as girfec run)</option><option value="sd">system dynamics (Euler)</option></select></div>`;
      $("mode").value = S.settings.mode || "cohort";
      $("mode").addEventListener("change", () => { S.settings.mode = $("mode").value; requestRun(); });
      bindInputs($("level-fields"));
      bindInputs($("time-fields"));
    }
    function bindInputs(root) {
      root.querySelectorAll("input.setting").forEach((input) => input.addEventListener("input", () => { store(input); requestRun(); }));
    }
    // Write an input's text into the settings (the validator on the server judges it).
    function store(input) {
      const id = input.id, v = input.value, a = arm();
      let m;
      if (id === "horizon") S.settings.horizonYears = v;
      else if (id === "programme-cost") a.programmeCostPerYear = v;
      else if ((m = id.match(/^l(\d+)-(cost|qol)$/))) S.settings.levels[+m[1]][m[2] === "cost" ? "costPerChildYear" : "qolWeight"] = v;
      else if ((m = id.match(/^p(\d+)-(esc|step|share|tau)$/))) {
        a.practices[+m[1]][{ esc: "escalationEffect", step: "stepDownEffect", share: "share", tau: "timeToEffectYears" }[m[2]]] = v;
      } else if ((m = id.match(/^p(\d+)-int(\d+)$/))) a.practices[+m[1]].intensity[+m[2]].value = v;
    }

    // ---------- requests ----------
    async function post(path, body) {
      const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      return r;
    }
    // Re-run the aggregate model; at most one request in flight, the latest settings win.
    function requestRun() {
      S.pending = performance.now();
      if (S.agents && !S.simId) {
        S.agents = null;
        $("agent-status").textContent = "The agents' bands were cleared: the settings changed. Simulate again to see them for these settings.";
      }
      if (!S.inflight) sendRun();
    }
    async function sendRun() {
      const started = S.pending;
      S.pending = null;
      S.inflight = true;
      const seq = ++S.seq;
      try {
        const r = await post("/api/run", S.settings);
        const body = await r.json();
        const received = performance.now();
        if (!r.ok && body.error) { showIssues([{ path: "", found: body.error, expected: "" }]); }
        else if (!body.ok) { showIssues(body.issues); status(`Not run: ${body.issues.length} problem${body.issues.length === 1 ? "" : "s"} with the settings (listed above the diagram).`); }
        else {
          showIssues([]);
          S.result = body;
          drawAll();
          const ms = performance.now() - started;
          window.explorer.lastUpdateMs = ms;
          window.explorer.timings.push({ total: ms, request: received - started, draw: performance.now() - received, model: body.serverMilliseconds });
          window.explorer.updates += 1;
          status(`Aggregate model (${body.mode}) re-run and redrawn in ${fmt(ms, 0)} ms (model ${fmt(body.serverMilliseconds, 1)} ms).`);
        }
      } catch (e) {
        status("The explorer cannot be reached: is girfec serve still running? (" + e + ")");
      }
      S.inflight = false;
      if (S.pending !== null) sendRun();
    }
    function status(text) { $("status").textContent = text; }

    // ---------- problems ----------
    function inputFor(issue) {
      const inputs = [...document.querySelectorAll("#settings input.setting")];
      return inputs.find((i) => i.dataset.path && i.dataset.path === issue.path) ||
             inputs.find((i) => i.dataset.suffix && issue.path.endsWith(i.dataset.suffix));
    }
    function showIssues(issues) {
      S.lastIssues = issues;
      document.querySelectorAll("#settings input.setting").forEach((i) => { i.removeAttribute("aria-invalid"); $(i.id + "-err").textContent = ""; });
      const list = $("errors");
      list.innerHTML = "";
      $("errors-section").hidden = issues.length === 0;
      issues.forEach((issue) => {
        const text = `${issue.path || "(settings)"}: found ${issue.found}${issue.expected ? "; expected " + issue.expected : ""}`;
        const input = inputFor(issue);
        const li = document.createElement("li");
        li.textContent = text + " ";
        const armName = (issue.path.match(/^arms\.([^.]+)\./) || [])[1];
        if (input) {
          input.setAttribute("aria-invalid", "true");
          $(input.id + "-err").textContent = `found ${issue.found}; expected ${issue.expected}`;
          const b = document.createElement("button");
          b.type = "button"; b.textContent = "Go to field";
          b.addEventListener("click", () => input.focus());
          li.appendChild(b);
        } else if (armName) {
          const k = S.settings.arms.findIndex((a) => a.name === armName);
          if (k >= 0 && k !== S.selected) {
            const b = document.createElement("button");
            b.type = "button"; b.textContent = `Edit arm ${armName}`;
            b.addEventListener("click", () => selectArm(k));
            li.appendChild(b);
          }
        }
        list.appendChild(li);
      });
    }

    // ---------- SVG charts ----------
    function niceTicks(lo, hi, count) {
      if (!(hi > lo)) { hi = lo + 1; }
      const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
      const out = [];
      for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
      return out;
    }
    function shortNumber(v) {
      const a = Math.abs(v);
      if (a >= 1e6) return fmt(v / 1e6, 1) + "m";
      if (a >= 1e4) return fmt(v / 1e3, 0) + "k";
      return fmt(v, a < 10 ? 2 : 0);
    }
    // One panel of lines (and bands) in the box (x, y, w, h); series: [{label, xs, ys, colour, dash, width, low, high}].
    function panel(series, x, y, w, h, title, xLabel, legend) {
      const L = x + 80, R = x + w - (legend ? 230 : 12), T = y + (title ? 34 : 12), B = y + h - 52;
      const xs = series.flatMap((s) => s.xs), ys = series.flatMap((s) => s.ys.concat(s.low || [], s.high || []));
      const x0 = Math.min(...xs), x1 = Math.max(...xs);
      let y0 = Math.min(0, ...ys), y1 = Math.max(...ys);
      if (!(y1 > y0)) y1 = y0 + 1;
      y1 += (y1 - y0) * 0.05;
      const X = (v) => L + (v - x0) / ((x1 - x0) || 1) * (R - L), Y = (v) => B - (v - y0) / (y1 - y0) * (B - T);
      let g = title ? `<text x="${L}" y="${y + 22}" font-size="19" font-weight="bold">${esc(title)}</text>` : "";
      niceTicks(y0, y1, 4).forEach((v) => {
        g += `<line x1="${L}" x2="${R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#bbb" stroke-width="1"/>`;
        g += `<text x="${L - 8}" y="${Y(v) + 6}" text-anchor="end" font-size="17">${shortNumber(v)}</text>`;
      });
      niceTicks(x0, x1, 5).forEach((v) => {
        g += `<line x1="${X(v)}" x2="${X(v)}" y1="${B}" y2="${B + 6}" stroke="#000" stroke-width="2"/>`;
        g += `<text x="${X(v)}" y="${B + 25}" text-anchor="middle" font-size="17">${fmt(v, 1)}</text>`;
      });
      g += `<line x1="${L}" x2="${R}" y1="${B}" y2="${B}" stroke="#000" stroke-width="2"/><line x1="${L}" x2="${L}" y1="${T}" y2="${B}" stroke="#000" stroke-width="2"/>`;
      g += `<text x="${(L + R) / 2}" y="${B + 46}" text-anchor="middle" font-size="17">${esc(xLabel)}</text>`;
      const path = (xs, ys) => xs.map((v, i) => `${i ? "L" : "M"}${X(v).toFixed(1)},${Y(ys[i]).toFixed(1)}`).join("");
      series.forEach((s) => {
        if (s.low && s.high) {
          const d = path(s.xs, s.high) + s.xs.slice().reverse().map((v, i) => `L${X(v).toFixed(1)},${Y(s.low[s.low.length - 1 - i]).toFixed(1)}`).join("") + "Z";
          g += `<path d="${d}" fill="${s.colour}" fill-opacity="0.25" stroke="none"/>`;
        }
        g += `<path d="${path(s.xs, s.ys)}" fill="none" stroke="${s.colour}" stroke-width="${s.width || 3}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`;
      });
      if (legend) series.forEach((s, i) => {
        const ly = T + 8 + i * 26;
        g += `<line x1="${R + 14}" x2="${R + 46}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="${s.low ? 12 : 3}"${s.low ? ` stroke-opacity="0.35"` : ""}${s.dash && !s.low ? ` stroke-dasharray="${s.dash}"` : ""}/>`;
        g += `<text x="${R + 52}" y="${ly + 6}" font-size="17">${esc(s.label.length > 18 ? s.label.slice(0, 17) + "…" : s.label)}</text>`;
      });
      return g;
    }
    function describe(series) {
      return series.filter((s) => !s.low).map((s) => `${s.label}: ${shortNumber(s.ys[0])} at ${fmt(s.xs[0], 1)} to ${shortNumber(s.ys[s.ys.length - 1])} at ${fmt(s.xs[s.xs.length - 1], 1)} years`).join("; ");
    }
    function svgDoc(id, W, H, title, desc, content) {
      return `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title + ". " + desc)}" font-family="DejaVu Sans, Verdana, Arial, sans-serif"><title>${esc(title)}</title><rect width="${W}" height="${H}" fill="#fff"/>${content}</svg>`;
    }
    function chart(id, title, xLabel, series) {
      return svgDoc(id, 1120, 420, title, describe(series), panel(series, 0, 0, 1120, 420, "", xLabel, true));
    }
    function times(n, from) { const dt = S.result.stepYears; return Array.from({ length: n }, (_, i) => (i + from) * dt); }
    function agentArm(name) { return S.agents && S.agents.arms ? S.agents.arms.find((a) => a.name === name) : null; }
    function drawCharts() {
      const r = S.result, a = r.arms[Math.min(S.selected, r.arms.length - 1)], base = r.arms[0];
      const t0 = times(r.steps + 1, 0), t1 = times(r.steps, 1);
      const ag = agentArm(a.name), n = r.levels.length, cols = n > 4 ? 3 : 2, rowsN = Math.ceil(n / cols), PW = 560, PH = 300;
      let content = "", words = [];
      r.levels.forEach((l, i) => {
        const series = [];
        if (ag) series.push({ label: "agents 95 %", xs: t0, ys: ag.stock[i].mean, low: ag.stock[i].low, high: ag.stock[i].high, colour: LEVEL_COLOURS[i % 8], width: 1.5, dash: "2 3" });
        series.push({ label: a.name, xs: t0, ys: a.stock[i], colour: LEVEL_COLOURS[i % 8] });
        if (a !== base) series.push({ label: base.name, xs: t0, ys: base.stock[i], colour: "#000", dash: "8 6", width: 2 });
        content += panel(series, (i % cols) * PW, Math.floor(i / cols) * PH, PW, PH, l, "years", false);
        words.push(`${l}: ` + describe(series));
      });
      const title = `Children per level, ${a.name}` + (a !== base ? ` (solid) and ${base.name} (dashed)` : "") + (ag ? "; shaded: agents, 2.5–97.5 % of replications" : "");
      $("stocks-cap").textContent = title;
      $("chart-stocks").innerHTML = svgDoc("chart-stocks-svg", cols * PW, rowsN * PH, title, words.join(". "), content);
      const perArm = (key, agentKey) => r.arms.flatMap((x, k) => {
        const out = [];
        const ax = agentArm(x.name);
        if (ax) out.push({ label: `${x.name} agents 95 %`, xs: t1, ys: ax[agentKey].mean, low: ax[agentKey].low, high: ax[agentKey].high, colour: ARM_COLOURS[k % 8], width: 1.5, dash: "2 3" });
        out.push({ label: x.name, xs: t1, ys: x[key], colour: ARM_COLOURS[k % 8], width: k === S.selected ? 4 : 2.5, dash: k === 0 ? "8 6" : null });
        return out;
      });
      $("chart-cost").innerHTML = chart("chart-cost-svg", "Cost per year (£, undiscounted), every arm", "years", perArm("costPerYear", "costPerYear"));
      const qol = [{ label: base.name, xs: t1, ys: t1.map(() => 0), colour: ARM_COLOURS[0], width: 2.5, dash: "8 6" }];
      r.arms.forEach((x, k) => {
        if (k === 0) return;
        const ax = agentArm(x.name);
        if (ax && ax.qolYearsPerYearDelta) qol.push({ label: `${x.name} agents 95 %`, xs: t1, ys: ax.qolYearsPerYearDelta.mean, low: ax.qolYearsPerYearDelta.low, high: ax.qolYearsPerYearDelta.high, colour: ARM_COLOURS[k % 8], width: 1.5, dash: "2 3" });
        qol.push({ label: x.name, xs: t1, ys: x.qolYearsPerYear.map((v, i) => v - base.qolYearsPerYear[i]), colour: ARM_COLOURS[k % 8], width: k === S.selected ? 4 : 2.5 });
      });
      $("chart-qol").innerHTML = chart("chart-qol-svg", `QoL-years per year, difference from ${base.name}`, "years", qol);
    }

    // ---------- stock-flow diagram ----------
    function drawDiagram() {
      const r = S.result, a = r.arms[Math.min(S.selected, r.arms.length - 1)], n = r.levels.length;
      const year = Math.min(+$("year").value, r.steps * r.stepYears);
      const step = Math.max(0, Math.min(r.steps, Math.round(year / r.stepYears)));
      const flowStep = Math.max(1, step) - 1;
      $("year-out").textContent = `year ${fmt(step * r.stepYears, 1)}`;
      const W = 1200, H = 560, left = 230, boxW = Math.min(190, (W - left - 40) / n - 40), boxH = 100, boxY = 250;
      const cx = (i) => left + 20 + (i + 0.5) * (W - left - 40) / n;
      let maxFlow = 0;
      for (const k in a.flowPerYear) maxFlow = Math.max(maxFlow, a.flowPerYear[k][flowStep]);
      const width = (f) => 1.5 + 11 * Math.sqrt(f / (maxFlow || 1));
      let g = `<defs><marker id="ar" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${RED}"/></marker>` +
        `<marker id="ag" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${GREEN}"/></marker>` +
        `<marker id="ak" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#000"/></marker></defs>`;
      // flows: escalations arc over the boxes, step-downs under them
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const f = a.flowPerYear[`${i}-${j}`][flowStep], up = j > i, span = Math.abs(j - i);
        const x1 = cx(i) + (up ? 25 : -25), x2 = cx(j) + (up ? -25 : 25);
        const y = up ? boxY : boxY + boxH, lift = (up ? -1 : 1) * (38 + 48 * span);
        const mx = (x1 + x2) / 2, my = y + lift * 1.5;
        const colour = up ? RED : GREEN;
        g += `<path d="M${x1},${y} Q${mx},${my} ${x2},${y}" fill="none" stroke="${colour}" stroke-width="${width(f).toFixed(1)}" marker-end="url(#${up ? "ar" : "ag"})"><title>${esc(r.levels[i])} to ${esc(r.levels[j])}: ${fmt(f, 0)} children per year</title></path>`;
        const ly = y + lift * 0.75 + (up ? -4 : 16);
        g += `<text x="${mx}" y="${ly}" text-anchor="middle" font-size="17" font-weight="bold" fill="${colour}" stroke="#fff" stroke-width="5" paint-order="stroke">${shortNumber(f)}/yr</text>`;
      }
      r.levels.forEach((l, i) => {
        const x = cx(i) - boxW / 2, v = a.stock[i][step], b = r.arms[0].stock[i][step];
        g += `<rect x="${x}" y="${boxY}" width="${boxW}" height="${boxH}" fill="#fff" stroke="${LEVEL_COLOURS[i % 8]}" stroke-width="5"/>`;
        g += `<text x="${cx(i)}" y="${boxY + 32}" text-anchor="middle" font-size="20" font-weight="bold">${esc(l)}</text>`;
        g += `<text x="${cx(i)}" y="${boxY + 64}" text-anchor="middle" font-size="24">${fmt(v, 0)}</text>`;
        if (S.selected > 0) g += `<text x="${cx(i)}" y="${boxY + 90}" text-anchor="middle" font-size="16">${signed(v - b, (x) => fmt(x, 0))} vs ${esc(r.arms[0].name)}</text>`;
      });
      // practices and their causal links to the escalation and step-down rates
      const escY = 40, stepY = H - 30;
      g += `<text x="${left + 20}" y="${escY}" font-size="18" font-weight="bold" fill="${RED}">escalation rates</text>`;
      g += `<text x="${left + 20}" y="${stepY}" font-size="18" font-weight="bold" fill="${GREEN}">step-down rates</text>`;
      const ps = a.practices;
      if (ps.length === 0) g += `<text x="10" y="${boxY + 55}" font-size="17">no practice</text>`;
      ps.forEach((p, k) => {
        const py = boxY + boxH / 2 + (k - (ps.length - 1) / 2) * 80;
        g += `<ellipse cx="100" cy="${py}" rx="95" ry="30" fill="#fff" stroke="#000" stroke-width="2.5"/>`;
        g += `<text x="100" y="${py + 6}" text-anchor="middle" font-size="16">${esc(p.name.length > 16 ? p.name.slice(0, 15) + "…" : p.name)}</text>`;
        g += `<path d="M180,${py - 16} Q${left - 10},${escY + 40} ${left + 14},${escY - 6}" fill="none" stroke="#000" stroke-width="2" stroke-dasharray="7 5" marker-end="url(#ak)"/>`;
        g += `<path d="M180,${py + 16} Q${left - 10},${stepY - 40} ${left + 14},${stepY - 14}" fill="none" stroke="#000" stroke-width="2" stroke-dasharray="7 5" marker-end="url(#ak)"/>`;
      });
      if (ps.length) {
        const a0 = ps.map((p) => `a=${fmt(p.escalationEffect, 2)}`).join(", "), b0 = ps.map((p) => `b=${fmt(p.stepDownEffect, 2)}`).join(", ");
        g += `<text x="${left + 200}" y="${escY}" font-size="18">− (${a0})</text>`;
        g += `<text x="${left + 200}" y="${stepY}" font-size="18">+ (${b0})</text>`;
      }
      const label = `Stock-flow diagram of arm ${a.name} at year ${fmt(step * r.stepYears, 1)}: ` +
        r.levels.map((l, i) => `${l} ${fmt(a.stock[i][step], 0)} children`).join(", ") + `; escalations ${fmt(a.escalationsPerYear[flowStep], 0)} and step-downs ${fmt(a.stepDownsPerYear[flowStep], 0)} per year` +
        (ps.length ? `; practices ${ps.map((p) => p.name).join(", ")} reduce escalation rates and raise step-down rates` : "");
      $("diagram").innerHTML = `<svg id="diagram-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)}" font-family="DejaVu Sans, Verdana, Arial, sans-serif"><title>${esc(label)}</title><rect width="${W}" height="${H}" fill="#fff"/>${g}</svg>`;
    }

    // ---------- comparison ----------
    // The comparison as numbers (the CSV download); drawComparison formats it for the page.
    function comparisonRows() {
      const rows = [["arm", "cost_discounted", "qol_years_discounted", "delta_cost", "delta_qol_years", "verdict",
                     "agents_delta_cost_mean", "agents_delta_cost_p2_5", "agents_delta_cost_p97_5",
                     "agents_delta_qol_years_mean", "agents_delta_qol_years_p2_5", "agents_delta_qol_years_p97_5"]];
      S.result.arms.forEach((a, k) => {
        const ag = k ? agentArm(a.name) : null;
        const b = (x) => x ? [x.mean, x.low, x.high] : ["", "", ""];
        rows.push([a.name, a.costDiscounted, a.qolYearsDiscounted, k ? a.deltaCost : "", k ? a.deltaQolYears : "",
                   k ? (a.winWin ? "win-win (" + a.verdict.replace(/^dominant: /, "") + ")" : a.verdict) : "baseline"]
                  .concat(b(ag && ag.deltaCost), b(ag && ag.deltaQolYears)));
      });
      return rows;
    }
    const nw = (text) => `<span class="nw">${esc(text)}</span>`;
    function shortMoney(x) {
      const a = Math.abs(x), sign = x < 0 ? "−" : "";
      return sign + "£" + (a >= 1e6 ? fmt(a / 1e6, 2) + "m" : a >= 1e4 ? fmt(a / 1e3, 1) + "k" : fmt(a, 0));
    }
    function drawComparison() {
      const rows = comparisonRows().slice(1), agents = rows.some((r) => r[6] !== "");
      const head = ["arm", "cost", "QoL-years", "Δcost", "ΔQoL-years", "verdict"]
        .concat(agents ? ["agents Δcost (95 %)", "agents ΔQoL-years (95 %)"] : []);
      let h = `<table><caption class="note">Totals over ${fmt(S.result.steps * S.result.stepYears, 1)} years, discounted, from the aggregate model; Δ: difference from ${esc(S.result.arms[0].name)}; win-win: more QoL-years at no more cost. Agents: mean and 2.5–97.5 % of replications.</caption>` +
        `<thead><tr>` + head.map((c) => `<th scope="col">${esc(c)}</th>`).join("") + `</tr></thead><tbody>`;
      rows.forEach((r, k) => {
        const cells = [shortMoney(r[1]), fmt(r[2], 1), k ? (r[3] > 0 ? "+" : "") + shortMoney(r[3]) : "", k ? signed(r[4], (x) => fmt(x, 1)) : ""];
        h += `<tr><th scope="row">${esc(r[0])}</th>` + cells.map((c) => `<td>${esc(c)}</td>`).join("") +
          `<td class="verdict${String(r[5]).startsWith("win-win") ? " winwin" : ""}">${esc(r[5])}</td>`;
        if (agents) {
          h += r[6] === "" ? `<td></td><td></td>` :
            `<td class="wrap">${nw(shortMoney(r[6]))}<br>(${nw(shortMoney(r[7]))} to ${nw(shortMoney(r[8]))})</td>` +
            `<td class="wrap">${nw(signed(r[9], (x) => fmt(x, 1)))}<br>(${nw(fmt(r[10], 1))} to ${nw(fmt(r[11], 1))})</td>`;
        }
        h += `</tr>`;
      });
      $("comparison").innerHTML = h + `</tbody></table>`;
    }
    function drawAll() {
      if (!S.result) return;
      $("year").max = String(S.result.steps * S.result.stepYears);
      if (+$("year").value > +$("year").max || S.yearAtEnd) $("year").value = $("year").max;
      drawDiagram();
      drawCharts();
      drawComparison();
    }

    // ---------- arms ----------
    function selectArm(k) {
      S.selected = k;
      renderArmSelect();
      renderArmFields();
      drawAll();
    }
    function addVariant() {
      const name = $("variant-name").value.trim();
      if (S.settings.arms.some((a) => a.name === name)) { status(`There is already an arm called '${name}'; choose another name.`); $("variant-name").focus(); return; }
      if (S.settings.arms.length >= 12) { status("At most 12 arms."); return; }
      const copy = JSON.parse(JSON.stringify(arm()));
      copy.name = name;
      S.settings.arms.push(copy);
      const m = name.match(/^(.*?)(\d+)$/);
      $("variant-name").value = m ? m[1] + (+m[2] + 1) : name + "2";
      selectArm(S.settings.arms.length - 1);
      status(`Added what-if '${name}', a copy of the arm you were editing. Change its settings on the left.`);
      requestRun();
    }
    function removeVariant() {
      if (S.selected === 0) return;
      const name = arm().name;
      S.settings.arms.splice(S.selected, 1);
      selectArm(0);
      status(`Removed arm '${name}'.`);
      requestRun();
    }

    // ---------- agents ----------
    async function simulate() {
      if (S.simId) return;
      $("simulate").disabled = true;
      $("cancel").disabled = false;
      $("agent-progress").value = 0;
      $("agent-status").textContent = "Starting…";
      S.agents = null;
      if (S.result) { drawCharts(); drawComparison(); }
      const body = { settings: S.settings, replications: Number($("replications").value), seed: Number($("seed").value) };
      let r;
      try { r = await post("/api/simulate", body); } catch (e) { return agentsEnded(`Could not start: ${e}`); }
      if (!r.ok) {
        let text = `Not started (HTTP ${r.status})`;
        try { const j = await r.json(); text = j.error ? `Not started: ${j.error}` : (j.issues ? (showIssues(j.issues), `Not started: ${j.issues.length} problems with the settings`) : text); } catch (e) {}
        return agentsEnded(text);
      }
      const reader = r.body.getReader(), decoder = new TextDecoder();
      let buffer = "";
      while (true) {
        let chunk;
        try { chunk = await reader.read(); } catch (e) { return agentsEnded(`The stream stopped: ${e}`); }
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          const event = (block.match(/^event: (.*)$/m) || [])[1];
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          onAgentEvent(event, JSON.parse(data));
        }
      }
      if (S.simId) agentsEnded("The stream ended.");
    }
    function onAgentEvent(event, data) {
      window.explorer.agentEvents.push(event);
      if (event === "started") { S.simId = data.id; $("agent-progress").max = data.total; $("agent-status").textContent = `0 of ${data.total} replications`; }
      else if (event === "progress") {
        S.agents = data;
        $("agent-progress").value = data.done;
        $("agent-status").textContent = `${data.done} of ${data.total} replications (${fmt(data.seconds, 1)} s)`;
        drawCharts(); drawComparison();
      } else if (event === "done") agentsEnded(`Finished: ${data.done} replications. Bands are on the charts.`);
      else if (event === "cancelled") agentsEnded(`Cancelled after ${data.done} of ${data.total} replications.`);
      else if (event === "failed") agentsEnded(`Failed: ${data.error}`);
    }
    function agentsEnded(text) {
      S.simId = null;
      $("simulate").disabled = false;
      $("cancel").disabled = true;
      $("agent-status").textContent = text;
    }
    async function cancel() {
      if (!S.simId) return;
      $("agent-status").textContent = "Cancelling…";
      await fetch("/api/cancel?id=" + encodeURIComponent(S.simId), { method: "POST" });
    }

    // ---------- downloads ----------
    function download(name, type, text) {
      const url = URL.createObjectURL(new Blob([text], { type }));
      const a = document.createElement("a");
      a.href = url; a.download = name;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    }
    const csvCell = (c) => typeof c === "number" ? String(c) : /[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c);
    const csv = (rows) => rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
    function table(kind) {
      const r = S.result;
      if (kind === "comparison") return comparisonRows();
      if (kind === "stocks") {
        const head = ["arm", "time_years"].concat(r.levels);
        return [head].concat(r.arms.flatMap((a) => times(r.steps + 1, 0).map((t, s) => [a.name, t].concat(a.stock.map((l) => l[s])))));
      }
      const key = kind === "cost" ? "costPerYear" : "qolYearsPerYear";
      return [["time_years"].concat(r.arms.map((a) => a.name))].concat(times(r.steps, 1).map((t, s) => [t].concat(r.arms.map((a) => a[key][s]))));
    }
    async function exportScenario() {
      $("export-status").textContent = "Exporting…";
      const r = await post("/api/export", S.settings);
      if (r.ok) {
        const text = await r.text();
        const name = ((r.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/) || [])[1] || "scenario-whatif.yaml";
        download(name, "application/yaml", text);
        window.explorer.exported = text;
        $("export-status").textContent = `Saved ${name} (${S.settings.arms.length} arms). Check it with: girfec validate ${name}`;
      } else {
        const j = await r.json();
        if (j.issues) showIssues(j.issues);
        $("export-status").textContent = `Not exported: ${j.error || (j.issues.length + " problems with the settings")}`;
      }
    }

    // ---------- start ----------
    async function start() {
      const r = await fetch("/api/scenario");
      const body = await r.json();
      S.settings = body.settings;
      S.scenario = body.scenario;
      S.result = body;
      S.yearAtEnd = true;
      $("title").textContent = `girfec: ${body.scenario.name}`;
      $("subtitle").textContent = body.scenario.file;
      $("replications").title = `1 to ${body.limits.maximumReplications}`;
      renderStaticFields();
      S.selected = Math.min(1, S.settings.arms.length - 1);
      selectArm(S.selected);
      $("arm-select").addEventListener("change", () => selectArm(+$("arm-select").value));
      $("add-variant").addEventListener("click", addVariant);
      $("remove-variant").addEventListener("click", removeVariant);
      $("year").addEventListener("input", () => { S.yearAtEnd = +$("year").value >= +$("year").max; drawDiagram(); });
      $("simulate").addEventListener("click", simulate);
      $("cancel").addEventListener("click", cancel);
      $("export").addEventListener("click", exportScenario);
      document.querySelectorAll("[data-download-svg]").forEach((b) => b.addEventListener("click", () => {
        const svg = $(b.dataset.downloadSvg);
        download(b.dataset.downloadSvg.replace(/-svg$/, "") + ".svg", "image/svg+xml", '<?xml version="1.0" encoding="UTF-8"?>\n' + svg.outerHTML);
      }));
      document.querySelectorAll("[data-download-csv]").forEach((b) => b.addEventListener("click", () => download(b.dataset.downloadCsv + ".csv", "text/csv", csv(table(b.dataset.downloadCsv)))));
      status(body.ok ? `Ready: ${S.settings.arms.length} arms, aggregate model (${body.mode}). Change a setting on the left; the charts follow.` : "The scenario's own settings do not validate.");
      window.explorer.ready = true;
    }
    start();
    """#
}
