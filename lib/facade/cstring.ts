// The one check for every JavaScript string (or byte string) that becomes a C string: a NUL inside it would end the
// C string there, so `HTTP/localhost\0.evil.example` would silently be `HTTP/localhost` to the GSS library, krb5,
// secur32 or the loader (koffi passes `const char *` and `const char16_t *` arguments as NUL-terminated copies).
// An application that checked the whole string against an allow-list would then authenticate to, log on with or load
// something else than what it checked. The API calls this for each such parameter before any native call, and the
// places that hand text to C call it again (defence in depth, same function, same message).

/**
 * Returns `value` when it holds no NUL (U+0000, or a 0 byte); otherwise throws a TypeError naming `parameter`. The
 * message never contains the value: it may be a password.
 */
export function checkCString<T extends string | Uint8Array>(value: T, parameter: string): T {
  if (typeof value === 'string' ? value.includes('\0') : value.includes(0)) {
    throw new TypeError(`${parameter} must not contain a NUL character (it would end the C string there)`);
  }
  return value;
}
