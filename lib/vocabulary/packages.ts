// Public words that name choices rather than SSPI constants: the security package, and the acceptor's channel-binding
// policy. Defined here, in the vocabulary, so that every layer (providers, facade, client, server) may use them.

/** The SSPI security package: `Negotiate` (SPNEGO, RFC 4178) or `Kerberos` (raw RFC 4121 tokens). */
export type PackageName = 'Negotiate' | 'Kerberos';

/** Channel bindings on the acceptor, as .NET's ExtendedProtectionPolicy: docs/api.md, "The acceptor". */
export type BindingsPolicy = 'required' | 'when-supported' | 'never';
