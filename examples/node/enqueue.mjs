// Hand numbers to redial from another service (Node.js).
//
//   npm install            # in this folder
//   node enqueue.mjs Payment_Reminders +919876543210 +919876543211
//
// Each number is one XADD to <prefix>:inbox with field `m` = msgpack map
// (docs/INTERFACES.md). The `id` makes a re-send idempotent.
import { randomUUID } from "node:crypto";
import { encode } from "@msgpack/msgpack";
import { createClient } from "redis";

const [campaign, ...numbers] = process.argv.slice(2);
if (!campaign || numbers.length === 0) {
  console.error("usage: node enqueue.mjs CAMPAIGN NUMBER...");
  process.exit(2);
}
const prefix = process.env.REDIAL_PREFIX ?? "{redial}";
const client = createClient({ url: process.env.REDIAL_REDIS_URL ?? "redis://127.0.0.1:6379/0" });
await client.connect();
for (const to of numbers) {
  const job = { v: 1, campaign, to, id: randomUUID() };
  const entry = await client.xAdd(`${prefix}:inbox`, "*", { m: Buffer.from(encode(job)) });
  console.log(`${to}: job ${job.id} (inbox entry ${entry})`);
}
await client.quit();
