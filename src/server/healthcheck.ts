// `node --import tsx src/server/healthcheck.ts [host:port]`: exits 0 when grpc.health.v1
// reports SERVING, 1 otherwise. The container's HEALTHCHECK uses it.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";

const target = process.argv[2] ?? "127.0.0.1:8002";
const client = createClient(Health, createGrpcTransport({ baseUrl: `http://${target}` }));
try {
  const { status } = await client.check({ service: "" }, { timeoutMs: 3000 });
  console.log(HealthCheckResponse_ServingStatus[status]);
  process.exit(status === HealthCheckResponse_ServingStatus.SERVING ? 0 : 1);
} catch (error) {
  console.error(`health check failed: ${(error as Error).message}`);
  process.exit(1);
}
