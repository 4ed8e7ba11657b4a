// Scenario c: NATS: 3 wirehub nodes only (Node socket.io has no NATS adapter
// of this protocol), random key prefix.
import { contractScenario } from "./contract.mjs";
import { SHARED_NATS } from "./cluster.mjs";

contractScenario({
  id: "c",
  title: "NATS cluster",
  spec: [{ kind: "wirehub", count: 3 }],
  adapter: "nats",
  server: SHARED_NATS,
});
