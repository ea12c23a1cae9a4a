// WWW-Authenticate / Proxy-Authenticate per RFC 9110 section 11: a header holds a comma-separated list of
// challenges, each `scheme [ token68 | #auth-param ]`, and a response may carry several such headers. Commas separate
// both challenges and parameters, so a parameter is recognised by its `name=` and anything else starts a challenge.
import { HttpNegotiateError } from './errors.js';
import { isBase64 } from '../../protocol/base64.js';

export interface Challenge {
  /** As sent; compare case-insensitively (`isScheme`). */
  scheme: string;
  token68?: string;
  params: Record<string, string>;
}

/** Longer headers are refused before parsing: no legitimate challenge list comes near it. */
export const MAX_CHALLENGE_HEADER = 64 * 1024;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /[A-Za-z0-9\-._~+/]/;

function fail(why: string): never {
  throw new HttpNegotiateError('BAD_CHALLENGE', `malformed authentication challenge: ${why}`);
}

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): string {
    return this.s[this.pos] ?? '';
  }

  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Skips whitespace and empty list elements (RFC 9110 5.6.1 lets a recipient accept `, ,`). */
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }

  token(): string {
    const start = this.pos;
    while (TCHAR.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }

  quoted(): string {
    this.pos++; // the opening quote
    let out = '';
    for (;;) {
      if (this.done) fail('a quoted string is not closed');
      const c = this.s[this.pos++];
      if (c === '"') return out;
      if (c === '\\') {
        if (this.done) fail('a quoted string ends in a backslash');
        out += this.s[this.pos++];
      } else {
        out += c;
      }
    }
  }

  /** True when `name =` (an auth-param) starts here; the position is unchanged. */
  atParam(): boolean {
    const save = this.pos;
    const name = this.token();
    this.skipSpace();
    const isParam = name.length > 0 && this.peek() === '=' && this.paramValueFollows();
    this.pos = save;
    return isParam;
  }

  private paramValueFollows(): boolean {
    const save = this.pos;
    this.pos++;
    this.skipSpace();
    const c = this.peek();
    this.pos = save;
    return c === '"' || TCHAR.test(c);
  }
}

/** Parses every challenge of one header value. Throws HttpNegotiateError('BAD_CHALLENGE') on bad syntax. */
export function parseChallenges(value: string): Challenge[] {
  if (value.length > MAX_CHALLENGE_HEADER) fail(`the header is over ${MAX_CHALLENGE_HEADER} characters`);
  const sc = new Scanner(value);
  const out: Challenge[] = [];
  for (;;) {
    sc.skipSeparators();
    if (sc.done) return out;
    const scheme = sc.token();
    if (!scheme) fail(`a scheme was expected at character ${sc.pos + 1}`);
    // No prototype: a parameter named __proto__ or constructor is data like any other.
    const challenge: Challenge = { scheme, params: Object.create(null) as Record<string, string> };
    out.push(challenge);
    if (sc.done || sc.peek() === ',') continue;
    if (sc.peek() !== ' ' && sc.peek() !== '\t') fail(`unexpected character after the scheme at character ${sc.pos + 1}`);
    sc.skipSpace();
    if (sc.done || sc.peek() === ',') continue;
    if (!sc.atParam()) {
      challenge.token68 = readToken68(sc);
      continue;
    }
    // auth-params until something that is not `name=` (the next challenge) or the end.
    for (;;) {
      const name = sc.token().toLowerCase();
      sc.skipSpace();
      sc.pos++; // '='
      sc.skipSpace();
      const v = sc.peek() === '"' ? sc.quoted() : sc.token();
      if (Object.hasOwn(challenge.params, name)) fail(`parameter "${name}" appears twice`);
      challenge.params[name] = v;
      sc.skipSpace();
      if (sc.done) break;
      if (sc.peek() !== ',') fail(`a comma was expected at character ${sc.pos + 1}`);
      sc.skipSeparators();
      if (sc.done || !sc.atParam()) break;
    }
  }
}

function readToken68(sc: Scanner): string {
  const start = sc.pos;
  while (TOKEN68.test(sc.peek())) sc.pos++;
  while (sc.peek() === '=') sc.pos++;
  const token = sc.s.slice(start, sc.pos);
  if (!token) fail(`a token was expected at character ${sc.pos + 1}`);
  sc.skipSpace();
  if (!sc.done && sc.peek() !== ',') fail(`unexpected character after a token at character ${sc.pos + 1}`);
  return token;
}

/** Case-insensitive scheme comparison (RFC 9110 11.1). */
export function isScheme(challenge: Challenge, scheme: string): boolean {
  return challenge.scheme.toLowerCase() === scheme.toLowerCase();
}

export interface NegotiateChallenge {
  /** The server's token, when the challenge carries one. */
  token?: Buffer;
}

/**
 * The Negotiate challenge among all the given header values (each may list several challenges), or undefined when
 * there is none. Two Negotiate challenges carrying tokens are ambiguous and refused, as is a token that is not
 * strict base64.
 */
export function findNegotiate(headerValues: readonly string[]): NegotiateChallenge | undefined {
  const found = headerValues.flatMap(parseChallenges).filter((c) => isScheme(c, 'Negotiate'));
  if (found.length === 0) return undefined;
  const withToken = found.filter((c) => c.token68 !== undefined);
  if (withToken.length > 1) fail('more than one Negotiate challenge carries a token');
  const text = withToken[0]?.token68;
  if (text === undefined) return {};
  if (!isBase64(text)) fail('the Negotiate token is not base64');
  return { token: Buffer.from(text, 'base64') };
}
