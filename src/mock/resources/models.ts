/** `GET /v1/models` and `GET /v1/models/{id}`. */
import type { Ctx, MockContext, Route } from '../context.ts';
import type { MockReply } from '../http.ts';
import { modelObject } from '../objects.ts';
import { HttpError } from '../reply.ts';
import { errorEnvelope } from '../wire.ts';

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
    return this.#m.reply.json(ctx, 200, { object: 'list', data: this.#m.options.models.map(modelObject) });
  }

  #get(ctx: Ctx, id: string): MockReply {
    if (!this.#m.options.models.includes(id)) {
      throw new HttpError(404, errorEnvelope(`The model '${id}' does not exist`, 'invalid_request_error', 'model_not_found', 'model'), 'not_found');
    }
    return this.#m.reply.json(ctx, 200, modelObject(id));
  }
}
