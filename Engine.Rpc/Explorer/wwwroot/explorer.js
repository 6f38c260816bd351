// The explorer reads the chain through the RPC system's own JSON-RPC methods (explorer.*), on the origin that served
// it. Everything from the network is put in the page as text, never as markup.
"use strict";

const REFRESH_MS = 1000;
const VALIDATORS_REFRESH_MS = 3000;
const RATE_WINDOW_MS = 10000;
const TX_PAGE = 100;

let requestId = 0;
let stops = [];
let shownBlock = null;
let problemSource = null;

async function rpc(method, params) {
  const response = await fetch("/rpc/v1", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++requestId, method, params: params || {} }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`${method}: the server answered HTTP ${response.status} without JSON`);
  }
  if (body.error) {
    const failure = new Error(body.error.message);
    failure.code = body.error.code;
    throw failure;
  }
  return body.result;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function link(href, text, className) {
  const a = el("a", text, className);
  a.href = href;
  return a;
}

function short(hex) {
  return hex && hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex || "";
}

function age(ms, now) {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}

function validatorLabel(validator) {
  if (!validator) return "—";
  return validator.key ? `#${validator.index} ${validator.key.slice(0, 8)}` : `#${validator.index}`;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = cell instanceof Node ? wrap(cell) : el("td", cell);
    tr.appendChild(td);
  }
  return tr;
}

function wrap(node) {
  if (node.tagName === "TD") return node;
  const td = document.createElement("td");
  td.appendChild(node);
  return td;
}

function cell(text, className) {
  return el("td", text, className);
}

function fields(target, pairs) {
  target.replaceChildren();
  for (const [name, value] of pairs) {
    target.appendChild(el("dt", name));
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value === null || value === undefined ? "—" : String(value);
    target.appendChild(dd);
  }
}

// One banner; a source clears only the problem it reported, so the live figures' next good read does not hide a
// page's own error.
function problem(message, source = "page") {
  if (!message && problemSource !== source) return;
  const banner = document.getElementById("problem");
  banner.textContent = message || "";
  banner.hidden = !message;
  problemSource = message ? source : null;
}

function resultCell(code, result) {
  if (code === null || code === undefined) return cell("not executed yet", "muted");
  return cell(result, code === 0 ? "ok" : "bad");
}

// The rate over the last ten seconds of blocks, or over the blocks listed when they span less.
function transactionsPerSecond(blocks, now) {
  if (blocks.length === 0) return 0;
  const oldest = blocks[blocks.length - 1].time;
  const since = Math.max(oldest, now - RATE_WINDOW_MS);
  const span = now - since;
  if (span <= 0) return 0;
  const count = blocks.filter((b) => b.time > since).reduce((sum, b) => sum + b.tx_count, 0);
  return count / (span / 1000);
}

function showLive(list) {
  document.getElementById("height").textContent = list.height;
  document.getElementById("executed-height").textContent = list.executed_height;
  const rate = transactionsPerSecond(list.blocks, list.now_ms);
  document.getElementById("tps").textContent = rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
}

async function refreshHead() {
  const list = await rpc("explorer.blocks", {});
  showLive(list);
  return list;
}

function renderBlocks(list) {
  const body = document.querySelector("#blocks tbody");
  body.replaceChildren(...list.blocks.map((b) => {
    const tr = row([
      link(`#/block/${b.height}`, b.height),
      age(b.time, list.now_ms),
      validatorLabel(b.proposer),
      cell(b.tx_count, "num"),
      cell(b.signers.length ? `${b.signers.length} votes (${b.signers.map((s) => s.index).join(", ")})` : "—"),
      cell(short(b.id), "mono"),
    ]);
    tr.dataset.height = b.height;
    return tr;
  }));
}

async function renderValidators() {
  const answer = await rpc("explorer.validators", {});
  document.getElementById("epoch").textContent = `epoch ${answer.epoch}`;
  const now = Date.now();
  const body = document.querySelector("#validators tbody");
  body.replaceChildren(...answer.validators.map((v) => row([
    cell(v.index),
    cell(short(v.key), "mono"),
    v.last_vote_height ? link(`#/block/${v.last_vote_height}`, v.last_vote_height) : cell("none seen", "muted"),
    v.last_vote_height ? age(v.last_vote_time, now) : "—",
  ])));
}

function every(ms, work) {
  let stopped = false;
  let handle = null;
  const run = async () => {
    try {
      await work();
      if (!stopped) problem("", "live");
    } catch (failure) {
      if (!stopped) problem(`The explorer cannot read the chain right now: ${failure.message}`, "live");
    }
    if (!stopped) handle = setTimeout(run, ms);
  };
  run();
  stops.push(() => {
    stopped = true;
    clearTimeout(handle);
  });
}

