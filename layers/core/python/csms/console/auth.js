// Sign-in, when the operator API takes JWTs (on AWS with Cognito): OpenID Connect authorization code with PKCE,
// the issuer's endpoints read from its discovery document; the ID token is the bearer of every API call. Locally
// (and behind IAM, where a browser cannot sign) /console/config.json names no issuer and nothing is sent.
const TOKEN_KEY = "csms.console.token";
const FLOW_KEY = "csms.console.signIn";

let configPromise = null;

export function consoleConfig() {
  configPromise ??= fetch("config.json").then((response) => {
    if (!response.ok) throw new Error(`The console's configuration could not be read (${response.status}).`);
    return response.json();
  });
  return configPromise;
}

async function discovery(issuer) {
  const response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`The sign-in provider ${issuer} did not describe itself (${response.status}).`);
  return response.json();
}

function base64Url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText() {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

function storedToken() {
  const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
  return saved && saved.expiresAt > Date.now() + 30_000 ? saved : null;
}

// Sends the browser to the provider's sign-in page; it comes back to this page with ?code=...
export async function signIn() {
  const { signIn: provider } = await consoleConfig();
  if (!provider) return;
  const endpoints = await discovery(provider.issuer);
  const verifier = randomText();
  const state = randomText();
  sessionStorage.setItem(FLOW_KEY, JSON.stringify({ verifier, state, view: location.hash }));
  const challenge = base64Url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: provider.clientId,
    redirect_uri: redirectUri(),
    scope: "openid email",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${endpoints.authorization_endpoint}?${query}`);
  await new Promise(() => {}); // the page is leaving
}

// Back from the provider: the code becomes tokens, the address bar loses the code.
async function finishSignIn(provider) {
  const params = new URLSearchParams(location.search);
  const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) || "null");
  sessionStorage.removeItem(FLOW_KEY);
  if (!params.get("code") || !flow || params.get("state") !== flow.state) return false;
  const endpoints = await discovery(provider.issuer);
  const response = await fetch(endpoints.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: provider.clientId,
      code: params.get("code"),
      redirect_uri: redirectUri(),
      code_verifier: flow.verifier,
    }),
  });
  if (!response.ok) throw new Error(`Sign-in failed: the provider answered ${response.status}.`);
  const tokens = await response.json();
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token: tokens.id_token, expiresAt: Date.now() + tokens.expires_in * 1000 }));
  history.replaceState(null, "", `${location.pathname}${flow.view || ""}`);
  return true;
}

// The token to send, signing in first when needed; null when the API takes none.
export async function bearerToken() {
  const { signIn: provider } = await consoleConfig();
  if (!provider) return null;
  let saved = storedToken();
  if (!saved && (await finishSignIn(provider))) saved = storedToken();
  if (!saved) {
    await signIn();
    return null;
  }
  return saved.token;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}
