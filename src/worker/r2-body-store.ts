import type { BodyStore } from "../core/ports.ts";

/** Message bodies in R2: written whole before the 202, streamed out at delivery. */
export class R2BodyStore implements BodyStore {
  readonly #bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.#bucket = bucket;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.#bucket.put(key, bytes, { httpMetadata: { contentType: "message/rfc822" } });
  }

  async get(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const object = await this.#bucket.get(key);
    return object ? (object.body as ReadableStream<Uint8Array>) : null;
  }

  async delete(key: string): Promise<void> {
    await this.#bucket.delete(key);
  }
}
