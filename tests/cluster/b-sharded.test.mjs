// Scenario b: Redis sharded Pub/Sub (createShardedAdapter, SPUBLISH/SSUBSCRIBE,
// Redis >= 7): 2 wirehub nodes + 1 Node socket.io node, random channelPrefix.
import { contractScenario } from "./contract.mjs";
import { SHARED_REDIS } from "./cluster.mjs";

contractScenario({
  id: "b",
  title: "mixed Redis cluster, sharded adapter",
  spec: [{ kind: "wirehub", count: 2 }, { kind: "node", count: 1 }],
  adapter: "redis-sharded",
  server: SHARED_REDIS,
});
