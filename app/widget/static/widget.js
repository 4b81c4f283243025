/*! Hélio — storefront chat widget (YSH). Plain modern JavaScript, no build step.
 *
 * <script src="https://API/widget/v1/widget.js" data-key="hl_wg_…" data-lang="pt-BR"
 *         data-position="right" data-accent="#f5a623" async></script>
 *
 * window.Helio: open(), close(), send(text), reset(); events on window:
 * helio:ready, helio:open, helio:close, helio:message (detail: {role, text, cards, conversationId}).
 *
 * Safety: every piece of text from the network becomes a Text node (textContent); markup is
 * built with createElement. Styles are a constructable stylesheet adopted by a shadow root,
 * which a strict Content-Security-Policy does not block (no <style>, no style attributes).
 */
(() => {
  "use strict";
  if (window.Helio && window.Helio.version) return; // the tag was pasted twice

  const VERSION = "1.0.0";
  const script = document.currentScript;
  if (!script || !script.src) {
    console.error("[Hélio] widget.js precisa ser carregado por uma tag <script src> (não por import dinâmico).");
    return;
  }
  const API = new URL(script.src).origin;
  const data = script.dataset;
  const KEY = (data.key || "").trim();
  const LANG = data.lang === "en" ? "en" : "pt-BR";
  const POSITION = data.position === "left" ? "left" : "right";
  const ACCENT = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(data.accent || "") ? data.accent : null;

  const T = {
    "pt-BR": {
      launcher: "Abrir chat com o Hélio, assistente solar",
      title: "Hélio · assistente solar",
      close: "Fechar chat",
      reset: "Nova conversa",
      input: "Sua mensagem",
      placeholder: "Escreva sua mensagem",
      send: "Enviar",
      stop: "Parar",
      log: "Conversa",
      you: "Você",
      bot: "Hélio",
      hello: "Olá! Sou o Hélio, assistente solar da YSH. Me diga o consumo (kWh/mês ou o valor da conta), a cidade/UF e o tipo de ligação, e eu dimensiono o sistema para você.",
      stopped: "(resposta interrompida)",
      offline: "Sem conexão com o Hélio. Verifique sua internet e tente de novo.",
      retry: "Tentar de novo",
      busy: "Muitas mensagens, aguarde um instante e tente de novo.",
      busyWait: (s) => `Muitas mensagens, aguarde ${s} s e tente de novo.`,
      error: "Não consegui responder agora. Tente de novo em instantes.",
      expired: "Sua conversa anterior expirou; começamos uma nova.",
      restored: "Conversa anterior restaurada.",
      thinking: "Hélio está respondendo…",
      newDone: "Nova conversa iniciada.",
      sizing: "Dimensionamento",
      kwp: "Potência",
      modules: "Módulos",
      inverter: "Inversor",
      kit: "Kit",
      annual: "Geração anual",
      monthly: "Geração média mensal",
      coverage: "Cobertura do consumo",
      payback: "Payback simples",
      years: "anos",
      price: "Investimento estimado",
      strings: "Verificação das strings",
      stringsOk: "verificada (tensão e corrente dentro dos limites)",
      stringsNo: "não verificável",
      products: "Produtos",
      inStock: "Em estoque",
      outStock: "Sob consulta",
      qty: "Qtd.",
      financing: "Financiamento",
      lender: "Banco e linha",
      rate: "Taxa a.m.",
      installments: "Parcelas",
      total: "total",
      cet: "CET a.a.",
      financingOf: (v) => `Financiamento de ${v}`,
      sources: "Fontes",
      page: "p.",
      quick: "Sugestões",
      qFinance: "Simular financiamento",
      qKit: "Ver kit",
      qSize: "Quero dimensionar um sistema",
      phases: ["Monofásico", "Bifásico", "Trifásico"],
      newTab: "(abre em nova aba)",
    },
    en: {
      launcher: "Open chat with Hélio, the solar assistant",
      title: "Hélio · solar assistant",
      close: "Close chat",
      reset: "New conversation",
      input: "Your message",
      placeholder: "Type your message",
      send: "Send",
      stop: "Stop",
      log: "Conversation",
      you: "You",
      bot: "Hélio",
      hello: "Hi! I'm Hélio, YSH's solar assistant. Tell me the consumption (kWh/month or the bill), the city/state and the grid connection, and I'll size the system.",
      stopped: "(answer stopped)",
      offline: "No connection to Hélio. Check your internet and try again.",
      retry: "Try again",
      busy: "Too many messages, please wait a moment and try again.",
      busyWait: (s) => `Too many messages, please wait ${s} s and try again.`,
      error: "I could not answer right now. Please try again shortly.",
      expired: "Your previous conversation expired; we started a new one.",
      restored: "Previous conversation restored.",
      thinking: "Hélio is answering…",
      newDone: "New conversation started.",
      sizing: "Sizing",
      kwp: "Power",
      modules: "Modules",
      inverter: "Inverter",
      kit: "Kit",
      annual: "Yearly generation",
      monthly: "Average monthly generation",
      coverage: "Consumption coverage",
      payback: "Simple payback",
      years: "years",
      price: "Estimated investment",
      strings: "String check",
      stringsOk: "verified (voltage and current within limits)",
      stringsNo: "not verifiable",
      products: "Products",
      inStock: "In stock",
      outStock: "On request",
      qty: "Qty",
      financing: "Financing",
      lender: "Lender and line",
      rate: "Rate/month",
      installments: "Installments",
      total: "total",
      cet: "APR",
      financingOf: (v) => `Financing of ${v}`,
      sources: "Sources",
      page: "p.",
      quick: "Suggestions",
      qFinance: "Simular financiamento",
      qKit: "Ver kit",
      qSize: "I want to size a system",
      phases: ["Single-phase", "Two-phase", "Three-phase"],
      newTab: "(opens in a new tab)",
    },
  }[LANG];

  const money = new Intl.NumberFormat(LANG, { style: "currency", currency: "BRL" });
  const num = (v, d = 2) => new Intl.NumberFormat(LANG, { minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
  const brl = (v) => (typeof v === "number" ? money.format(v) : "—");

  // ---- storage: conversation id per key and page origin ------------------------------------
  const STORE_KEY = `helio:v1:conversation:${KEY || "anon"}:${location.origin}`;
  const memory = {};
  const storage = {
    get() {
      try { return localStorage.getItem(STORE_KEY); } catch { return memory[STORE_KEY] || null; }
    },
    set(v) {
      try { localStorage.setItem(STORE_KEY, v); } catch { memory[STORE_KEY] = v; }
    },
    clear() {
      try { localStorage.removeItem(STORE_KEY); } catch { delete memory[STORE_KEY]; }
    },
  };
  const newId = () => {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "w-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  };

  // ---- DOM helpers: elements and text nodes only -------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) n.append(kid);
    return n;
  }
  const svg = (paths) => {
    const ns = "http://www.w3.org/2000/svg";
    const s = document.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    s.setAttribute("focusable", "false");
    for (const d of paths) {
      const p = document.createElementNS(ns, "path");
      p.setAttribute("d", d);
      s.append(p);
    }
    return s;
  };

  // ---- safe markdown subset: **bold**, lists, https links, line breaks ----------------------
  const INLINE = /\*\*([^*\n]+)\*\*|\[([^\]\n]+)\]\((https:\/\/[^\s)]+)\)|(https:\/\/[^\s<>()]+[^\s<>().,;:!?])/g;
  function inline(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) out.push(el("strong", { text: m[1] }));
      else out.push(link(m[2] || m[4], m[3] || m[4]));
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(document.createTextNode(text.slice(last)));
    return out;
  }
  function link(label, href) {
    let url;
    try { url = new URL(href); } catch { return document.createTextNode(label); }
    if (url.protocol !== "https:") return document.createTextNode(label);
    return el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer" },
      label, el("span", { class: "sr-only", text: " " + T.newTab }));
  }
  function markdown(text) {
    const frag = document.createDocumentFragment();
    let list = null;
    let para = null;
    for (const raw of text.split("\n")) {
      const line = raw.replace(/\s+$/, "");
      const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
      const numbered = /^\s*(\d+)[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        const tag = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) {
          list = el(tag);
          frag.append(list);
        }
        list.append(el("li", null, inline(bullet ? bullet[1] : numbered[2])));
        para = null;
      } else if (!line.trim()) {
        list = para = null;
      } else {
        list = null;
        if (para) para.append(el("br"));
        else frag.append((para = el("p")));
        para.append(...inline(line));
      }
    }
    return frag;
  }

  // ---- cards ----------------------------------------------------------------------------------
  function rows(pairs) {
    const dl = el("dl");
    for (const [k, v, cls] of pairs) {
      if (v === undefined || v === null || v === "") continue;
      dl.append(el("div", { class: "row " + (cls || "") }, el("dt", { text: k }), el("dd", { text: String(v) })));
    }
    return dl;
  }
  function card(title, ...body) {
    return el("article", { class: "card", "aria-label": title }, el("h3", { text: title }), ...body); // not a landmark: many per chat
  }
  function sizingCard(d) {
    const f = d.facts || {};
    const best = (d.result && d.result.best) || {};
    let strings = null;
    if (f.string_check) strings = f.string_check; // the server's sentence, which says "não verificável" and why
    else if (best.string_check === "verified") strings = T.stringsOk;
    else if (best.string_check === "not_verifiable") strings = T.stringsNo + (best.string_check_reason ? `: ${best.string_check_reason}` : "");
    const place = d.result && d.result.site && d.result.site.municipality
      ? ` — ${d.result.site.municipality}/${d.result.site.uf}` : "";
    const c = card(T.sizing + place,
      el("p", { class: "big" }, el("span", { class: "kwp", text: f.system_kwp || "—" })),
      rows([
        [T.modules, f.modules], [T.inverter, f.inverter], [T.kit, f.kit], [T.annual, f.annual_kwh],
        [T.monthly, f.monthly_kwh], [T.coverage, f.coverage_pct],
        [T.payback, f.payback_years ? `${f.payback_years} ${T.years}` : null],
        [T.price, f.capex_brl || f.price_brl], [T.strings, strings, strings === T.stringsOk ? "ok" : "warn"],
      ]));
    c.classList.add("sizing");
    c.dataset.kind = "sizing";
    return c;
  }
  function productsCard(items) {
    const ul = el("ul", { class: "products" });
    for (const p of items || []) {
      const meta = [];
      if (p.quantity) meta.push(`${T.qty} ${p.quantity}`);
      if (p.power_w) meta.push(`${num(p.power_w, 0)} W`);
      ul.append(el("li", null,
        el("span", { class: "pname", text: p.name || p.id }),
        el("span", { class: "pmeta", text: meta.join(" · ") }),
        el("span", { class: "price", text: brl(p.price_brl) }),
        el("span", { class: p.in_stock ? "stock in" : "stock out", text: p.in_stock ? T.inStock : T.outStock })));
    }
    const c = card(T.products, ul);
    c.dataset.kind = "products";
    return c;
  }
  function financingCard(d) {
    const head = el("tr", null, [T.lender, T.installments, T.rate, T.cet].map((h) => el("th", { scope: "col", text: h })));
    const body = el("tbody");
    for (const o of d.options || []) {
      const same = Math.abs(o.first_payment_brl - o.last_payment_brl) < 0.005;
      const pay = same ? brl(o.first_payment_brl) : `${brl(o.first_payment_brl)} → ${brl(o.last_payment_brl)}`;
      body.append(el("tr", null,
        el("th", { scope: "row" }, el("span", { class: "lender", text: o.lender }),
          o.line ? el("span", { class: "line", text: o.line }) : null),
        el("td", null, el("span", { class: "num", text: `${o.n_installments}× ${pay}` }),
          el("span", { class: "line", text: `${T.total} ${brl(o.total_paid_brl)}` })),
        el("td", { class: "num", text: `${num(o.rate_monthly_pct)} %` }),
        el("td", { class: "num", text: o.cet_annual_pct !== undefined ? `${num(o.cet_annual_pct)} %` : "—" })));
    }
    const title = typeof d.amount_brl === "number" ? T.financingOf(brl(d.amount_brl)) : T.financing;
    const table = el("table", null, el("caption", { class: "sr-only", text: title }), el("thead", null, head), body);
    const c = card(title, el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": title }, table));
    c.dataset.kind = "financing";
    return c;
  }
  function citationsCard(items) {
    const ol = el("ol", { class: "cites" });
    for (const c of items || []) {
      const doc = c.title || c.source || c.label || "—";
      ol.append(el("li", null, el("span", { class: "doc", text: doc }),
        c.page ? el("span", { class: "page", text: ` ${T.page} ${c.page}` }) : null));
    }
    const c = card(T.sources, ol);
    c.dataset.kind = "citations";
    return c;
  }
  function renderCard(c) {
    const d = c.data || {};
    switch (c.type) {
      case "sizing": return sizingCard(d);
      case "products": return productsCard(d.items);
      case "product": return productsCard([d]);
      case "financing": return financingCard(d);
      case "citations": return citationsCard(d.items);
      default: return null; // sales cards (quotes) never reach a widget session
    }
  }

  // ---- styles (constructable stylesheet: allowed by a strict CSP) --------------------------
  const CSS = `
:host{all:initial;--_accent:var(--helio-accent,#b45309);--_on:var(--helio-on-accent,#fff);--_bg:var(--helio-bg,#fff);
--_fg:var(--helio-text,#1f2328);--_muted:var(--helio-muted,#57606a);--_line:var(--helio-border,#d0d7de);
--_soft:var(--helio-soft,#f6f8fa);--_focus:var(--helio-focus,#0b57d0);--_link:var(--helio-link,#0b57d0);
--_radius:var(--helio-radius,14px);font-family:var(--helio-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);
font-size:15px;line-height:1.45;color:var(--_fg)}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.sr-only{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
button,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus-visible{outline:3px solid var(--_focus);outline-offset:2px}
.launcher{position:fixed;bottom:20px;z-index:var(--helio-z,2147483000);display:flex;align-items:center;gap:8px;
min-height:48px;padding:0 18px 0 14px;border:0;border-radius:999px;background:var(--_accent);color:var(--_on);
font-weight:600;box-shadow:0 6px 20px rgba(0,0,0,.25)}
.launcher svg{width:24px;height:24px;fill:currentColor}
.left .launcher,.left .panel{left:20px}.right .launcher,.right .panel{right:20px}
.panel{position:fixed;bottom:20px;z-index:var(--helio-z,2147483000);width:min(400px,calc(100vw - 40px));
height:min(640px,calc(100vh - 40px));display:flex;flex-direction:column;background:var(--_bg);color:var(--_fg);
border:1px solid var(--_line);border-radius:var(--_radius);box-shadow:0 12px 40px rgba(0,0,0,.3);overflow:hidden;
animation:helio-in .18s ease-out}
@keyframes helio-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}
.head{display:flex;align-items:center;gap:8px;padding:10px 10px 10px 16px;background:var(--_accent);color:var(--_on)}
.head h2{flex:1;margin:0;font-size:15px;font-weight:700}
.head button{min-height:40px;min-width:40px;border:1px solid currentColor;border-radius:8px;background:transparent;color:inherit;
padding:0 8px;font-size:13px;white-space:nowrap}
.head button.icon{border-color:transparent;font-size:22px;line-height:1}
.head :focus-visible{outline-color:var(--_on)}
.note{margin:0;padding:8px 16px;background:#fff8c5;color:#3b2300;font-size:14px;border-bottom:1px solid var(--_line)}
.note button{margin-left:8px;border:1px solid #3b2300;border-radius:6px;background:#fff;padding:2px 8px}
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:12px;background:var(--_bg)}
.msg{max-width:92%;display:flex;flex-direction:column;gap:8px}
.msg.user{align-self:flex-end}
.bubble{padding:10px 12px;border-radius:12px;background:var(--_soft);overflow-wrap:anywhere}
.user .bubble{background:var(--_accent);color:var(--_on)}
.bubble p{margin:0 0 6px}.bubble p:last-child{margin:0}
.bubble ul,.bubble ol{margin:4px 0;padding-left:20px}
.bubble a,.card a{color:var(--_link);text-decoration:underline}
.user .bubble a{color:inherit}
.who{font-size:12px;color:var(--_muted)}
.user .who{text-align:right}
.streaming .bubble::after{content:"▍";animation:helio-blink 1s steps(2) infinite}
@keyframes helio-blink{50%{opacity:0}}
.card{border:1px solid var(--_line);border-radius:12px;padding:10px 12px;background:var(--_bg)}
.card h3{margin:0 0 6px;font-size:14px}
.card .big{margin:0 0 6px;font-size:24px;font-weight:700}
.card dl{margin:0;display:grid;gap:4px}
.card .row{display:grid;grid-template-columns:45% 1fr;gap:8px;font-size:14px}
.card dt{color:var(--_muted)}.card dd{margin:0}
.card .warn dd{color:#8a4600}.card .ok dd{color:#116329}
.products{list-style:none;margin:0;padding:0;display:grid;gap:8px}
.products li{display:grid;grid-template-columns:1fr auto;gap:2px 8px;font-size:14px}
.pname{font-weight:600;grid-column:1/-1}.price{font-weight:600;text-align:right}.pmeta{color:var(--_muted)}
.stock{grid-column:2;text-align:right;font-size:13px}.stock.in{color:#116329}.stock.out{color:#8a4600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}
caption{text-align:left;font-weight:600;padding-bottom:4px}
th,td{border-bottom:1px solid var(--_line);padding:4px;text-align:left;vertical-align:top}
thead th{font-size:12px;color:var(--_muted)}
.num{white-space:nowrap}.lender{font-weight:600}
td .line,th .line{display:block;font-size:12px;font-weight:400;color:var(--_muted)}
.cites{margin:0;padding-left:20px;font-size:14px}.cites .page{color:var(--_muted)}
.quick{display:flex;flex-wrap:wrap;gap:8px;padding:0 16px 8px}
.quick button{min-height:36px;border:1px solid var(--_accent);border-radius:999px;background:var(--_bg);color:var(--_fg);padding:4px 12px;font-size:14px}
form{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid var(--_line);background:var(--_bg)}
textarea{flex:1;min-height:44px;max-height:120px;resize:none;padding:10px;border:1px solid #6e7781;border-radius:10px;background:var(--_bg)}
form button{min-height:44px;padding:0 14px;border:0;border-radius:10px;background:var(--_accent);color:var(--_on);font-weight:600}
form button.stop{background:#24292f;color:#fff}
@media (max-width:480px){.panel{inset:0;width:100%;height:100%;height:100dvh;border-radius:0;border:0}
.launcher{bottom:16px}.left .launcher{left:16px}.right .launcher{right:16px}}
@media (prefers-reduced-motion:reduce){.panel,.streaming .bubble::after{animation:none}}
`;

  // ---- the widget -------------------------------------------------------------------------------
  const host = el("div", { id: "helio-widget", "data-helio-version": VERSION });
  if (ACCENT) {
    host.style.setProperty("--helio-accent", ACCENT);
    host.style.setProperty("--helio-on-accent", onColor(ACCENT));
  }
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];

  function onColor(hex) {
    // The text colour with the higher contrast on the integrator's accent (WCAG relative luminance).
    const h = hex.length === 4 ? hex.slice(1).split("").map((c) => c + c).join("") : hex.slice(1);
    const lum = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    const L = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (1.05 / (L + 0.05)) >= ((L + 0.05) / 0.0325) ? "#fff" : "#111";
  }

  const ui = {};
  ui.launcher = el("button", { class: "launcher", type: "button", "aria-label": T.launcher, "aria-haspopup": "dialog",
    "aria-expanded": "false", onclick: () => open() },
    svg(["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"]), el("span", { text: T.bot }));
  ui.title = el("h2", { id: "helio-title", text: T.title });
  ui.reset = el("button", { type: "button", text: T.reset, onclick: () => reset(true) });
  ui.close = el("button", { type: "button", class: "icon", "aria-label": T.close, onclick: () => close() }, "×");
  ui.note = el("p", { class: "note", role: "status", hidden: true });
  ui.log = el("div", { class: "log", role: "region", "aria-label": T.log, tabindex: "0" });
  ui.live = el("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "true" });
  ui.quick = el("div", { class: "quick", role: "group", "aria-label": T.quick, hidden: true });
  ui.input = el("textarea", { id: "helio-input", rows: "1", placeholder: T.placeholder, maxlength: "2000",
    autocomplete: "off", enterkeyhint: "send" });
  ui.send = el("button", { type: "submit", text: T.send });
  ui.stop = el("button", { type: "button", class: "stop", text: T.stop, hidden: true, onclick: () => stop() });
  ui.form = el("form", { onsubmit: (e) => { e.preventDefault(); send(ui.input.value); } },
    el("label", { class: "sr-only", for: "helio-input", text: T.input }), ui.input, ui.send, ui.stop);
  ui.panel = el("div", { class: "panel", id: "helio-panel", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "helio-title", hidden: true },
    el("div", { class: "head" }, ui.title, ui.reset, ui.close), ui.note, ui.log, ui.live, ui.quick, ui.form);
  ui.root = el("div", { class: POSITION }, ui.launcher, ui.panel);
  ui.launcher.setAttribute("aria-controls", "helio-panel");
  root.append(ui.root);

  const state = { ready: false, open: false, busy: false, loaded: false, controller: null, queue: [], lastText: null };

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent(`helio:${name}`, { detail }));
  }
  function headers(json) {
    const h = { Accept: json ? "application/json" : "text/event-stream" };
    if (KEY) h["X-API-Key"] = KEY;
    return h;
  }
  function note(text, retry) {
    ui.note.replaceChildren(document.createTextNode(text));
    if (retry) ui.note.append(el("button", { type: "button", text: T.retry, onclick: retry }));
    ui.note.hidden = !text;
  }
  function scroll() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }
  function message(role, text) {
    const bubble = el("div", { class: "bubble" });
    const box = el("div", { class: `msg ${role}`, "data-role": role },
      el("span", { class: "who", text: role === "user" ? T.you : T.bot }), bubble);
    if (role === "user") bubble.textContent = text;
    else bubble.append(markdown(text || ""));
    ui.log.append(box);
    scroll();
    return { box, bubble };
  }
  function quickReplies(labels) {
    ui.quick.replaceChildren(...labels.map((label) =>
      el("button", { type: "button", text: label, onclick: () => send(label) })));
    ui.quick.hidden = labels.length === 0;
  }
  function greet() {
    message("bot", T.hello);
    quickReplies([T.qSize]);
  }

  // ---- focus: move in, trap, ESC closes and returns ---------------------------------------------
  function focusables() {
    return [...ui.panel.querySelectorAll("button,textarea,a[href],[tabindex]:not([tabindex='-1'])")]
      .filter((n) => !n.hidden && !n.disabled && n.getClientRects().length);
  }
  ui.panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "Tab") {
      const items = focusables();
      if (!items.length) return;
      const first = items[0], last = items[items.length - 1], active = root.activeElement;
      if (e.shiftKey && (active === first || !ui.panel.contains(active))) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
    }
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send(ui.input.value);
    }
  });
  ui.input.addEventListener("input", () => {
    ui.input.style.height = "auto"; // CSSOM, not a style attribute: allowed under CSP
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 120)}px`;
  });

  function open() {
    if (!state.ready) return false;
    if (!state.open) {
      state.open = true;
      ui.panel.hidden = false;
      ui.launcher.hidden = true;
      ui.launcher.setAttribute("aria-expanded", "true");
      if (!state.loaded) restore();
      emit("open", {});
    }
    ui.input.focus();
    return true;
  }
  function close() {
    if (!state.open) return;
    state.open = false;
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.focus();
    emit("close", {});
  }

  // ---- history ---------------------------------------------------------------------------------
  async function restore() {
    state.loaded = true;
    const id = storage.get();
    if (!id) return greet();
    let r;
    try {
      r = await fetch(`${API}/v1/conversations/${encodeURIComponent(id)}`, { headers: headers(true) });
    } catch {
      state.loaded = false;
      return note(T.offline, () => { note(""); restore(); });
    }
    if (r.status === 404) {
      storage.clear();
      note(T.expired);
      return greet();
    }
    if (!r.ok) {
      state.loaded = false;
      return note(T.error, () => { note(""); restore(); });
    }
    const conv = await r.json();
    const turns = conv.transcript || [];
    if (!turns.length) return greet();
    const facts = conv.last_sizing && conv.last_sizing.facts;
    let sizingAt = -1;
    turns.forEach((t, i) => {
      if (facts && t.role === "assistant" && facts.system_kwp && t.content.includes(facts.system_kwp)) sizingAt = i;
    });
    turns.forEach((t, i) => {
      const m = message(t.role === "user" ? "user" : "bot", t.content);
      if (i === sizingAt) m.box.append(sizingCard({ facts }));
    });
    const lastBot = turns.map((t) => t.role).lastIndexOf("assistant");
    if (sizingAt >= 0 && sizingAt === lastBot) quickReplies([T.qFinance, T.qKit]);
    note(T.restored);
    scroll();
  }
  async function reset(announce) {
    stop();
    const id = storage.get();
    storage.clear();
    if (id) {
      fetch(`${API}/v1/conversations/${encodeURIComponent(id)}`, { method: "DELETE", headers: headers(true) })
        .catch(() => {}); // best effort: it also expires on its own
    }
    ui.log.replaceChildren();
    note(announce ? T.newDone : "");
    greet();
    ui.input.focus();
  }

  // ---- one turn: POST /v1/chat, read the SSE stream as it arrives -------------------------------
  async function send(text) {
    text = String(text || "").trim();
    if (!text) return false;
    if (!state.ready) { state.queue.push(text); return true; }
    if (!state.open) open();
    if (state.busy) return false;
    if (!state.loaded) await restore();
    let id = storage.get();
    if (!id) { id = newId(); storage.set(id); }
    ui.input.value = "";
    ui.input.style.height = "";
    note("");
    quickReplies([]);
    message("user", text);
    emit("message", { role: "user", text, cards: [], conversationId: id });
    state.lastText = text;
    await turn(id, text);
    return true;
  }

  function busy(on) {
    state.busy = on;
    ui.send.hidden = on;
    ui.stop.hidden = !on;
    ui.input.setAttribute("aria-busy", on ? "true" : "false");
    if (!on && state.open && ui.panel.contains(root.activeElement) === false) ui.input.focus();
  }

  async function turn(id, text, again = false) {
    const { box, bubble } = message("bot", "");
    box.classList.add("streaming");
    bubble.append(el("span", { class: "sr-only", text: T.thinking }));
    const controller = new AbortController();
    state.controller = controller;
    busy(true);
    let answer = "";
    const cards = [];
    let painted = 0;
    const paint = () => {
      painted = 0;
      bubble.replaceChildren(markdown(answer));
      scroll();
    };
    const onEvent = (name, payload) => {
      if (name === "token") {
        answer += payload.text || "";
        if (!painted) painted = requestAnimationFrame(paint);
      } else if (name === "reset") {
        // The model's answer was withdrawn (a number not found in the tool results): its
        // replacement follows, so drop what was shown of it, text and cards.
        answer = "";
        cards.length = 0;
        for (const node of [...box.children]) if (node !== bubble && !node.classList.contains("who")) node.remove();
        if (!painted) painted = requestAnimationFrame(paint);
      } else if (name === "card") {
        const node = renderCard(payload);
        if (node) { cards.push(payload); box.append(node); scroll(); }
      } else if (name === "done") {
        if (payload.conversation_id && payload.conversation_id !== id) storage.set(payload.conversation_id);
        const awaiting = payload.awaiting || [];
        if (awaiting.length === 1 && awaiting[0] === "connection") quickReplies(T.phases);
        else if (cards.some((c) => c.type === "sizing")) quickReplies([T.qFinance, T.qKit]);
      } else if (name === "error") {
        throw Object.assign(new Error(payload.message || T.error), { payload });
      }
    };
    let outcome = "ok";
    try {
      const r = await fetch(`${API}/v1/chat`, {
        method: "POST",
        headers: { ...headers(false), "Content-Type": "application/json" },
        body: JSON.stringify({ conversation_id: id, message: text, language: LANG, stream: true }),
        signal: controller.signal,
      });
      if (!r.ok) {
        outcome = await failure(r, again);
      } else {
        await readSSE(r.body, onEvent);
      }
    } catch (err) {
      if (controller.signal.aborted) outcome = "stopped";
      else if (err && err.payload) { outcome = "error"; answer = answer || err.payload.message || T.error; }
      else outcome = "offline";
    }
    if (painted) cancelAnimationFrame(painted);
    box.classList.remove("streaming");
    if (outcome === "stopped") answer = answer ? `${answer}\n\n${T.stopped}` : T.stopped;
    if (outcome === "offline") {
      box.remove();
      note(T.offline, () => { note(""); retry(); });
    } else if (outcome === "ok" || outcome === "stopped" || outcome === "error") {
      bubble.replaceChildren(markdown(answer));
      ui.live.textContent = "";
      ui.live.textContent = `${T.bot}: ${answer}`;
      emit("message", { role: "assistant", text: answer, cards, conversationId: storage.get() });
    } else {
      box.remove(); // a refusal shown in the note bar
    }
    state.controller = null;
    busy(false);
    scroll();
  }

  async function failure(r, again) {
    let body = {};
    try { body = (await r.json()).error || {}; } catch { /* not JSON */ }
    if (r.status === 429) {
      note(body.retry_after_s ? T.busyWait(body.retry_after_s) : T.busy, () => { note(""); retry(); });
      return "refused";
    }
    if (r.status === 404 && !again) { // a vanished (or foreign) conversation: start over, keep the message
      storage.set(newId());
      note(T.expired);
      await turn(storage.get(), state.lastText, true);
      return "replaced";
    }
    if (r.status === 401 || r.status === 403) {
      console.error(`[Hélio] ${body.message || "acesso negado"} ${body.hint || ""}`.trim());
    }
    note(body.message || T.error, r.status >= 500 ? () => { note(""); retry(); } : null);
    return "refused";
  }
  function retry() {
    if (!state.lastText || state.busy) return;
    const id = storage.get() || newId();
    storage.set(id);
    turn(id, state.lastText);
  }
  function stop() {
    if (state.controller) state.controller.abort();
  }

  async function readSSE(stream, onEvent) {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
        let name = "message";
        const lines = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith(":")) continue; // keep-alive comment
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) lines.push(line.slice(5).replace(/^ /, ""));
        }
        if (lines.length) onEvent(name, JSON.parse(lines.join("\n")));
      }
    }
  }

  // ---- start: ask the API whether this key may be used on this origin --------------------------
  function ready() {
    state.ready = true;
    (document.body || document.documentElement).append(host);
    emit("ready", { version: VERSION, lang: LANG });
    const queued = state.queue.splice(0);
    for (const text of queued) send(text);
  }
  async function start() {
    const url = new URL(`${API}/widget/v1/session`);
    if (KEY) url.searchParams.set("key", KEY);
    let r;
    try {
      r = await fetch(url, { credentials: "omit" });
    } catch {
      // Offline or the API is down: show the launcher; the panel explains and offers a retry.
      ready();
      note(T.offline, () => { note(""); state.loaded = false; restore(); });
      return;
    }
    if (r.ok) return ready();
    let body = {};
    try { body = (await r.json()).error || {}; } catch { /* not JSON */ }
    console.error(`[Hélio] widget não exibido: ${body.message || `HTTP ${r.status}`} ${body.hint || ""}`.trim());
  }

  window.addEventListener("offline", () => state.open && note(T.offline));
  window.addEventListener("online", () => ui.note.textContent === T.offline && note(""));

  window.Helio = Object.freeze({
    version: VERSION,
    open,
    close,
    send,
    reset: () => reset(false),
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
