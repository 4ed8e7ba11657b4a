// Scenario a: a mixed cluster on one Redis, classic adapter (createAdapter):
// 3 wirehub nodes + 1 Node socket.io node, random key prefix.
import { contractScenario } from "./contract.mjs";
import { SHARED_REDIS } from "./cluster.mjs";

contractScenario({
  id: "a",
  title: "mixed Redis cluster, classic adapter",
  spec: [{ kind: "wirehub", count: 3 }, { kind: "node", count: 1 }],
  adapter: "redis",
  server: SHARED_REDIS,
});
