/**
 * `GET /v1/models` and `GET /v1/models/{id}`, per API key: with `modelAccess`, a key sees only its
 * models, and any other model is the real 404 `model_not_found`.
 */
import type { Ctx, MockContext, Route } from '../context.ts';
import type { MockReply } from '../http.ts';
import { modelObject } from '../objects.ts';
import { HttpError } from '../reply.ts';
import { errorEnvelope } from '../wire.ts';

/**
 * The real 404 `model_not_found`: for a model the key may not use (the inference wording), or, from
 * `GET /v1/models/{id}`, for an id that does not exist (the retrieve wording).
 */
export function modelNotFound(id: string, retrieve = false): HttpError {
  const message = retrieve ? `The model '${id}' does not exist` : `The model \`${id}\` does not exist or you do not have access to it.`;
  return new HttpError(404, errorEnvelope(message, 'invalid_request_error', 'model_not_found', 'model'), 'not_found');
}

/** Whether the request's key may use `model` (`modelAccess`; a key not listed may use every model). */
export function mayUse(m: MockContext, ctx: Ctx, model: string): boolean {
  const allowed = ctx.key === undefined ? undefined : m.options.modelAccess.get(ctx.key);
  return allowed === undefined || allowed.has(model);
}

export class Models {
  readonly #m: MockContext;

  readonly routes: readonly Route[] = [
    { method: 'GET', path: ['models'], handler: (_r, ctx) => this.#list(ctx) },
    { method: 'GET', path: ['models', ':id'], handler: (_r, ctx, _b, id) => this.#get(ctx, id) },
  ];

  constructor(m: MockContext) {
    this.#m = m;
  }

  #list(ctx: Ctx): MockReply {
    const data = this.#m.options.models.filter((id) => mayUse(this.#m, ctx, id)).map(modelObject);
    return this.#m.reply.json(ctx, 200, { object: 'list', data });
  }

  #get(ctx: Ctx, id: string): MockReply {
    if (!this.#m.options.models.includes(id)) throw modelNotFound(id, true);
    if (!mayUse(this.#m, ctx, id)) throw modelNotFound(id);
    return this.#m.reply.json(ctx, 200, modelObject(id));
  }
}
