// The forms in which bytes of a token show when something prints it: util.inspect of a Buffer (spaced hex of its
// first bytes), JSON of a Buffer ([96,130,...]) or of a Uint8Array ({"0":96,...}), base64 (an HTTP header), hex.
// A prefix is enough: every such form starts at the first byte.

/** The forms of `token` that a leak would print, by name. */
export function tokenForms(token: Uint8Array): Record<string, string> {
  const bytes = Buffer.from(token);
  const head = bytes.subarray(0, 24);
  const forms: Record<string, string> = {
    base64: bytes.subarray(0, Math.min(bytes.length - (bytes.length % 3), 48)).toString('base64'),
    hex: head.toString('hex'),
    'inspected Buffer (spaced hex)': head.toString('hex').replace(/(..)(?!$)/g, '$1 '),
    'JSON of a Buffer': JSON.stringify(Array.from(head)).slice(1, -1),
    'JSON of a Uint8Array': JSON.stringify(new Uint8Array(head)).slice(1, -1),
  };
  // The end of the token too: its first bytes (header, mechanism, ticket) are shared by every token for a service.
  const tailStart = Math.max(0, Math.floor((bytes.length - 48) / 3) * 3);
  forms['base64 (end)'] = bytes.subarray(tailStart).toString('base64');
  forms['hex (end)'] = bytes.subarray(-24).toString('hex');
  if (Object.values(forms).some((f) => f.length < 16)) throw new Error('tokenForms: the token is too short to be recognised reliably');
  return forms;
}

/**
 * The names of the forms of `token` found in `text` (none, when nothing leaked). Names only: a failing assertion
 * must not print the token it found.
 */
export function leakedForms(text: string, token: Uint8Array): string[] {
  return Object.entries(tokenForms(token)).filter(([, form]) => text.includes(form)).map(([name]) => name);
}
