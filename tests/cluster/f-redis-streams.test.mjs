// Scenario f: @socket.io/redis-streams-adapter 0.3.1 (XADD/XREAD on the stream
// named after the key, PUBLISH/SUBSCRIBE for requests and responses): 2 wirehub
// nodes + 1 Node socket.io node, random key (stream and channel prefix).
import { contractScenario } from "./contract.mjs";
import { SHARED_REDIS } from "./cluster.mjs";

contractScenario({
  id: "f",
  title: "mixed Redis cluster, streams adapter",
  spec: [{ kind: "wirehub", count: 2 }, { kind: "node", count: 1 }],
  adapter: "redis-streams",
  server: SHARED_REDIS,
});