function stopTimers() {
  for (const stop of stops) stop();
  stops = [];
}

function show(view) {
  for (const id of ["home-view", "block-view", "tx-view"]) document.getElementById(id).hidden = id !== view;
}

function home() {
  show("home-view");
  every(REFRESH_MS, async () => renderBlocks(await refreshHead()));
  every(VALIDATORS_REFRESH_MS, renderValidators);
}

async function blockPage(height) {
  show("block-view");
  every(REFRESH_MS, refreshHead);
  shownBlock = { height, offset: 0 };
  document.getElementById("block-height").textContent = height;
  document.getElementById("block-prev").href = `#/block/${Math.max(1, height - 1)}`;
  document.getElementById("block-next").href = `#/block/${height + 1}`;
  document.querySelector("#block-transactions tbody").replaceChildren();
  document.getElementById("block-fields").replaceChildren();
  try {
    await loadTransactions(height, 0);
    problem("");
  } catch (failure) {
    problem(failure.message);
  }
}

async function loadTransactions(height, offset) {
  const page = await rpc("explorer.block", { height, offset, limit: TX_PAGE });
  if (!shownBlock || shownBlock.height !== height) return;
  const b = page.block;
  fields(document.getElementById("block-fields"), [
    ["height", b.height],
    ["id", b.id],
    ["time", new Date(b.time).toISOString()],
    ["round", b.round],
    ["epoch", b.epoch],
    ["proposer", b.proposer ? `#${b.proposer.index} ${b.proposer.key}` : "genesis"],
    ["transactions", b.tx_count],
    ["size", b.bytes === null ? "body pruned" : `${b.bytes} bytes`],
    ["certificate", b.signers.length ? b.signers.map(validatorLabel).join(", ") : "not yet certified here"],
  ]);
  document.getElementById("block-tx-count").textContent = `(${b.tx_count})`;
  const body = document.querySelector("#block-transactions tbody");
  for (const t of page.transactions) {
    body.appendChild(row([
      link(`#/tx/${t.hash}`, short(t.hash), "mono"),
      cell(t.action === null ? "body pruned" : t.action),
      cell(t.bytes === null ? "—" : t.bytes, "num"),
      cell(t.code === null ? "—" : t.code, "num"),
      resultCell(t.code, t.result),
    ]));
  }
  shownBlock.offset = offset + page.transactions.length;
  const more = document.getElementById("block-more");
  more.hidden = shownBlock.offset >= b.tx_count;
}

async function transactionPage(hash) {
  show("tx-view");
  every(REFRESH_MS, refreshHead);
  const target = document.getElementById("tx-fields");
  target.replaceChildren();
  try {
    const t = await rpc("explorer.tx", { hash });
    fields(target, [
      ["hash", t.hash],
      ["block", link(`#/block/${t.height}`, t.height)],
      ["action", t.action === null ? "body pruned" : t.action],
      ["size", t.bytes === null ? "—" : `${t.bytes} bytes`],
      ["code", t.code],
      ["result", t.result],
    ]);
    problem("");
  } catch (failure) {
    problem(failure.message);
  }
}

function route() {
  stopTimers();
  problem("");
  shownBlock = null;
  const path = location.hash.replace(/^#/, "");
  const block = /^\/block\/(\d+)$/.exec(path);
  const tx = /^\/tx\/(?:0x)?([0-9a-fA-F]{64})$/.exec(path);
  if (block) return blockPage(Number(block[1]));
  if (tx) return transactionPage(tx[1].toLowerCase());
  if (path !== "" && path !== "/") problem(`There is no page ${path}; the explorer has blocks (#/block/HEIGHT) and transactions (#/tx/HASH).`);
  return home();
}

function search(event) {
  event.preventDefault();
  const query = document.getElementById("search-input").value.trim();
  if (/^\d+$/.test(query) && Number(query) >= 1) {
    location.hash = `#/block/${Number(query)}`;
  } else if (/^(0x)?[0-9a-fA-F]{64}$/.test(query)) {
    location.hash = `#/tx/${query.replace(/^0x/, "").toLowerCase()}`;
  } else {
    problem("Search takes a block height or a transaction hash (64 hex digits).");
  }
}

async function chainId() {
  try {
    document.getElementById("chain-id").textContent = (await rpc("user.chain_info", {})).chain_id;
  } catch {
    // The live figures report a chain that cannot be read; the name can wait for the next page load.
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("search").addEventListener("submit", search);
  document.getElementById("block-more").addEventListener("click", () => {
    if (shownBlock) loadTransactions(shownBlock.height, shownBlock.offset).catch((failure) => problem(failure.message));
  });
  window.addEventListener("hashchange", route);
  chainId();
  route();
});
