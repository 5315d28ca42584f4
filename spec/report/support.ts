/**
 * What the report specs share: the messages of one diagnostics channel, waited for with a bound.
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';

/** Every message published on `name` while subscribed, and a bounded wait for the next one that fits. */
export class ChannelLog<M> {
  readonly messages: M[] = [];
  private waiters: Array<{ fits: (message: M) => boolean; resolve: (message: M) => void }> = [];
  private readonly onMessage = (message: unknown): void => {
    this.messages.push(message as M);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.fits(message as M)) return true;
      waiter.resolve(message as M);
      return false;
    });
  };

  constructor(readonly name: string) {
    diagnosticsChannel.subscribe(name, this.onMessage);
  }

  /** Resolves with the first message (already seen or still to come) that `fits`; rejects after `limitMs`. */
  next(fits: (message: M) => boolean = () => true, limitMs = 5000): Promise<M> {
    const seen = this.messages.find(fits);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error(`no message on ${this.name} within ${limitMs} ms`)), limitMs);
      this.waiters.push({
        fits,
        resolve: (message) => {
          clearTimeout(limit);
          resolve(message);
        },
      });
    });
  }

  close(): void {
    diagnosticsChannel.unsubscribe(this.name, this.onMessage);
    this.waiters = [];
  }
}
