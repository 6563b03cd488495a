/**
 * A process-local meeting point between webhook deliveries and waiters. Webhooks accelerate; polling
 * still guarantees: a waiter subscribed here wakes as soon as a webhook reports its id, but it keeps
 * its own polling schedule in case the webhook never comes.
 */

/** What a subscriber receives: the object the webhook handler retrieved, when it has one. */
export type HubListener = (object: unknown) => void;

/** See {@link createResultHub}. */
export interface ResultHub {
  /** Report news for `id` (usually a terminal object retrieved after a webhook). */
  notify(id: string, object?: unknown): void;
  /** Listen for news about `id`; returns the function that stops listening. */
  subscribe(id: string, listener: HubListener): () => void;
  /** How many ids have listeners (for tests and metrics). */
  readonly size: number;
}

/** Create an empty hub. No global state: pass the same hub to the webhook handler and to waiters. */
export function createResultHub(): ResultHub {
  const listeners = new Map<string, Set<HubListener>>();
  return {
    notify(id, object) {
      const set = listeners.get(id);
      if (set === undefined) return;
      for (const listener of [...set]) {
        try {
          listener(object);
        } catch {
          // A listener's bug must not stop the others (and a webhook handler must still answer 2xx).
        }
      }
    },
    subscribe(id, listener) {
      let set = listeners.get(id);
      if (set === undefined) {
        set = new Set();
        listeners.set(id, set);
      }
      set.add(listener);
      return () => {
        const s = listeners.get(id);
        if (s === undefined) return;
        s.delete(listener);
        if (s.size === 0) listeners.delete(id);
      };
    },
    get size() {
      return listeners.size;
    },
  };
}
