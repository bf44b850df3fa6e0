// The console's frame: hash routes (every view has its own shareable URL), the navigation, and one place where a
// page's failure becomes words on the screen.
import { consoleConfig, signOut } from "./auth.js";
import { h, replace, viewQuery } from "./ui.js";
import * as network from "./network.js";
import * as station from "./station.js";
import * as sessions from "./sessions.js";
import * as session from "./session.js";
import * as idTags from "./id-tags.js";
import * as tariffs from "./tariffs.js";
import * as cdrs from "./cdrs.js";
import * as reservations from "./reservations.js";
import * as sites from "./sites.js";

// Pattern -> [navigation section, page]. Each page's render(main, params, query) may return a cleanup (timers).
const ROUTES = [
  [/^\/network$/, "network", network],
  [/^\/stations\/([^/]+)$/, "network", station],
  [/^\/sessions$/, "sessions", sessions],
  [/^\/sessions\/(\d+)$/, "sessions", session],
  [/^\/reservations$/, "reservations", reservations],
  [/^\/id-tags$/, "id-tags", idTags],
  [/^\/tariffs$/, "tariffs", tariffs],
  [/^\/tariffs\/([^/]+)$/, "tariffs", tariffs],
  [/^\/cdrs$/, "cdrs", cdrs],
  [/^\/sites$/, "sites", sites],
  [/^\/sites\/([^/]+)$/, "sites", sites],
];

let cleanup = null;

async function show() {
  if (cleanup) cleanup();
  cleanup = null;
  replace(document.getElementById("notices")); // what was said on the previous page stays there
  const [path = "/network"] = location.hash.slice(1).split("?");
  const main = document.getElementById("main");
  const route = ROUTES.find(([pattern]) => pattern.test(path || "/network"));
  for (const link of document.querySelectorAll("nav a[data-section]")) {
    if (route && link.dataset.section === route[1]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!route) {
    replace(main, h("h1", {}, "Not found"), h("p", {}, "This console has no such page. ", h("a", { href: "#/network" }, "Go to the network")));
    return;
  }
  const [pattern, , page] = route;
  const params = pattern.exec(path).slice(1).map(decodeURIComponent);
  replace(main, h("p", { class: "muted" }, "Loading…"));
  try {
    cleanup = (await page.render(main, params, viewQuery())) || null;
  } catch (error) {
    replace(main, h("h1", {}, "This page could not be shown"), h("p", { class: "error", role: "alert" }, error.message),
      h("p", {}, h("a", { href: location.hash }, "Try again"), " · ", h("a", { href: "#/network" }, "Network")));
  }
}

async function start() {
  const config = await consoleConfig().catch((error) => ({ error }));
  if (config.signIn) {
    replace(document.getElementById("account"), h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"));
  }
  if (!location.hash) history.replaceState(null, "", "#/network");
  window.addEventListener("hashchange", show);
  await show();
}

// Unexpected failures are said in words, never as a stack trace.
window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  const box = document.getElementById("notices");
  box.append(h("div", { class: "notice error", role: "alert" }, h("span", {}, event.reason?.message || "Something went wrong.")));
});

start();
