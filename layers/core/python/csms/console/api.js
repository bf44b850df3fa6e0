// The operator API, as the console calls it: same origin, JSON both ways, the signed-in operator's token.
// Every failure becomes an ApiError whose message is the API's own words (never a stack trace).
import { bearerToken, signIn } from "./auth.js";

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// The API's error body in words: `message`, each field at fault, and a station's CallError when there is one.
export function describeError(status, body) {
  if (!body || typeof body !== "object") return `The API answered ${status} without an explanation.`;
  const parts = [body.message || `The API answered ${status}.`];
  if (Array.isArray(body.errors)) {
    for (const error of body.errors) {
      const words = `${error.location}: ${error.message}`;
      if (!parts[0].includes(words)) parts.push(words); // the message often says it already
    }
  }
  // A station's CallError: the API's message names its code and description already ("... answered Reset with
  // NotImplemented: ..."); said once, in a sentence of its own only when the message does not.
  const said = parts.join(" ");
  if (body.code && !(said.includes(body.code) && (!body.description || said.includes(body.description)))) {
    parts.push(`The station answered ${body.code}${body.description ? `: ${body.description}` : ""}.`);
  }
  return parts.join(" ");
}

export async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const token = await bearerToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError("The CSMS did not answer: is it running, and is this machine online?", 0, null);
  }
  if (response.status === 401 && token !== null) {
    await signIn(); // the session ended: sign in again (the page comes back to the same view)
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) throw new ApiError(describeError(response.status, parsed), response.status, parsed);
  return parsed;
}

export const get = (path) => api("GET", path);

// A path with a query string built from the given parameters (empty values left out).
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// Every page of a listing (CSV downloads): follows nextToken until it is null.
export async function allPages(path, params) {
  const items = [];
  let nextToken = null;
  do {
    const page = await get(withQuery(path, { ...params, limit: 100, nextToken }));
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

export const enc = encodeURIComponent;
