// Follow redial's results from another service (Node.js).
//
//   node consume_events.mjs [GROUP] [COUNT]
//
// Reads <prefix>:events through a consumer group (at-least-once: handle each
// event idempotently on job id + attempt) and acknowledges what it printed.
import { hostname } from "node:os";
import { decode } from "@msgpack/msgpack";
import { createClient, commandOptions } from "redis";

const group = process.argv[2] ?? "example";
const limit = Number(process.argv[3] ?? 0);
const prefix = process.env.REDIAL_PREFIX ?? "{redial}";
const stream = `${prefix}:events`;
const consumer = `${hostname()}-${process.pid}`;
const client = createClient({ url: process.env.REDIAL_REDIS_URL ?? "redis://127.0.0.1:6379/0" });
await client.connect();
try {
  await client.xGroupCreate(stream, group, "0", { MKSTREAM: true });
} catch (e) {
  if (!String(e).includes("BUSYGROUP")) throw e;
}
let seen = 0;
while (limit === 0 || seen < limit) {
  // Never read more than is left to process: entries read but not acked
  // would stay pending for this consumer.
  const batch = limit === 0 ? 100 : Math.min(100, limit - seen);
  const res = await client.xReadGroup(
    commandOptions({ returnBuffers: true }), group, consumer,
    { key: stream, id: ">" }, { COUNT: batch, BLOCK: 5000 });
  for (const { messages } of res ?? []) {
    for (const { id, message } of messages) {
      const ev = decode(message.m);
      if (ev.type === "attempt") console.log(`attempt ${ev.id} #${ev.attempt} ${ev.to}: ${ev.outcome}`);
      else console.log(`final   ${ev.id} ${ev.to}: ${ev.disposition} after ${ev.attempts} attempts`);
      await client.xAck(stream, group, id);
      seen++;
    }
  }
}
await client.quit();
