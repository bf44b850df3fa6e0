// Small DOM helpers shared by the pages: elements built with text (never HTML from data), notices, confirmations,
// times in a station's zone, energy and money, status badges, pagers.
import { get, enc } from "./api.js";

// h("a", { href: "#/x", class: "link" }, "text", child, ...): attributes starting with "on" are listeners.
export function h(tag, attributes = {}, ...children) {
  const element = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

// A message at the top of the page: what happened, or the API's error in words. Errors stay until closed. Given the
// notice it `replaces` (still shown, of the same kind), that one says the message instead of a second piling up
// under it (a page refreshing every few seconds that keeps failing). Returns the notice shown.
export function notify(message, kind = "ok", { replaces = null } = {}) {
  if (replaces?.isConnected && replaces.classList.contains(kind)) {
    const words = replaces.querySelector("span");
    if (words.textContent !== message) words.textContent = message;
    return replaces;
  }
  const box = document.getElementById("notices");
  const close = h("button", { type: "button", class: "link", "aria-label": "Dismiss" }, "×");
  const item = h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : null }, h("span", {}, message), close);
  close.addEventListener("click", () => item.remove());
  box.append(item);
  if (kind !== "error") setTimeout(() => item.remove(), 8000);
  return item;
}

// Runs an action, says what happened or why not; returns its result (undefined on failure).
export async function act(action, success) {
  try {
    const result = await action();
    if (success) notify(typeof success === "function" ? success(result) : success, "ok");
    return result;
  } catch (error) {
    notify(error.message, "error");
    return undefined;
  }
}

// A modal confirmation (the native <dialog>: focus kept inside, Escape cancels). Resolves true or false.
export function confirmDialog(question, confirmLabel = "Confirm") {
  return new Promise((resolve) => {
    const yes = h("button", { type: "button", class: "danger" }, confirmLabel);
    const no = h("button", { type: "button" }, "Cancel");
    const dialog = h("dialog", { class: "confirm", "aria-label": question }, h("p", {}, question), h("div", { class: "actions" }, no, yes));
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

// --- times ------------------------------------------------------------------------------------------------

const formats = new Map();
function format(zone) {
  if (!formats.has(zone)) {
    formats.set(zone, new Intl.DateTimeFormat("sv-SE", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
      hourCycle: "h23",
    }));
  }
  return formats.get(zone);
}

// Station timestamps may come without an offset: OCPP means UTC then.
export function parseTime(text) {
  if (!text) return null;
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  const moment = new Date(withZone);
  return Number.isNaN(moment.getTime()) ? null : moment;
}

export function zoneName(zone) {
  return zone || "UTC";
}

// "2026-11-24 10:05:00 Europe/Paris": always with the zone named.
export function timeText(iso, zone) {
  const moment = parseTime(iso);
  return moment ? `${format(zoneName(zone)).format(moment)} ${zoneName(zone)}` : "";
}

// "2026-11-24T18:30" typed as a wall-clock time in `zone` -> the UTC instant, ISO ("...Z"). The zone's offset is read
// at the instant itself (twice: the first guess may sit across a daylight-saving change).
export function zonedToUtc(local, zone) {
  if (!local) return null;
  const wall = new Date(`${local.length === 16 ? `${local}:00` : local}Z`);
  if (Number.isNaN(wall.getTime())) return null;
  let instant = wall.getTime();
  for (let i = 0; i < 2; i += 1) {
    const shown = new Date(`${format(zoneName(zone)).format(new Date(instant)).replace(" ", "T")}Z`);
    instant -= shown.getTime() - wall.getTime();
  }
  return new Date(instant).toISOString().replace(".000Z", "Z");
}

// The other way: an instant as the value of a datetime-local input in `zone`.
export function utcToZoned(iso, zone) {
  const moment = parseTime(iso);
  return moment ? format(zoneName(zone)).format(moment).replace(" ", "T").slice(0, 16) : "";
}

export function time(iso, zone) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso }, timeText(iso, zone));
}

