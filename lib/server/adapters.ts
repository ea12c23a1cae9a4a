// Thin adapters of the HTTP acceptor for Fastify 5 and Koa 3. They are written against the frameworks' shapes only
// (structural types below), so the library depends on neither: the frameworks are the application's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { negotiate, type NegotiateDecision, type NegotiateMiddlewareOptions } from './middleware.js';
import type { NegotiateIdentity } from './types.js';

/** What the Fastify hook uses of a request and a reply (Fastify 5). */
interface FastifyRequestLike { raw: IncomingMessage; negotiate?: NegotiateIdentity }
interface FastifyReplyLike {
  raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body?: unknown): FastifyReplyLike;
}

/** What the Koa middleware uses of a context (Koa 3). */
interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  state: Record<string, unknown>;
  status: number;
  body: unknown;
  set(name: string, value: string): void;
}

/**
 * A Fastify `onRequest` hook: `fastify.addHook('onRequest', negotiateFastify(options))`, or on one route
 * (`{ onRequest: negotiateFastify(options) }`). Sets `request.negotiate` (and `request.raw.negotiate`). Declare it
 * first with `fastify.decorateRequest('negotiate', null)` for Fastify's request shape.
 */
export function negotiateFastify(options: NegotiateMiddlewareOptions): ((request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<FastifyReplyLike | undefined>) & { close(): void } {
  const handler = negotiate(options);
  const hook = async (request: FastifyRequestLike, reply: FastifyReplyLike): Promise<FastifyReplyLike | undefined> => {
    const decision: NegotiateDecision = await handler.decide(request.raw, reply.raw);
    for (const [name, value] of Object.entries(decision.headers)) reply.header(name, value);
    if (decision.action === 'reply') {
      // Returning the reply from an async hook ends the request there (Fastify's documented way).
      return reply.code(decision.status).send(decision.body);
    }
    request.negotiate = decision.identity;
    return undefined;
  };
  return Object.assign(hook, { close: () => handler.close() });
}

/** A Koa middleware: `app.use(negotiateKoa(options))`. Sets `ctx.state.negotiate` (and `ctx.req.negotiate`). */
export function negotiateKoa(options: NegotiateMiddlewareOptions): ((ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>) & { close(): void } {
  const handler = negotiate(options);
  const middleware = async (ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> => {
    const decision = await handler.decide(ctx.req, ctx.res);
    for (const [name, value] of Object.entries(decision.headers)) ctx.set(name, value);
    if (decision.action === 'reply') {
      ctx.status = decision.status;
      ctx.body = decision.body;
      return;
    }
    ctx.state.negotiate = decision.identity;
    await next();
  };
  return Object.assign(middleware, { close: () => handler.close() });
}
