// Hand numbers to redial from another service (Node.js).
//
//   npm install            # in this folder
//   node enqueue.mjs Payment_Reminders +919876543210 +919876543211
//
// Each number is one XADD to <prefix>:inbox with field `m` = msgpack map (the
// inbox format: docs/REDIS.md, "Keys"). The `id` makes a re-send idempotent.
// Then it waits (REDIAL_WAIT_S seconds, default 30, 0 = do not) for an engine
// to take each entry and prints its fate: `accepted`, or `dead-lettered` with
// the engine's reason (fix it, then `redial-cli deadletter replay ID`).
// Exit status: 0 all accepted, 1 some dead-lettered or not taken, 2 usage.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { encode } from "@msgpack/msgpack";
import { createClient } from "redis";

const [campaign, ...numbers] = process.argv.slice(2);
if (!campaign || numbers.length === 0) {
  console.error("usage: node enqueue.mjs CAMPAIGN NUMBER...");
  process.exit(2);
}
const prefix = process.env.REDIAL_PREFIX ?? "{redial}";
const waitS = Number(process.env.REDIAL_WAIT_S ?? 30);
const client = createClient({ url: process.env.REDIAL_REDIS_URL ?? "redis://127.0.0.1:6379/0" });
await client.connect();
const sent = new Map(); // inbox entry id -> [number, job id]
for (const to of numbers) {
  const job = { v: 1, campaign, to, id: randomUUID() };
  const entry = await client.xAdd(`${prefix}:inbox`, "*", { m: Buffer.from(encode(job)) });
  sent.set(entry, [to, job.id]);
  console.log(`${to}: job ${job.id} sent (inbox entry ${entry})`);
}
let bad = 0;
if (waitS > 0) {
  // The engine deletes an inbox entry once it has judged it.
  const deadline = Date.now() + waitS * 1000;
  let pending = [...sent.keys()];
  while (pending.length && Date.now() < deadline) {
    const still = [];
    for (const e of pending)
      if ((await client.xRange(`${prefix}:inbox`, e, e)).length) still.push(e);
    pending = still;
    if (pending.length) await sleep(200);
  }
  // Dead letters name the refused inbox entry in their `entry` field.
  const dead = new Map();
  const recent = await client.xRevRange(`${prefix}:deadletter`, "+", "-",
                                        { COUNT: Math.max(1000, 4 * sent.size) });
  for (const { message } of recent) dead.set(message.entry, message.reason);
  for (const [entry, [to, id]] of sent) {
    if (pending.includes(entry)) {
      bad++;
      console.log(`${to}: job ${id} still in the inbox after ${waitS} s (is an engine running?)`);
    } else if (dead.has(entry)) {
      bad++;
      console.log(`${to}: job ${id} dead-lettered: ${dead.get(entry)}`);
    } else {
      console.log(`${to}: job ${id} accepted`);
    }
  }
}
await client.quit();
process.exit(bad ? 1 : 0);