export function ago(iso) {
  const moment = parseTime(iso);
  if (!moment) return "";
  const seconds = Math.round((Date.now() - moment.getTime()) / 1000);
  if (seconds < 60) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

// The time zone of each station (GET /charge-points/{id}), asked once per station per page load.
const zones = new Map();
export function stationZone(chargePointId) {
  if (!zones.has(chargePointId)) {
    zones.set(chargePointId, get(`/charge-points/${enc(chargePointId)}`).then((station) => station.timeZone || null, () => null));
  }
  return zones.get(chargePointId);
}
export function rememberZone(chargePointId, zone) {
  zones.set(chargePointId, Promise.resolve(zone || null));
}

// --- values -----------------------------------------------------------------------------------------------

export function kWh(wattHours) {
  if (wattHours === null || wattHours === undefined) return "—";
  return `${(Number(wattHours) / 1000).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} kWh`;
}

export function kW(watts) {
  if (watts === null || watts === undefined) return "—";
  return `${(Number(watts) / 1000).toLocaleString("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} kW`;
}

export function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  return `${Number(amount).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 4 })} ${currency || ""}`.trim();
}

const STATUS_KINDS = {
  Available: "ok", Charging: "busy", Preparing: "busy", Finishing: "busy", SuspendedEV: "warn", SuspendedEVSE: "warn",
  Reserved: "info", Unavailable: "off", Faulted: "bad", Online: "ok", Offline: "off", Accepted: "ok", Answered: "ok",
  Blocked: "bad", Expired: "warn", Invalid: "bad", Queued: "info", Sent: "info", Failed: "bad", TimedOut: "warn",
  Active: "busy", Stopped: "off", Pending: "warn", Rejected: "bad", Scheduled: "info", Consumed: "ok", Cancelled: "off",
  Refused: "bad", Requested: "warn", Started: "busy", Paused: "off",
};

export function badge(status, label) {
  return h("span", { class: `badge ${STATUS_KINDS[status] || "info"}` }, label || status || "unknown");
}

// The empty state of a table: what it means and what to do next.
export function empty(...lines) {
  return h("div", { class: "empty" }, lines.map((line) => (line instanceof Node ? line : h("p", {}, line))));
}

// Pages of a listing: the current page's token is in the view's URL (shareable); nextToken leads on.
export function pager(currentToken, nextToken, go) {
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: !currentToken, onclick: () => go(null) }, "First page"),
    h("button", { type: "button", disabled: !nextToken, onclick: () => go(nextToken) }, "Next page →"));
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", { class: "muted" }, hint) : null);
}

export function table(headers, rows, caption) {
  return h("div", { class: "table-wrap" }, h("table", {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
    h("tbody", {}, rows)));
}

// The view's query parameters, and a way to change them without reloading the view (filters, pages).
export function viewQuery() {
  const [, query = ""] = location.hash.slice(1).split("?");
  return new URLSearchParams(query);
}

export function setViewQuery(params) {
  const [path] = location.hash.slice(1).split("?");
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  history.replaceState(null, "", `#${path}${text ? `?${text}` : ""}`);
}

// Redraws `container` keeping keyboard focus: on the focused element itself when the redraw put it back (a form
// kept across redraws, with what is typed in it and the caret), else on the link, button or field that took its
// place (auto-refreshing lists stay usable from the keyboard).
export function keepFocus(container, redraw) {
  const active = document.activeElement;
  const key = (element) => `${element.tagName}|${element.getAttribute("name") || ""}|${element.getAttribute("href") || ""}|${element.textContent}`;
  const focused = container.contains(active) && active !== container ? key(active) : null;
  const caret = focused && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
  redraw();
  if (!focused || document.activeElement === active) return;
  if (container.contains(active)) {
    active.focus();
    if (caret) active.setSelectionRange(...caret);
    return;
  }
  [...container.querySelectorAll("a, button, input, select, textarea")].find((element) => key(element) === focused)?.focus();
}

// Puts `children` into `parent` in this order, leaving alone those already in their place: an element left in the
// document keeps its focus and what is typed in it (rows rebuilt only when their data changed).
export function placeChildren(parent, children) {
  children.forEach((child, index) => {
    if (parent.children[index] !== child) parent.insertBefore(child, parent.children[index] || null);
  });
  while (parent.children.length > children.length) parent.lastElementChild.remove();
}
